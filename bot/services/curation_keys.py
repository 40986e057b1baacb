"""Which communities' curation accounts can vote: a key in the environment that the chain lists as the
account's posting key. A key the chain does not list turns curation off for that community, once, in
one log line; the rest of the bot runs on."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.hive.client import HiveClient
from bot.hive.curation_keys import KeyState, judge
from bot.hive.posting_key import PostingKey
from bot.hive.rpc import VOTE_DEADLINE, HiveUnavailable, RpcError

log = logging.getLogger("hivecord.curation")



class CurationKeys:
    """Each community's curation account and the key it signs with; `usable()` says which may vote."""

    def __init__(self, hive: HiveClient, accounts: Mapping[str, str], keys: Mapping[str, PostingKey]) -> None:
        self._hive = hive
        self.accounts = dict(accounts)  # community -> account
        self._keys = dict(keys)  # account -> key
        self._checked: dict[str, bool] = {}  # account -> the chain lists its key (absent: not asked yet)
        for community, account in self.accounts.items():
            if account not in self._keys:
                log.info("curation for %s is off: no posting key for @%s in the environment", community, account)

    def account(self, community: str) -> str | None:
        return self.accounts.get(community)

    def key(self, account: str) -> PostingKey | None:
        return self._keys.get(account)

    def usable(self, community: str) -> bool:
        """A key is held and the chain has not said it is not the account's (not asked yet counts as usable:
        the first vote asks)."""
        account = self.accounts.get(community)
        return account is not None and account in self._keys and self._checked.get(account, True)

    def off_reason(self, community: str) -> str:
        account = self.accounts.get(community)
        if account is None:
            return f"{community} has no curation account in this bot's config"
        if account not in self._keys:
            return f"the bot holds no posting key for @{account}"
        return f"the key the bot holds is not a posting key of @{account}; the bot's operator must fix it"

    async def verify(self, account: str) -> bool | None:
        """Whether the held key is one of `account`'s posting keys, asking the chain only the first time (a
        refused broadcast marks it again); None while no node has answered."""
        if account in self._checked:
            return self._checked[account]
        key = self._keys.get(account)
        if key is None:
            return False
        try:
            answer: list[Any] = await self._hive.call(
                "condenser_api.get_accounts", [[account]], list[Any], deadline=VOTE_DEADLINE
            )
        except (HiveUnavailable, RpcError) as exc:
            log.warning("cannot check the posting key of @%s yet: %s", account, exc)
            return None
        community = next(c for c, a in self.accounts.items() if a == account)
        found = judge(community, account, key, answer[0] if answer else None)
        ok = found.state is KeyState.POSTING
        self.mark(account, ok, found.detail)
        return ok

    def mark(self, account: str, ok: bool, why: str = "") -> None:
        """Records what the chain said of the account's key (a refused broadcast says it too)."""
        was = self._checked.get(account)
        self._checked[account] = ok
        if not ok and was is not False:
            communities = ", ".join(c for c, a in self.accounts.items() if a == account)
            log.error(
                "curation for %s is off: the key in the environment is not a posting key of @%s%s"
                " (check it with `hivecord check-config`)",
                communities,
                account,
                f" ({why})" if why else "",
            )
        elif ok and was is None:
            log.info("curation key of @%s checked: it is one of the account's posting keys", account)

    async def verify_all(self) -> bool:
        """Checks every held key once; False while some node did not answer (the caller tries again)."""
        answered = True
        for account in sorted(set(self.accounts.values()) & set(self._keys)):
            if account not in self._checked and await self.verify(account) is None:
                answered = False
        return answered
