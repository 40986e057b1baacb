"""hivemind's community lists: ``bridge.list_subscribers`` (a community's subscribers) and
``bridge.list_community_roles`` (its roles), each paged by the last name seen."""

from __future__ import annotations

from typing import Any

from ..chain_gen import dump_json
from .errors import arg, bridge_error


class SubscribersApi:
    # community -> [[account, role, title, created_at]] in the order they subscribed
    subscribers: dict[str, list[list[str]]]
    # community -> [[account, role, title]]; served in hivemind's order (highest role first, then name)
    community_roles: dict[str, list[list[str]]]
    communities: dict[str, dict[str, Any]]

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

    def _bridge_list_community_roles(self, params: Any) -> bytes:
        """As hivemind: every account whose role is not guest (or that has a title), owner first, then
        admins, mods, members, and the muted last; at most `limit` (1..1000, 50 by default) after `last`."""
        community = str(arg(params, "community", ""))
        limit = int(arg(params, "limit", 50, 2))
        if not 0 < limit <= 1000:
            raise bridge_error(f"limit = {limit} outside valid range [1:1000]")
        if community not in self.community_roles and community not in self.communities:
            raise bridge_error("community not found")
        rows = [r for r in self.community_roles.get(community, []) if r[1] != "guest" or r[2]]
        rows.sort(key=lambda r: (-_RANKS[r[1]], r[0]))
        last = arg(params, "last", "", 1) or ""
        offset = 0
        if last:
            names = [r[0] for r in rows]
            if last not in names:
                raise bridge_error(f"invalid account {last}")
            offset = names.index(last) + 1
        return dump_json(rows[offset : offset + limit])


_RANKS = {"muted": -2, "guest": 0, "member": 2, "mod": 4, "admin": 6, "owner": 8}
