"""A shared send rate: sends spaced evenly across every channel and DM."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Hashable

import aiohttp


class Pace:
    """At most `rate` sends a second across all channels, so a backlog drains without bursts."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = asyncio.Lock()

    def set_rate(self, rate: float) -> None:
        self.interval = 1.0 / rate

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            if self._next > now:
                await asyncio.sleep(self._next - now)
            self._next = max(now, self._next) + self.interval


class FairPace:
    """At most `rate` sends a second, handed out round-robin over groups (servers), FIFO within one.

    A plain FIFO pace lets a server with thousands of busy lanes (a reply flood over many threads)
    queue ahead of every other server's next send. Here each group waiting takes one turn per round,
    so a new send of another group waits at most one send of each group already waiting, however
    many lanes those groups have.
    """

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        # Insertion order is turn order: a group served goes to the back if it still waits.
        self._queues: dict[Hashable, deque[asyncio.Future[None]]] = {}
        self._dispatcher: asyncio.Task[None] | None = None

    def set_rate(self, rate: float) -> None:
        """From the next turn on (the share of a rate several processes send at changed)."""
        self.interval = 1.0 / rate

    async def wait(self, group: Hashable = None) -> None:
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queues.setdefault(group, deque()).append(turn)
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._dispatch())
        await turn

    async def _dispatch(self) -> None:
        while self._queues:
            now = time.monotonic()
            if self._next > now:
                await asyncio.sleep(self._next - now)
            turn = self._take()
            if turn is None:
                return
            turn.set_result(None)
            self._next = max(now, self._next) + self.interval

    def _take(self) -> asyncio.Future[None] | None:
        """The next group's oldest waiter still waiting (a cancelled one gave up its turn)."""
        while self._queues:
            group = next(iter(self._queues))
            queue = self._queues.pop(group)
            while queue and queue[0].done():
                queue.popleft()
            if not queue:
                continue
            turn = queue.popleft()
            if queue:
                self._queues[group] = queue
            return turn
        return None


class WireWindow:
    """At most `limit` requests to Discord in any one second, counted as each leaves for the wire.

    Sends are paced (Pace) before discord.py gets them, but a loaded event loop can hold some back
    and let them go together; and discord.py retries a 429 by itself, outside any pace. Counted in
    aiohttp's request-start hook, both stay under Discord's global limit, which is what turns a
    first 429 into a cascade of them. Interaction answers are not held: Discord does not count
    them, and they must go out within 3 s.
    """

    def __init__(self, limit: int, window: float = 1.0) -> None:
        self.limit = max(1, limit)
        self.window = window
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()

    def trace(self) -> aiohttp.TraceConfig:
        config = aiohttp.TraceConfig()
        config.on_request_start.append(self._on_request_start)
        return config

    async def _on_request_start(
        self, _session: aiohttp.ClientSession, _context: object, params: aiohttp.TraceRequestStartParams
    ) -> None:
        if "/interactions/" not in params.url.path:
            await self.wait()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            while self._sent and now - self._sent[0] >= self.window:
                self._sent.popleft()
            if len(self._sent) >= self.limit:
                await asyncio.sleep(self._sent[0] + self.window - now)
                now = time.monotonic()
                self._sent.popleft()
            self._sent.append(now)
