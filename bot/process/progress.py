"""Ingest progress: a bar on a terminal, a log line every few seconds elsewhere."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import TextIO

from bot.ingest.follower import Progress

log = logging.getLogger("hivecord.ingest")


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


class ProgressReporter:
    def __init__(
        self,
        first_block: int,
        stream: TextIO | None = None,
        log_every: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.first_block = first_block
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.log_every = log_every
        self.clock = clock
        # None until the first line: a monotonic clock's zero is arbitrary (boot time on Linux), so
        # no number can stand for "long ago".
        self._last: float | None = None

    def __call__(self, p: Progress) -> None:
        rate = p.blocks / p.elapsed if p.elapsed > 0 else 0.0
        left = max(0, p.target - p.cursor)
        eta = _duration(left / rate) if rate > 0 else "?"
        if self.tty:
            span = max(1, p.target - self.first_block + 1)
            done = min(1.0, (p.cursor - self.first_block + 1) / span)
            bar = "#" * int(done * 30)
            self.stream.write(f"\r[{bar:<30}] block {p.cursor:,} of {p.target:,}  {rate:,.0f} blocks/s  ETA {eta}  ")
            self.stream.flush()
            return
        now = self.clock()
        if self._last is None or now - self._last >= self.log_every or left == 0:
            self._last = now
            log.info("block %d of %d, %.0f blocks/s, %d to go, ETA %s", p.cursor, p.target, rate, left, eta)

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
