"""A shared send rate: sends spaced evenly across every channel and DM."""

from __future__ import annotations

import asyncio
import time


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
