"""The pure edge of delivery lanes: what a failure means, and senders released when idle."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import discord
import yarl

from bot.delivery.failures import classify
from bot.delivery.worker import DeliveryWorker
from bot.store.store import Store


def http_error(status: int, code: int) -> discord.HTTPException:
    response = SimpleNamespace(status=status, reason="x")
    return discord.HTTPException(response, {"code": code, "message": "nope"})  # type: ignore[arg-type]


def test_403_and_404_refuse_the_lane_400_rejects_the_message_everything_else_retries() -> None:
    assert classify(http_error(403, 50013))[0] == "refused"
    assert classify(http_error(403, 50007)) == ("refused", "the member does not take DMs")
    assert classify(http_error(404, 10003))[0] == "refused"
    assert classify(http_error(403, 12345))[0] == "refused"  # an unknown refusal is still a refusal
    assert classify(http_error(400, 50035)) == ("rejected", "400 50035: nope")
    for status in (401, 429, 500, 502):
        assert classify(http_error(status, 0))[0] == "retry"
    assert classify(aiohttp.ClientConnectionError())[0] == "retry"
    assert classify(TypeError("'str' object is not a mapping")) == (
        "retry",
        "unexpected TypeError: 'str' object is not a mapping",
    )


async def test_a_lane_sender_is_released_when_its_lane_is_idle(db_location: Path | str) -> None:
    store = await Store.open(db_location)
    try:
        worker = DeliveryWorker(discord.Client(intents=discord.Intents.none()), store)
        worker.senders.start(range(50))
        await asyncio.gather(*worker.senders._tasks.values())
        await asyncio.sleep(0)  # done callbacks run on the next turn of the loop
        assert worker.senders._tasks == {}
    finally:
        await store.close()


def not_found(method: str, body: object) -> discord.NotFound:
    url = yarl.URL("http://127.0.0.1:1/api/v10/guilds/1/members/2")
    response = SimpleNamespace(status=404, reason="Not Found", method=method, url=url)
    return discord.NotFound(response, body)  # type: ignore[arg-type]


def test_a_404_with_no_error_code_to_a_read_is_retried_naming_the_route_not_a_refusal() -> None:
    for body in ({"message": "404: Not Found"}, "<html>Not Found</html>"):
        outcome, reason = classify(not_found("GET", body))
        assert outcome == "retry" and "GET /api/v10/guilds/1/members/2" in reason, reason
    assert classify(not_found("GET", {"message": "Unknown Member", "code": 10007}))[0] == "refused"
    assert classify(not_found("POST", {"message": "404: Not Found"}))[0] == "refused"  # a change: as before


async def test_a_refused_lane_is_released_at_once_the_first_time_then_paced_from_its_last_refusal(
    db_location: Path | str,
) -> None:
    store = await Store.open(db_location)
    jobs, lane, every = store.jobs, 42, 300.0
    try:
        await jobs.lane_refused(lane, "missing permissions", now=1000.0)
        assert await jobs.release_lanes([lane], now=1001.0, every=every) == 1  # the first probe: at once
        assert await jobs.lane_may_send(lane, 1001.0)
        await jobs.lane_refused(lane, "missing permissions", now=1002.0)  # the probe is refused too
        for now in (1003.0, 1004.0, 1100.0):  # a flood of updates: one probe, due `every` after the refusal
            assert await jobs.release_lanes([lane, 7], now=now, every=every) == 0
            assert not await jobs.lane_may_send(lane, now)
        assert not await jobs.lane_may_send(lane, 1301.0) and await jobs.lane_may_send(lane, 1302.0)
        # An update long after the last refusal releases the lane at once again.
        await jobs.lane_refused(lane, "missing permissions", now=1303.0)
        assert await jobs.release_lanes([lane], now=1303.0 + every, every=every) == 1
        assert await jobs.release_lanes([99], now=5000.0, every=every) == 0  # no such refused lane
    finally:
        await store.close()


async def test_backoffs_before_a_lanes_first_refusal_do_not_pace_its_first_probe(db_location: Path | str) -> None:
    """429s and 5xx before a refusal are backoff failures, not refusals: the first probe still goes at
    once. After it, a backoff between two refusals does not make the second look like a first."""
    store = await Store.open(db_location)
    jobs, lane, every = store.jobs, 43, 300.0
    try:
        for now in (1000.0, 1002.0, 1006.0):  # backing off: 2 s, 4 s, 8 s
            await jobs.lane_failed(lane, "503", base=2.0, cap=300.0, now=now)
        await jobs.lane_refused(lane, "missing permissions", now=1020.0)
        assert await jobs.release_lanes([lane], now=1021.0, every=every) == 1  # the first probe: at once
        assert await jobs.lane_may_send(lane, 1021.0)
        await jobs.lane_failed(lane, "502", base=2.0, cap=300.0, now=1022.0)  # the probe met a 5xx
        await jobs.lane_refused(lane, "missing permissions", now=1030.0)  # then a refusal again
        assert await jobs.release_lanes([lane], now=1031.0, every=every) == 0  # paced from it
        assert await jobs.retries_due([lane, 7], 1031.0) == {lane: 1030.0 + every}
        # Discord answering a send ends the story: a later refusal is a first one again.
        await jobs.lane_refused(lane, "missing permissions", now=2000.0)
        await jobs.release_lanes([lane], now=2000.0 + every, every=every)
        await store.jobs.mirror_refreshed(lane, 1, 2400.0)  # any answer in the lane
        await jobs.lane_refused(lane, "missing permissions", now=2500.0)
        assert await jobs.release_lanes([lane], now=2501.0, every=every) == 1
        assert await jobs.retries_due([lane], 2501.0) == {}
    finally:
        await store.close()
