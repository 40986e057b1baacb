"""Refused delivery lanes get one more try when something changed that may have fixed them."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bot.store.store import Store


class LaneService:
    def __init__(self, store: Store, wake: Callable[[], None]) -> None:
        self._store = store
        self._wake = wake

    async def retry(self, lanes: Iterable[int]) -> None:
        """A permission update in these channels: each refused lane becomes a single probe."""
        if await self._store.jobs.release_lanes(list(lanes)):
            self._wake()

    async def member_back(self, user_id: int) -> None:
        """The member ran a command: their DM lane (and where they subscribed from) may try again."""
        await self.retry(await self._store.jobs.member_lanes(user_id))
