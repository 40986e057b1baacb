"""The lane senders: one task per lane with work, and only while this process holds the lane's claim.

With several processes on one PostgreSQL each lane is claimed (bot/store/coordination.py) before its
sender starts and released once it is drained, so two processes never send the same lane, in order or
not. When the claims are lost with their connection, every sender is cancelled at once: another process
may already be sending those lanes, and it resends the job in hand with the same nonce.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from functools import partial

from bot.domain import is_dm_lane
from bot.store.coordination import Coordination

log = logging.getLogger("hivecord.delivery")

DM_LANES_AT_ONCE = 64
CLAIM_AGAIN_AFTER = 2.0  # seconds before a lane another process holds is tried again


class Senders:
    def __init__(
        self,
        coordination: Coordination,
        drain: Callable[[int], Awaitable[None]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._coordination = coordination
        self._drain = drain
        self._clock = clock
        self._tasks: dict[int, asyncio.Task[None]] = {}
        # Lanes held in memory when even recording their failure failed (monotonic deadline).
        self._held: dict[int, float] = {}
        # DM lanes drain a few at a time: thousands of senders started at once would queue
        # thousands of reads ahead of the first send, and the request budget would sit idle.
        self._dm_senders = asyncio.Semaphore(DM_LANES_AT_ONCE)

    def start(self, lanes: Iterable[int]) -> None:
        """A sender for each lane that has none and is not held; each ends by itself once drained."""
        for lane in lanes:
            if lane not in self._tasks and not self.is_held(lane):
                task = asyncio.create_task(self._send(lane))
                self._tasks[lane] = task
                task.add_done_callback(partial(self._ended, lane))

    def _ended(self, lane: int, done: asyncio.Task[None]) -> None:
        if self._tasks.get(lane) is done:
            del self._tasks[lane]

    def hold(self, lane: int, seconds: float) -> None:
        self._held[lane] = self._clock() + seconds

    def is_held(self, lane: int) -> bool:
        until = self._held.get(lane)
        if until is None:
            return False
        if until > self._clock():
            return True
        del self._held[lane]
        return False

    async def _send(self, lane: int) -> None:
        if is_dm_lane(lane):
            async with self._dm_senders:
                await self._claimed(lane)
        else:
            await self._claimed(lane)

    async def _claimed(self, lane: int) -> None:
        if not await self._coordination.claim_lane(lane):
            # Another process sends it: asked again in a while, not at every pass (one round trip each).
            self.hold(lane, CLAIM_AGAIN_AFTER)
            return
        try:
            await self._drain(lane)
        finally:
            await self._coordination.release_lane(lane)

    def abandon(self) -> None:
        """The lane claims are gone: every sender stops now, whatever it was doing."""
        if self._tasks:
            log.warning("lane claims lost: stopping %d sender(s)", len(self._tasks))
        for task in self._tasks.values():
            task.cancel()

    async def settled(self) -> None:
        """Waits until no sender runs (after abandon(), before claiming lanes again)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks.values()))

    async def stop(self, grace: float) -> None:
        """Lets each lane finish the send in hand (so its answer is recorded), for up to `grace` seconds."""
        senders = [t for t in self._tasks.values() if not t.done()]
        if senders:
            _, pending = await asyncio.wait(senders, timeout=grace)
            if pending:
                log.warning("%d send(s) still in hand after %g s; cancelling them", len(pending), grace)
            for task in pending:
                task.cancel()
