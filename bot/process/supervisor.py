"""Keeps a background loop (follower, delivery, role check) alive through its own bugs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from bot.process.backoff import Backoff

log = logging.getLogger("hivecord")

FIRST_WAIT = 5.0  # seconds before the first restart
MAX_WAIT = 300.0  # a failure that keeps coming back is retried every 5 minutes at most
HEALTHY_RUN = 600.0  # a loop that ran this long before failing is restarted as after a first failure


async def keep_running(
    name: str,
    run: Callable[[], Awaitable[None]],
    stopping: asyncio.Event,
    *,
    first: float = FIRST_WAIT,
    cap: float = MAX_WAIT,
    healthy: float = HEALTHY_RUN,
) -> None:
    """Runs `run` until it returns or `stopping` is set. A failure is logged (its traceback once; the
    same failure again as one line with its count) and `run` starts again after a wait that doubles
    up to `cap`: a lasting fault (a full disk, say) is neither a dead loop nor a spinning one."""
    backoff = Backoff(cap, first=first)
    last, repeats = "", 0
    while not stopping.is_set():
        began = time.monotonic()
        try:
            await run()
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if time.monotonic() - began >= healthy:
                backoff, last, repeats = Backoff(cap, first=first), "", 0
            delay = backoff.next()
            error = f"{type(exc).__name__}: {exc}"
            repeats = repeats + 1 if error == last else 1
            if error != last:
                log.exception("the %s stopped on an error; restarting it in %g s", name, delay)
            else:
                log.error(
                    "the %s stopped on the same error again (%d in a row: %s); restarting it in %g s",
                    name,
                    repeats,
                    error[:300],
                    delay,
                )
            last = error
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), delay)
