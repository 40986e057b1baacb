"""Snowflake ids like Discord's: a millisecond timestamp since the Discord epoch, shifted by 22 bits."""

from __future__ import annotations

import datetime
import time

DISCORD_EPOCH_MS = 1420070400000


class SnowflakeGenerator:
    """Hands out strictly increasing snowflakes.

    The timestamp part is real wall-clock time because discord.py reads it back (for example
    `delete_message` picks a rate-limit bucket from the message's age).
    """

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        now_ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        candidate = (now_ms << 22) | (1 << 17)  # worker 1, increment 0
        self._last = max(candidate, self._last + 1)
        return self._last


def snowflake_time(snowflake: int) -> datetime.datetime:
    ms = (snowflake >> 22) + DISCORD_EPOCH_MS
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC)


def iso_time(when: datetime.datetime) -> str:
    return when.isoformat(timespec="microseconds")
