"""keep_running: a failing loop restarts after doubling, capped waits, logs a repeated failure as one
line, and ends at once when told to stop."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.process.supervisor import keep_running


async def test_a_loop_failing_the_same_way_is_restarted_with_growing_waits_and_one_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = 0

    async def run() -> None:
        nonlocal calls
        calls += 1
        if calls <= 4:
            raise OSError(28, "database or disk is full")

    caplog.set_level(logging.INFO, logger="hivecord")
    await keep_running("follower", run, asyncio.Event(), first=0.001, cap=0.004)
    assert calls == 5
    failures = [r for r in caplog.records if "stopped" in r.getMessage()]
    assert [r.getMessage().rsplit("restarting it in ", 1)[1] for r in failures] == [
        "0.001 s", "0.002 s", "0.004 s", "0.004 s"
    ]  # fmt: skip
    assert failures[0].exc_info is not None and all(r.exc_info is None for r in failures[1:])
    assert "same error again (4 in a row: OSError: [Errno 28] database or disk is full)" in failures[3].getMessage()


async def test_a_new_kind_of_failure_gets_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    errors = [ValueError("bad block"), ValueError("bad block"), KeyError("cursor")]

    async def run() -> None:
        if errors:
            raise errors.pop(0)

    caplog.set_level(logging.INFO, logger="hivecord")
    await keep_running("delivery", run, asyncio.Event(), first=0.001, cap=0.001)
    with_traceback = [r.exc_info[1] for r in caplog.records if r.exc_info]
    assert [type(e) for e in with_traceback if e is not None] == [ValueError, KeyError]


async def test_a_stop_during_the_wait_ends_it_without_another_run() -> None:
    stopping = asyncio.Event()
    calls = 0

    async def run() -> None:
        nonlocal calls
        calls += 1
        stopping.set()  # a stop comes while the loop fails
        raise RuntimeError("failing")

    # The wait would be an hour: the stop ends it.
    await asyncio.wait_for(keep_running("role check", run, stopping, first=3600, cap=3600), timeout=60)
    assert calls == 1
