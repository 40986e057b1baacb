"""What /status reports of one server's delivery: its backlog and its lanes by state."""

from __future__ import annotations

import time

from bot.domain import DAY, LaneCounts
from bot.store.store import Store


class DeliveryStatus:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def backlog(self, guild_id: int) -> int:
        return await self._store.backlog.pending_count(guild_id)

    async def stored_block(self) -> tuple[int | None, str]:
        """The last block stored and its chain time, as the database holds them: what /status shows in
        a process that does not follow the chain itself (another one, elected, does)."""
        cursor = await self._store.db.cursor()
        return cursor, await self._store.db.get_meta("cursor_time") or ""

    async def lanes(self, guild_id: int) -> LaneCounts:
        """The server's lanes by state, and its sends Discord rejected (400) in the last day."""
        now = time.time()
        return await self._store.backlog.lane_counts(guild_id, now, now - DAY)
