"""Two `hivecord run` processes on one PostgreSQL (issue 20): a backlog arrives exactly once, in order per
channel, through a SIGKILL of a sending process, and through one of the leader (the only process polling
the node for blocks), which another process replaces within 10 s.

Each process life gets its own node URL path and its own Discord REST base, so the fakes record which one
asked or sent what. Shards: ids 0 and 1 of 2, so commands reach only the process holding the guild's shard.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from tests.bot_harness import BotProcess, RequestCounter, comment_block
from tests.fakes.discord.log import RecordedRequest
from tests.helpers import ANIME_REALM, SEED_FIRST, SEED_LAST, write_config
from tests.world import World

asyncpg = pytest.importorskip("asyncpg")

pytestmark = pytest.mark.slow

RATE = 40.0  # messages a second for the whole bot: each of two processes sends at half of it
BLOCK_METHODS = ("block", "get_dynamic_global_properties")  # what only a follower asks


@pytest.fixture
def world_options() -> dict[str, Any]:
    return {"vops": False, "start_discord": True, "write_config": False}


class Processes:
    """The process lives of one test: each named life has its own config folder, node path and REST base."""

    def __init__(self, world: World, pg_url: str) -> None:
        self.world, self.pg_url = world, pg_url
        self.lives: dict[str, BotProcess] = {}

    async def start(self, name: str, shard: int, communities: tuple[str, ...] = (ANIME_REALM,)) -> BotProcess:
        folder = self.world.folder / name
        folder.mkdir()
        fake = self.world.fake
        extra = "\n".join(
            [
                "[discord]",
                f"api_base = {json.dumps(fake.api_base_for(name))}",
                f"gateway_url = {json.dumps(fake.gateway_url)}",
                "retry_max_seconds = 2.0",
                "",
                "[delivery]",
                f"max_messages_per_second = {RATE}",
            ]
        )
        config = write_config(
            folder,
            [f"{self.world.node.url}/{name}"],
            db=self.pg_url,
            start_block=SEED_FIRST,
            extra=extra,
            communities=communities,
        )
        env = {
            "HIVECORD_DISCORD__SHARD_COUNT": "2",
            "HIVECORD_DISCORD__SHARD_IDS": str(shard),
        }
        bot = self.lives[name] = BotProcess(config, fake, env=env)
        await bot.start()
        return bot

    async def stop_all(self) -> None:
        running = [bot for bot in self.lives.values() if bot.proc is not None and bot.proc.returncode is None]
        codes = [await bot.stop() for bot in running]  # every one stopped before any is judged
        for bot, code in zip(running, codes, strict=True):
            assert code == 0, bot.log
            assert "Traceback" not in bot.log, bot.log

    def block_requests(self) -> list[tuple[float, str]]:
        """(when, life) of every request for blocks or the head, in the order the node answered them."""
        return [
            (at, path.strip("/"))
            for path, at, methods in list(self.world.node.asked)
            if any(word in method for method in methods for word in BLOCK_METHODS)
        ]


@pytest.fixture
async def processes(world: World, pg_url: str) -> AsyncIterator[Processes]:
    made = Processes(world, pg_url)
    try:
        yield made
    finally:
        await made.stop_all()


async def until(check: Callable[[], Awaitable[bool]], ceiling: float, what: str) -> None:
    """Polls `check` until it holds; `ceiling` (seconds) fails the test, it is never a timer."""
    deadline = time.monotonic() + ceiling
    while not await check():
        assert time.monotonic() < deadline, f"not within {ceiling} s: {what} ({getattr(settled, 'last', '')})"
        await asyncio.sleep(0.1)


async def add_feed(world: World, channel: int) -> None:
    fake = world.fake
    options = {"community": ANIME_REALM, "channel": channel, "votes": "off", "badges": False}
    handle = await fake.send_interaction(fake.world.guild_id, channel, fake.world.admin_id, "feed add", options)
    first = await handle.response(timeout=30)
    if first["type"] != 4:
        (answer,) = await handle.wait_followups(1, timeout=30)
        assert "Feed added" in answer.embeds[0]["title"], answer.embeds


def numbered(world: World, channel: int) -> list[str]:
    titles = [m.embeds[0].get("title", "") for m in world.fake.messages(channel) if m.embeds]
    return [t for t in titles if t.startswith("Review number")]


def add_reviews(world: World, numbers: range) -> int:
    """One review a block, past every block the node has served; the head moves past them. Returns the last."""
    first = world.next_block
    blocks = {
        first + i: comment_block(f"author{n % 7}", f"review-{n:03d}", f"Review number {n:03d}", f"Body {n}", "{}")
        for i, n in enumerate(numbers)
    }
    world.node.add_blocks(blocks)
    last = first + len(numbers) - 1
    world.node.head = last + 5
    world.next_block = last + 10
    return last


async def delivery_state(pg_url: str) -> dict[str, Any]:
    conn = await asyncpg.connect(pg_url)
    try:
        cursor = await conn.fetchval("SELECT value FROM meta WHERE key = 'cursor'")
        last = await conn.fetchval("SELECT coalesce(max(id), 0) FROM outbox")
        behind = await conn.fetchval("SELECT count(*) FROM feeds WHERE outbox_cursor < $1", last)
        pending = await conn.fetchval("SELECT count(*) FROM jobs WHERE state = 'pending'")
        feeds = await conn.fetchval("SELECT count(*) FROM feeds")
    except asyncpg.UndefinedTableError:
        return {}
    finally:
        await conn.close()
    return {"cursor": int(cursor or 0), "outbox": last, "feeds behind": behind, "pending": pending, "feeds": feeds}


async def settled(pg_url: str, through_block: int) -> bool:
    """The cursor passed `through_block`, every feed planned the whole outbox, and no job is pending."""
    state = await delivery_state(pg_url)
    settled.last = state  # type: ignore[attr-defined]  # said when a wait fails
    return bool(state) and state["cursor"] >= through_block and not state["feeds behind"] and not state["pending"]


def review_posts(world: World) -> RequestCounter:
    paths = {f"/channels/{c}/messages" for c in (world.reviews, world.second)}
    return RequestCounter(world.fake, "POST", "/channels/{channel_id}/messages", lambda r: r.path in paths)


def senders(requests: list[RecordedRequest], world: World) -> set[str]:
    paths = {f"/channels/{c}/messages" for c in (world.reviews, world.second)}
    return {r.caller for r in requests if r.method == "POST" and r.path in paths and 200 <= r.status < 300}


async def two_processes_past_the_seed(world: World, processes: Processes) -> None:
    """Processes a (shard 0 of 2) and b (shard 1), a feed in each channel, the seed followed and delivered."""
    await processes.start("a", shard=0)
    await processes.start("b", shard=1)
    await add_feed(world, world.reviews)
    await add_feed(world, world.second)
    world.node.head = SEED_LAST + 5
    await until(lambda: settled(processes.pg_url, SEED_LAST), 60, "the seed followed and delivered")


async def test_a_backlog_arrives_once_in_order_through_a_sigkill_of_a_sending_process(
    world: World, processes: Processes
) -> None:
    await two_processes_past_the_seed(world, processes)
    last = add_reviews(world, range(60))
    world.fake.answer_delay = 0.02  # many kills land between Discord posting a message and the bot hearing
    posted = review_posts(world)
    await world.fake.wait_for(lambda: posted() >= 10, 60)
    # The victim is a process sending now: its lanes are mid-drain when it dies.
    paths = {f"/channels/{c}/messages" for c in (world.reviews, world.second)}
    victim_name = next(r.caller for r in reversed(world.fake.requests) if r.method == "POST" and r.path in paths)
    victim = processes.lives[victim_name]
    before = len(world.fake.requests)
    assert await victim.kill_at(lambda: posted() >= 40, unless=lambda: posted() >= 120, ceiling=60)
    assert victim_name in senders(world.fake.requests[:before], world)
    await processes.start(f"{victim_name}2", shard=0 if victim_name == "a" else 1)
    await until(lambda: settled(processes.pg_url, last), 90, "the backlog delivered")
    for channel in (world.reviews, world.second):
        assert numbered(world, channel) == [f"Review number {i:03d}" for i in range(60)]
    assert len(senders(world.fake.requests[before:], world)) >= 1
    # Commands reach only the process holding the guild's shard, and only shard 0's process synced them.
    shard = (world.fake.world.guild_id >> 22) % 2
    answered = {r.caller for r in world.fake.requests if r.path.startswith("/interactions/")}
    assert answered == {"ab"[shard]}, answered
    synced = {r.caller for r in world.fake.requests if r.method == "PUT" and r.path.endswith("/commands")}
    assert synced == {"a"}, synced
    # /status tells where the chain stands whether or not the answering process follows it itself.
    fake = world.fake
    handle = await fake.send_interaction(fake.world.guild_id, world.reviews, fake.world.member_id, "status", {})
    fields = (await handle.response(timeout=30))["data"]["embeds"][0]["fields"]
    chain = next(f["value"] for f in fields if f["name"] == "Chain")
    answerer = next(r.caller for r in reversed(fake.requests) if r.path.startswith("/interactions/"))
    leader = processes.block_requests()[-1][1]
    shown = re.search(r"block ([\d,]+)", chain)
    assert shown is not None and int(shown.group(1).replace(",", "")) >= last, chain
    follows = "behind head" if answerer == leader else "another process follows the chain"
    assert follows in chain, (answerer, leader, chain)
    assert not world.fake.violations


async def test_the_leader_sigkilled_another_follows_within_10_s_and_nothing_is_lost_or_doubled(
    world: World, processes: Processes
) -> None:
    await two_processes_past_the_seed(world, processes)
    leader_name = processes.block_requests()[-1][1]
    other_name = "b" if leader_name == "a" else "a"
    leader = processes.lives[leader_name]
    add_reviews(world, range(30))
    posted = review_posts(world)
    killed_at: list[float] = []

    def kill_now() -> bool:
        if posted() >= 20:
            killed_at.append(time.monotonic())
            return True
        return False

    assert await leader.kill_at(kill_now, unless=lambda: posted() >= 60, ceiling=60)
    # More reviews while the old leader is gone: only a new leader can bring them.
    last = add_reviews(world, range(30, 40))

    def first_block_request_of(name: str) -> float | None:
        return next((at for at, who in processes.block_requests() if who == name and at > killed_at[0]), None)

    await until(lambda: asyncio.sleep(0, first_block_request_of(other_name) is not None), 30, "another follower")
    taken_over = first_block_request_of(other_name)
    assert taken_over is not None
    print(f"failover: the other process asked for blocks {taken_over - killed_at[0]:.2f} s after the SIGKILL")
    assert taken_over - killed_at[0] < 10
    await until(lambda: settled(processes.pg_url, last), 90, "every review delivered")
    for channel in (world.reviews, world.second):
        assert numbered(world, channel) == [f"Review number {i:03d}" for i in range(40)]
    # One poller at a time: each life's block requests form one run, never interleaved with another's.
    order = [who for _, who in processes.block_requests()]
    runs = [who for i, who in enumerate(order) if i == 0 or order[i - 1] != who]
    assert len(runs) == len(set(runs)) and runs[-1] == other_name, runs
    assert len(order) > 20, "the node was polled for blocks throughout"
    assert not world.fake.violations


async def test_a_feed_added_on_a_process_that_does_not_follow_reaches_the_leaders_follower(
    world: World, processes: Processes
) -> None:
    # No community in either config: Anime Realm is followed only once /feed add asks for it. The
    # process holding the guild's shard (which answers /feed add) starts second, so the other leads.
    shard = (world.fake.world.guild_id >> 22) % 2
    leader_name, commands_name = ("b", "a") if shard == 0 else ("a", "b")
    await processes.start(leader_name, shard=1 - shard, communities=())
    await until(lambda: asyncio.sleep(0, bool(processes.block_requests())), 30, "the first process leading")
    await processes.start(commands_name, shard=shard, communities=())
    await add_feed(world, world.reviews)
    answered = {r.caller for r in world.fake.requests if r.path.startswith("/interactions/")}
    assert answered == {commands_name}, answered
    last = add_reviews(world, range(10))
    await until(lambda: settled(processes.pg_url, last), 60, "the new community's reviews delivered")
    assert numbered(world, world.reviews) == [f"Review number {i:03d}" for i in range(10)]
    assert {who for _, who in processes.block_requests()} == {leader_name}  # it alone followed
    assert not world.fake.violations
