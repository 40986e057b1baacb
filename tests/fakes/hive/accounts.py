"""Accounts and community subscribers: ``condenser_api.get_accounts`` and ``bridge.list_subscribers``."""

from __future__ import annotations

from typing import Any

from ..chain_gen import dump_json
from .errors import arg, assert_error, bridge_error


def account(name: str, *, reputation: int = 0, posting_keys: list[str] | None = None) -> dict[str, Any]:
    """An account as condenser_api.get_accounts shows it (the fields hivecord reads, and their neighbours)."""
    keys = [[k, 1] for k in posting_keys or []]
    return {
        "id": abs(hash(name)) % 10**6,
        "name": name,
        "owner": {"weight_threshold": 1, "account_auths": [], "key_auths": []},
        "active": {"weight_threshold": 1, "account_auths": [], "key_auths": []},
        "posting": {"weight_threshold": 1, "account_auths": [], "key_auths": keys},
        "memo_key": "STM1111111111111111111111111111111114T1Anm",
        "json_metadata": "",
        "posting_json_metadata": "",
        "reputation": reputation,
        "post_count": 0,
        "created": "2020-01-01T00:00:00",
    }


class AccountsApi:
    accounts: dict[str, dict[str, Any]]
    # community -> [[account, role, title, created_at]] in the order they subscribed
    subscribers: dict[str, list[list[str]]]

    def _condenser_get_accounts(self, params: Any) -> bytes:
        names = arg(params, "accounts", [], index=0)
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise assert_error("names must be a list of account names")
        if len(names) > 1000:
            raise assert_error("names.size() <= 1000")
        return dump_json([self.accounts[n] for n in names if n in self.accounts])

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
