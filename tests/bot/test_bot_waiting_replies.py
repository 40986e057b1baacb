"""A reply whose post has no message yet waits for it: through the real bot, a post whose send was
refused, its replies on chain meanwhile, and /feed add once the channel is fixed."""

from __future__ import annotations

import re

from tests.bot.test_bot_conversation import NEON, READERS, REVIEW, comment_op, ops_block, replies_in
from tests.bot.test_bot_feeds import add_feed, post_messages
from tests.bot_harness import BotProcess, db_rows, delivery_settled
from tests.fakes.discord.faults import Fault
from tests.helpers import SEED_LAST
from tests.world import World

LATE = ("latecomer", "re-neonwatcher-late")


async def test_replies_to_a_refused_post_wait_for_it_and_follow_it_once_the_feed_is_added_again(world: World) -> None:
    fake = world.fake
    bot = BotProcess(world.config, fake)
    await bot.start()
    try:
        await add_feed(world, world.reviews, threads="on")
        fake.fail_channel(world.reviews, 403, 50013)  # the bot lost Send Messages there
        world.node.head = SEED_LAST + 5  # the review and its replies
        await fake.wait_for(
            lambda: db_rows(world.db, "SELECT state FROM lanes WHERE lane_id = ?", world.reviews) == [("refused",)],
            timeout=30,
        )
        # One more reply while the channel refuses: it waits too.
        num = world.next_block
        world.next_block += 2
        world.node.add_blocks({num: ops_block(comment_op(*LATE, NEON, "Late to the party."))})
        world.node.head = num + 1

        def waiting() -> list[tuple[str, int]]:
            return [
                (str(action), int(n))
                for action, n in db_rows(
                    world.db,
                    "SELECT action, count(*) FROM jobs WHERE channel_id = ? AND state = 'pending'"
                    " AND action IN ('post', 'reply') GROUP BY action ORDER BY action",
                    world.reviews,
                )
            ]

        # The post and every reply to it wait in the refused channel's lane.
        await fake.wait_for(lambda: waiting() == [("post", 1), ("reply", len(READERS) + 1)], timeout=30)
        # The admin gives the permission back and adds the feed again.
        fake.clear_faults()
        await add_feed(world, world.reviews, threads="on")
        await fake.wait_for(lambda: delivery_settled(world.db, num), timeout=60)
        (thread,) = fake.threads(world.reviews)
    finally:
        assert await bot.stop() == 0, bot.log
    (post,) = post_messages(world, world.reviews)
    assert REVIEW[1] in post.embeds[0]["url"] and thread.id == post.id  # the thread is on the post's message
    assert replies_in(fake, thread.id) == [*READERS, "latecomer"]  # each once, in chain order
    # Nothing dropped: a thread's late start queues the replies waiting for it again, after the older ones.
    dropped = db_rows(world.db, "SELECT id, action, reply_id, last_error FROM jobs WHERE state = 'dropped'")
    assert all(d[3] == "queued again by the thread's late start" for d in dropped), dropped


async def test_replies_to_a_post_discord_rejected_are_dropped_with_one_line_each(world: World) -> None:
    """The post's send is rejected (400): it will never have a message, so neither will its replies;
    each is dropped with one log line saying which and why, queued or still to come."""
    fake = world.fake
    bot = BotProcess(world.config, fake)
    await bot.start()
    try:
        await add_feed(world, world.reviews, threads="on")
        fake.faults.add(Fault(400, 50035, lambda f: f.method == "POST" and f.path.endswith("/messages"), times=1))
        world.node.head = SEED_LAST + 5
        await fake.wait_for(lambda: delivery_settled(world.db, SEED_LAST), timeout=30)
        num = world.next_block
        world.next_block += 2
        world.node.add_blocks({num: ops_block(comment_op(*LATE, NEON, "Late to the party."))})
        world.node.head = num + 1
        await fake.wait_for(lambda: delivery_settled(world.db, num), timeout=30)
    finally:
        assert await bot.stop() == 0, bot.log
    assert fake.threads(world.reviews) == [] and post_messages(world, world.reviews) == []
    said = re.findall(r"reply (\d+)\b.*(?:dropped: the post has no message|not sent: its post)", bot.log)
    assert sorted(said) == ["1", "2", "3", "4"], bot.log  # the seed's three replies, then the late one
