"""The processes' coordination on a real PostgreSQL: one leader at a time, a lane held by one process, and
everything let go when a process's connection closes. SingleProcess (SQLite) always leads and owns every lane."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.store.coordination import Coordination, SingleProcess

asyncpg = pytest.importorskip("asyncpg")
from bot.store.postgres.coordination import PgCoordination, lane_keys  # noqa: E402


@pytest.fixture
async def pair(pg_url: str) -> AsyncIterator[tuple[PgCoordination, PgCoordination]]:
    one, two = PgCoordination(pg_url), PgCoordination(pg_url)
    await one.connect()
    await two.connect()
    try:
        yield one, two
    finally:
        await one.close()
        await two.close()


def test_lane_keys_are_the_lane_split_in_two_halves() -> None:
    for lane in (0, 1, -1, 2**63 - 1, -(2**63), 1234567890123456789, -987654321098765432):
        high, low = lane_keys(lane)
        assert -(2**31) <= high < 2**31 and -(2**31) <= low < 2**31
        assert (high << 32) | (low & 0xFFFFFFFF) == lane


async def test_single_process_leads_and_owns_every_lane() -> None:
    single: Coordination = SingleProcess()
    assert await single.try_lead() and single.leading and single.connected
    assert await single.claim_lane(5) and await single.claim_lane(5)
    assert await single.live_processes() == 1


async def test_one_leads_and_the_other_takes_over_once_it_is_gone(
    pair: tuple[PgCoordination, PgCoordination],
) -> None:
    one, two = pair
    assert await one.try_lead()
    assert not await two.try_lead() and not two.leading
    assert await one.try_lead(), "leading again is keeping the lead"
    assert await two.live_processes() == 2
    await one.close()
    assert await two.try_lead()
    assert await two.live_processes() == 1


async def test_lane_claims_are_exclusive_and_released(pair: tuple[PgCoordination, PgCoordination]) -> None:
    one, two = pair
    lane, dm_lane = 1234567890123456789, -987654321
    assert await one.claim_lane(lane) and await one.claim_lane(dm_lane)
    assert await one.claim_lane(lane), "a lane held is held"
    assert not await two.claim_lane(lane) and not await two.claim_lane(dm_lane)
    # The lanes and the leader live in separate key spaces: a lane never blocks the election.
    assert await two.try_lead()
    await one.release_lane(lane)
    assert await two.claim_lane(lane)
    assert not await one.claim_lane(lane)
    await one.close()  # its DM lane goes with its connection
    assert await two.claim_lane(dm_lane)


async def test_a_dropped_connection_loses_every_claim_and_tells_the_listeners(pg_url: str) -> None:
    one, two = PgCoordination(pg_url), PgCoordination(pg_url)
    told = asyncio.Event()
    one.on_lost(told.set)
    await one.connect()
    await two.connect()
    try:
        assert await one.try_lead() and await one.claim_lane(7)
        # The server ends the session, as when the network cut it off: the locks go on the server's side.
        admin = await asyncpg.connect(pg_url)
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'hivecord' AND pid <> pg_backend_pid()"
                " AND pid = (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 LIMIT 1)"
            )
        finally:
            await admin.close()
        assert not await one.alive()
        await asyncio.wait_for(told.wait(), 10)
        assert not one.connected and not one.leading
        assert not await one.claim_lane(7), "no claims without the connection"
        assert await two.try_lead() and await two.claim_lane(7)
        await one.connect()
        assert not await one.try_lead() and not await one.claim_lane(7)
    finally:
        await one.close()
        await two.close()
