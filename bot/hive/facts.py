"""Hive facts that roles are given by, read in bulk: a community's subscribers and team, accounts' reputation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.hive.client import HiveClient
from bot.hive.identity import read_account, reputation_score
from bot.hive.names import is_account

SUBSCRIBERS_PAGE = 100  # bridge.list_subscribers answers at most 100 a call
ACCOUNTS_PAGE = 100
DEADLINE = 30.0


async def subscribers(hive: HiveClient, community: str, *, limit: int = 100_000) -> list[str]:
    """Every account subscribed to `community`, paged by the last name seen."""
    found: list[str] = []
    last = ""
    while len(found) < limit:
        page: Any = await hive.call(
            "bridge.list_subscribers",
            {"community": community, "last": last, "limit": SUBSCRIBERS_PAGE},
            deadline=DEADLINE,
        )
        names = [str(row[0]) for row in page or [] if isinstance(row, list) and row and isinstance(row[0], str)]
        found += [n for n in names if is_account(n)]
        if len(names) < SUBSCRIBERS_PAGE or names[-1] == last:
            break
        last = names[-1]
    return found


async def team(hive: HiveClient, community: str) -> list[str]:
    """The accounts holding a team role (owner, admin, mod) in `community`, from bridge.get_community."""
    info: Any = await hive.call("bridge.get_community", {"name": community}, deadline=DEADLINE)
    rows = info.get("team") if isinstance(info, dict) else None
    return [str(m[0]) for m in rows or [] if isinstance(m, list) and m and isinstance(m[0], str) and is_account(m[0])]


async def reputations(hive: HiveClient, accounts: Sequence[str]) -> dict[str, float]:
    """Reputation scores of `accounts` (those the node knows), from condenser_api.get_accounts in pages."""
    names = sorted({a for a in accounts if is_account(a)})
    scores: dict[str, float] = {}
    for start in range(0, len(names), ACCOUNTS_PAGE):
        rows: Any = await hive.call(
            "condenser_api.get_accounts", [names[start : start + ACCOUNTS_PAGE]], deadline=DEADLINE
        )
        for row in rows or []:
            account = read_account(row)
            if account is not None:
                scores[account.name] = round(reputation_score(account.reputation), 2)
    return scores
