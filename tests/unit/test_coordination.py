"""The processes' coordination on a real PostgreSQL: one leader at a time, a lane held by one process, and
everything let go when a process's connection closes. SingleProcess (SQLite) always leads and owns every lane."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import discord
import pytest

from bot.delivery.pace import WireWindow
from bot.delivery.senders import CLAIM_AGAIN_AFTER, Senders
from bot.delivery.worker import DeliveryWorker
from bot.hive.client import HiveClient
from bot.ingest.follower import Follower
from bot.process.duties import Duties
from bot.store.coordination import Coordination, SingleProcess
from bot.store.store import Store

asyncpg = pytest.importorskip("asyncpg")
from bot.store.postgres.coordination import LEADER_KEY, PgCoordination, lane_keys  # noqa: E402


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
        await eventually(two.try_lead)  # the server ends the session, and frees its locks, a moment later
        assert await two.claim_lane(7)
        await one.connect()
        assert not await one.try_lead() and not await one.claim_lane(7)
    finally:
        await one.close()
        await two.close()


async def test_two_processes_senders_never_drain_one_lane_at_once(pair: tuple[PgCoordination, PgCoordination]) -> None:
    draining: dict[int, str] = {}
    drained: list[tuple[str, int]] = []
    overlaps: list[int] = []
    go = asyncio.Event()

    def drain_as(name: str) -> Callable[[int], Awaitable[None]]:
        async def drain(lane: int) -> None:
            if lane in draining:
                overlaps.append(lane)
            draining[lane] = name
            await go.wait()
            del draining[lane]
            drained.append((name, lane))

        return drain

    now = [0.0]  # two's clock, moved by hand
    one, two = Senders(pair[0], drain_as("one")), Senders(pair[1], drain_as("two"), clock=lambda: now[0])
    lanes = [11, 12, -13]
    one.start(lanes)
    await until(lambda: len(draining) == 3)
    two.start(lanes)  # every lane is held by one: two's senders find them claimed and end
    await two.settled()
    go.set()
    await one.settled()
    assert sorted(drained) == [("one", -13), ("one", 11), ("one", 12)] and not overlaps
    # Refused lanes are not asked for again at every pass (a round trip each), only after a while.
    assert all(two.is_held(lane) for lane in lanes)
    two.start(lanes)
    await two.settled()
    assert sorted(name for name, _ in drained) == ["one"] * 3
    # Released once drained: a pass of either process after that while may take them.
    now[0] += CLAIM_AGAIN_AFTER + 1
    two.start(lanes)
    await two.settled()
    assert sorted(name for name, _ in drained) == ["one"] * 3 + ["two"] * 3


async def test_claims_lost_stop_every_sender_and_the_other_process_takes_the_lanes(pg_url: str) -> None:
    mine, other = PgCoordination(pg_url), PgCoordination(pg_url)
    await mine.connect()
    await other.connect()
    started, forever = asyncio.Event(), asyncio.Event()

    async def stuck(lane: int) -> None:
        started.set()
        await forever.wait()

    senders = Senders(mine, stuck)
    mine.on_lost(senders.abandon)
    try:
        senders.start([21])
        await asyncio.wait_for(started.wait(), 10)
        assert not await other.claim_lane(21)
        await terminate_coordination(pg_url, lane=21)
        assert not await mine.alive()
        await asyncio.wait_for(senders.settled(), 10)  # cancelled at once, not after the stuck send
        await eventually(lambda: other.claim_lane(21))
    finally:
        await mine.close()
        await other.close()


async def test_the_leader_alone_runs_the_leader_loops_and_another_takes_them_when_it_is_gone(
    pg_url: str, tmp_path: Path
) -> None:
    stores = [await Store.open(tmp_path / f"{name}.sqlite3") for name in ("one", "two")]
    running: dict[str, int] = {"one": 0, "two": 0}
    stopping = [asyncio.Event(), asyncio.Event()]

    def loop_of(name: str) -> Callable[[], Awaitable[None]]:
        async def loop() -> None:
            running[name] += 1
            try:
                await asyncio.Event().wait()
            finally:
                running[name] -= 1

        return loop

    duties, tasks = [], []
    for i, name in enumerate(("one", "two")):
        store = stores[i]
        client = discord.Client(intents=discord.Intents.none())
        delivery = DeliveryWorker(client, store)
        follower = Follower(HiveClient(["http://127.0.0.1:9"]), store, ())
        made = Duties(
            PgCoordination(pg_url), stopping[i], store=store, follower=follower, delivery=delivery,
            wire=WireWindow(45), leader_loops={"follower": loop_of(name)},
        )  # fmt: skip
        duties.append(made)
        tasks.append(asyncio.create_task(made.run()))
    names = ("one", "two")
    try:
        await until(lambda: running["one"] + running["two"] == 1)
        leader = 0 if running["one"] else 1
        await until(lambda: duties[0].coordination.connected and duties[1].coordination.connected)
        assert await duties[leader].coordination.live_processes() == 2
        assert duties[leader].coordination.leading and not duties[1 - leader].coordination.leading
        # The leader's claims go (the server ends its session, as when the network cuts it off): it stops its
        # loop at once; then one of the two leads again (either may win the next try).
        await terminate_coordination(pg_url, leader=True)
        await until(lambda: running[names[leader]] == 0)
        await until(lambda: running["one"] + running["two"] == 1)
        # The leader stops for good (its process ends): the other leads at its next try.
        leader = 0 if running["one"] else 1
        stopping[leader].set()
        duties[leader].stop()
        await asyncio.wait_for(tasks[leader], 10)
        await duties[leader]._demote()
        await duties[leader].coordination.close()
        await until(lambda: running[names[1 - leader]] == 1)
        assert duties[1 - leader].coordination.leading and running[names[leader]] == 0
    finally:
        for i, task in enumerate(tasks):
            stopping[i].set()
            duties[i].stop()
            await asyncio.wait_for(task, 10)
            await duties[i]._demote()
            await duties[i].coordination.close()  # a second close is a no-op
        for store in stores:
            await store.close()


async def until(check: Callable[[], bool], ceiling: float = 15.0) -> None:
    """Waits for `check` (a ceiling, never a timer)."""
    async with asyncio.timeout(ceiling):
        while not check():  # noqa: ASYNC110  (the states checked have no event to wait on)
            await asyncio.sleep(0.02)


async def eventually(check: Callable[[], Awaitable[bool]], ceiling: float = 15.0) -> None:
    async with asyncio.timeout(ceiling):
        while not await check():  # noqa: ASYNC110  (another process's state: nothing here to wait on)
            await asyncio.sleep(0.05)


async def terminate_coordination(pg_url: str, *, lane: int | None = None, leader: bool = False) -> None:
    """Ends, from the server's side, the session holding the leader's lock or a lane's (a cut network)."""
    admin = await asyncpg.connect(pg_url)
    try:
        if leader:
            where = "objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = $1"
            key: int = LEADER_KEY
        else:
            assert lane is not None
            where = "objsubid = 2 AND objid::bigint = ($1::bigint & 4294967295)"
            key = lane
        await admin.execute(
            f"SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND {where}", key
        )
    finally:
        await admin.close()
