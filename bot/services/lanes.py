"""Refused delivery lanes get one more try when something changed that may have fixed them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from bot.store.store import Store


class LaneService:
    def __init__(self, store: Store, wake: Callable[[], None], *, every: float) -> None:
        self._store = store
        self._wake = wake
        self.every = every  # seconds between two probes of a lane refused again

    async def retry(self, lanes: Iterable[int]) -> None:
        """A permission update in these channels: each refused lane becomes a single probe, at once
        the first time, then at most once per `every` seconds (a lane waiting for its probe is not
        refused, so a flood of updates costs one read each and no request)."""
        if await self._store.jobs.release_lanes(list(lanes), now=time.time(), every=self.every):
            self._wake()

    async def member_back(self, user_id: int) -> None:
        """The member ran a command: their DM lane (and where they subscribed from) may try again."""
        await self.retry(await self._store.jobs.member_lanes(user_id))
