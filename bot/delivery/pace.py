"""A shared send rate: sends spaced evenly across every channel and DM."""

from __future__ import annotations

import asyncio
import time
from collections import deque

import aiohttp


class Pace:
    """At most `rate` sends a second across all channels, so a backlog drains without bursts."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            if self._next > now:
                await asyncio.sleep(self._next - now)
            self._next = max(now, self._next) + self.interval


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
