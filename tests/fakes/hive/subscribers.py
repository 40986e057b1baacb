"""hivemind's ``bridge.list_subscribers``: a community's subscribers, paged by the last name seen."""

from __future__ import annotations

from typing import Any

from ..chain_gen import dump_json
from .errors import arg, bridge_error


class SubscribersApi:
    # community -> [[account, role, title, created_at]] in the order they subscribed
    subscribers: dict[str, list[list[str]]]

    def _bridge_list_subscribers(self, params: Any) -> bytes:
        community = str(arg(params, "community", ""))
        limit = int(arg(params, "limit", 100))
        if not 0 < limit <= 100:
            raise bridge_error(f"limit = {limit} outside valid range [1:100]")
        if community not in self.subscribers:
            raise bridge_error("community not found")
        rows = self.subscribers[community]
        last = arg(params, "last", "") or ""
        offset = 0
        if last:
            names = [r[0] for r in rows]
            if last not in names:
                raise bridge_error(f"invalid subscriber {last}")
            offset = names.index(last) + 1
        return dump_json(rows[offset : offset + limit])
