"""Members as Hive accounts: /link opens a code, a custom_json on chain or a signed text proves the account,
/unlink ends it. Whoever acts on links (roles, mentions) registers with on_linked / on_unlinked."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from bot.domain import Link, LinkChange
from bot.services import Refused
from bot.store.store import Store

log = logging.getLogger("hivecord.links")

# Told a member and an account: (Discord user id, Hive account).
LinkListener = Callable[[int, str], Awaitable[None]]


class LinkService:
    """The use cases of linking. Listeners hear every pairing made and ended, whichever path made it:
    a link that moves is an on_unlinked for the old pairing, then an on_linked for the new one."""

    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock
        self._linked: list[LinkListener] = []
        self._unlinked: list[LinkListener] = []
        store.links.chain_listener = self._chain_changed

    def on_linked(self, listener: LinkListener) -> None:
        """`listener(user_id, account)` is awaited after each new pairing is committed."""
        self._linked.append(listener)

    def on_unlinked(self, listener: LinkListener) -> None:
        """`listener(user_id, account)` is awaited after each pairing ends (an /unlink, or a link that moved)."""
        self._unlinked.append(listener)

    async def account_of(self, user_id: int) -> str | None:
        return await self._store.links.account_of(user_id)

    async def user_of(self, account: str) -> int | None:
        return await self._store.links.user_of(account)

    async def all_links(self) -> list[Link]:
        return await self._store.links.all_links()

    async def unlink(self, user_id: int) -> Link:
        link = await self._store.links.unlink(user_id)
        if link is None:
            raise Refused("You have no Hive account linked.")
        await self._announce([LinkChange(linked=None, unlinked=(link,))])
        return link

    def now(self) -> float:
        return self._clock()

    def new_code(self) -> str:
        return secrets.token_urlsafe(9)

    def iso_now(self) -> str:
        return datetime.fromtimestamp(self._clock(), UTC).isoformat(timespec="seconds")

    async def _chain_changed(self, changes: Sequence[LinkChange]) -> None:
        await self._announce(changes)

    async def _announce(self, changes: Sequence[LinkChange]) -> None:
        for change in changes:
            for old in change.unlinked:
                await self._tell(self._unlinked, old)
            if change.linked is not None:
                await self._tell(self._linked, change.linked)

    async def _tell(self, listeners: list[LinkListener], link: Link) -> None:
        for listener in listeners:
            try:
                await listener(link.user_id, link.account)
            except Exception:
                # One listener's failure must not stop the follower nor the others.
                log.exception("a link listener failed for user %d and @%s", link.user_id, link.account)
