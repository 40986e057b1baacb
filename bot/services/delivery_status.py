"""What /status reports of delivery: the backlog and the lanes by state."""

from __future__ import annotations

import time

from bot.domain import DAY, LaneCounts
from bot.store.store import Store


class DeliveryStatus:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def backlog(self) -> int:
        return await self._store.jobs.pending_count()

    async def lanes(self) -> LaneCounts:
        """Lanes by state, and the sends Discord rejected (400) in the last day."""
        now = time.time()
        return await self._store.jobs.lane_counts(now, now - DAY)
