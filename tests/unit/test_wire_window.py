"""The wire window: no more than `limit` requests to Discord leave in any window, retries included."""

from __future__ import annotations

import asyncio

import aiohttp
import yarl
from multidict import CIMultiDict

from bot.delivery.pace import WireWindow


def params(path: str) -> aiohttp.TraceRequestStartParams:
    return aiohttp.TraceRequestStartParams("POST", yarl.URL(f"http://127.0.0.1/api/v10{path}"), CIMultiDict())


async def test_no_more_than_the_limit_leave_in_any_window() -> None:
    window = WireWindow(5, window=0.2)
    left: list[float] = []

    async def send() -> None:
        await window._on_request_start(None, None, params("/channels/1/messages"))  # type: ignore[arg-type]
        left.append(window._sent[-1])  # the time it was let go (nothing ran in between)

    await asyncio.gather(*(send() for _ in range(17)))
    assert len(left) == 17
    # Whatever the machine's speed: any 6 consecutive departures span at least the window.
    assert all(later - earlier >= 0.2 for earlier, later in zip(left, left[5:], strict=False)), left


async def test_interaction_answers_are_not_held() -> None:
    window = WireWindow(1, window=3600.0)
    await window.wait()  # the window is full for an hour
    answer = window._on_request_start(None, None, params("/interactions/1/token/callback"))  # type: ignore[arg-type]
    await asyncio.wait_for(answer, timeout=60)  # would wait an hour if it were counted
    held = asyncio.ensure_future(window._on_request_start(None, None, params("/channels/1/messages")))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    assert not held.done()
    held.cancel()
