"""/notify: which personal notices a linked author gets by DM (curator upvotes, HiveBuzz badges)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain import NotifyPrefs
from bot.services import Refused
from bot.store.store import Store

NOT_LINKED = (
    "Notices are for linked authors: link your Hive account first with `/link account:NAME`, then run `/notify` again."
)


class NoticeService:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def set(self, user_id: int, *, votes: bool | None, badges: bool | None) -> tuple[str, NotifyPrefs]:
        """Changes the choices given (None keeps one as it was); returns the linked account and the choices."""
        account = await self._store.links.account_of(user_id)
        if account is None:
            raise Refused(NOT_LINKED)
        current = await self._store.notices.prefs(user_id)
        prefs = NotifyPrefs(
            votes=current.votes if votes is None else votes,
            badges=current.badges if badges is None else badges,
        )
        await self._store.notices.set_prefs(user_id, prefs, datetime.now(UTC).isoformat(timespec="seconds"))
        return account, prefs
