"""The stop of `hivecord run`: close, then end a start() that a shard's reconnect wait still holds."""

from __future__ import annotations

import asyncio
import logging
import sys

from bot.process.logs import ReconnectAsOneLine
from bot.runner import stop


class Bot:
    stop_grace = 0.05

    def __init__(self, on_close: asyncio.Event | None = None) -> None:
        self.closed = False
        self.on_close = on_close

    async def close(self) -> None:
        self.closed = True
        if self.on_close is not None:
            self.on_close.set()


async def test_a_start_still_waiting_after_the_close_is_cancelled() -> None:
    # A shard sleeping out its reconnect backoff: start() would return only when that ends.
    started = asyncio.ensure_future(asyncio.Event().wait())
    bot = Bot()
    await stop(bot, started)
    assert bot.closed
    await asyncio.sleep(0)
    assert started.cancelled()


async def test_a_start_that_ends_with_the_close_is_left_to_end() -> None:
    closed = asyncio.Event()

    async def start() -> None:
        await closed.wait()

    started = asyncio.ensure_future(start())
    await stop(Bot(closed), started)
    assert started.done() and not started.cancelled() and started.result() is None


def test_a_gateway_reconnect_is_one_warning_line_with_its_cause() -> None:
    try:
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 4000)")
    except OSError:
        exc_info = sys.exc_info()
    message = "Attempting a reconnect for shard ID %s in %.2fs"
    record = logging.LogRecord("discord.shard", logging.ERROR, __file__, 1, message, (0, 3.5), exc_info)
    assert ReconnectAsOneLine().filter(record)
    line = logging.Formatter("%(levelname)s %(name)s: %(message)s").format(record)
    assert line == (
        "WARNING discord.shard: Attempting a reconnect for shard ID 0 in 3.50s"
        " (ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 4000))"
    )
    # Anything else keeps its level and traceback.
    other = logging.LogRecord("discord.client", logging.ERROR, __file__, 1, "Ignoring exception", None, exc_info)
    assert ReconnectAsOneLine().filter(other)
    assert other.levelno == logging.ERROR and other.exc_info is exc_info
