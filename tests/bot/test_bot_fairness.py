"""Delivery is fair between servers (issue 19): a reply flood over many of one server's posts does
not hold up another server's new review. Through the real `hivecord run`, the fake Discord and the
fake node; requests are counted in the fake, never timed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.domain import FeedFilter
from bot.store.store import Store
from tests.bot.test_bot_conversation import comment_op, ops_block
from tests.bot_harness import ANIME_REALM_INFO, BotProcess, bot_config, db_rows, delivery_settled
from tests.fakes.discord import FakeDiscord
from tests.fakes.hive import FakeHiveNode
from tests.helpers import ANIME_REALM, SEED_LAST
from tests.world import running_bot, seed_node

pytestmark = pytest.mark.asyncio(loop_scope="module")

FEEDS_A = 3  # A's threaded feeds of the community
POSTS = 6  # A's flooded posts: FEEDS_A x POSTS threads, each its own lane
REPLIES = 4  # spam replies to each post (under the per-window budget: each is one send)
RATE = 25.0  # delivery.max_messages_per_second: slow enough that A's flood is still queued
B_AUTHOR = "b.reviewer"  # the only author B's feed takes


@dataclass
class World:
    fake: FakeDiscord
    node: FakeHiveNode
    bot: BotProcess
    db: Path
    a_channels: list[int]
    b_channel: int
    next_block: int = SEED_LAST + 10

    def block(self, *ops: dict[str, Any]) -> int:
        """One block of `ops`, final at once (irreversible trails head by one block)."""
        num = self.next_block
        self.next_block += 2
        self.node.add_blocks({num: ops_block(*ops)})
        self.node.head = num + 1
        return num


def post_op(author: str, permlink: str, title: str) -> dict[str, Any]:
    op = comment_op(author, permlink, ("", ANIME_REALM), "A body.")
    op["value"]["title"] = title
    return op


async def make_feeds(db: Path, feeds: list[tuple[int, int, str, FeedFilter]]) -> None:
    """(guild, channel, threads, filter) feeds made through the store before the bot starts."""
    store = await Store.open(db)
    try:
        team = [str(m[0]) for m in ANIME_REALM_INFO["team"]]
        await store.communities.save_community(ANIME_REALM, "Anime Realm", team, "2026-12-01T00:00:00")
        for guild_id, channel_id, threads, feed_filter in feeds:
            await store.feeds.upsert_feed(
                guild_id=guild_id, channel_id=channel_id, community=ANIME_REALM, posts=True, votes="off",
                curators=(), badges=False, role_id=None, created_by=1, at="2026-12-01T00:00:00",
                threads="on" if threads == "on" else "off", feed_filter=feed_filter,
            )  # fmt: skip
    finally:
        await store.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    tmp_path = tmp_path_factory.mktemp("fairness")
    db = tmp_path / "hivecord.sqlite3"
    node, _ = seed_node(head=SEED_LAST + 1)
    hive_url = node.start_in_thread()
    fake = FakeDiscord()
    state, w = fake.state, fake.world
    a_channels = [state.add_text_channel(w.guild_id, f"a-reviews-{i}").id for i in range(FEEDS_A)]
    guild_b = state.add_guild("Server B", owner_id=state.add_user("owner-b").id).id
    bot_role_b = state.add_role(guild_b, "hivecord", 1 << 10 | 1 << 11 | 1 << 14, managed_by=w.bot_id).id
    state.add_member(guild_b, w.bot_id, [bot_role_b])
    b_channel = state.add_text_channel(guild_b, "b-reviews").id
    await fake.start()
    # Only the blocks after the seed: this file is about the flood, not the seed's review.
    config = bot_config(tmp_path, hive_url, fake, start_block=SEED_LAST + 2, max_messages_per_second=RATE)
    try:
        await make_feeds(
            db,
            [
                *((w.guild_id, channel, "on", FeedFilter()) for channel in a_channels),
                (guild_b, b_channel, "off", FeedFilter(authors=(B_AUTHOR,))),
            ],
        )
        async with running_bot(config, fake) as bot:
            yield World(fake, node, bot, db, a_channels, b_channel)
    finally:
        await fake.stop()
        node.stop_thread()


async def test_a_reply_flood_over_many_posts_holds_up_another_servers_review_for_a_turn_or_two(world: World) -> None:
    fake = world.fake
    posts = [(f"flooder{i}", f"flooded-post-{i}") for i in range(POSTS)]
    num = world.block(*(post_op(a, p, f"Flooded Post {i}") for i, (a, p) in enumerate(posts)))
    await fake.wait_for(lambda: delivery_settled(world.db, num), timeout=60)
    # A post's first reply starts its thread (in the channel's lane); the flood then has a lane per thread.
    num = world.block(*(comment_op("first", f"re-{p}-first", (a, p), "First!") for a, p in posts))
    await fake.wait_for(lambda: delivery_settled(world.db, num), timeout=60)
    threads = {t.id for channel in world.a_channels for t in fake.threads(channel)}
    assert len(threads) == FEEDS_A * POSTS
    paths = {f"/channels/{t}/messages" for t in threads}

    def a_replies() -> int:
        return sum(1 for r in fake.requests if r.method == "POST" and r.path in paths)

    first = a_replies()
    replies = [
        comment_op(f"spammer{n}", f"re-{p}-{n}", (a, p), f"Spam {n}.") for n in range(REPLIES) for a, p in posts
    ]
    world.block(*replies)
    # Every thread's lane has its sender queued at the pace once the first reply went out.
    await fake.wait_for(lambda: a_replies() > first, timeout=60)
    review = world.block(post_op(B_AUTHOR, "a-review-in-b", "A Review In B"))
    planned = f"SELECT count(*) FROM jobs WHERE channel_id = {world.b_channel}"
    # Counted in the same check that sees B's job planned: A's sends from then on are what B waited.
    from_planned = await fake.wait_for(lambda: a_replies() + 1 if db_rows(world.db, planned) == [(1,)] else None, 60)
    arrived = await fake.wait_for(lambda: a_replies() + 1 if fake.messages(world.b_channel) else None, timeout=60)
    waited = arrived - from_planned
    left = FEEDS_A * POSTS * REPLIES - (arrived - 1 - first)
    # B's sender takes its turn after at most one of A's (A may be ahead in the round), plus the few A
    # got while B's sender started and read its job (three reads; a turn is 1/RATE s); a FIFO pace
    # held B behind one send of every one of A's FEEDS_A * POSTS lanes.
    assert waited <= 5, (waited, left)
    # The check can fail: A still had more lanes queued than the bound when B's review went out.
    assert left > 3 * FEEDS_A * POSTS // 2, left
    await fake.wait_for(lambda: delivery_settled(world.db, review), timeout=90)
    # Each thread has its replies once each, in chain order: fairness changed no lane's order.
    for thread in threads:
        bodies = [m.content or (m.embeds[0].get("description", "") if m.embeds else "") for m in fake.messages(thread)]
        spam = [next(f"Spam {n}." for n in range(REPLIES) if f"Spam {n}." in b) for b in bodies if "Spam " in b]
        assert spam == [f"Spam {n}." for n in range(REPLIES)], (thread, bodies)
    assert not fake.violations, fake.violations
