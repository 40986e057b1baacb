"""Delivery lanes through the real bot: a refused lane is left alone until something changes, a
failing one backs off, a rejected send (400) is recorded and shown. Counts of the requests the
fake Discord saw, never timers."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

import pytest

from tests.bot_harness import BotProcess, comment_block, db_rows, delivery_settled
from tests.fakes.chain_gen import build_vote_vops
from tests.fakes.discord import payloads
from tests.fakes.discord.faults import Fault
from tests.fakes.discord.log import RecordedRequest
from tests.helpers import ANIME_REALM, SEED_LAST
from tests.world import World

REVIEW = "review-metallic-rouge-mars-machines-and-meaning"
RETRY_BASE = 2.0  # the worker's default first backoff


async def command(world: World, name: str, options: dict[str, Any], *, user: int | None = None) -> str:
    """Runs a slash command in #reviews; returns everything the user was shown, as JSON text."""
    fake = world.fake
    handle = await fake.send_interaction(fake.world.guild_id, world.reviews, user or fake.world.admin_id, name, options)
    first = await handle.response(timeout=15)
    if first["type"] == 5:
        (answer,) = await handle.wait_followups(1, timeout=15)
        return json.dumps(answer.embeds)
    return json.dumps(first["data"])


async def add_feed(world: World, channel: int) -> str:
    return await command(
        world, "feed add", {"community": ANIME_REALM, "channel": channel, "votes": "off", "badges": False}
    )


def titles(world: World, channel: int) -> list[str]:
    return [
        m.embeds[0]["title"]
        for m in world.fake.messages(channel)
        if m.embeds
        and m.embeds[0].get("url", "").startswith("https://hive.blog/")
        and "a new review of" not in (m.content or "")  # a member's alert carries the post too
    ]


def to_channel(world: World, channel: int) -> list[Any]:
    """Every request the bot sent to one channel (a lane)."""
    return [
        r for r in world.fake.requests if r.path == f"/channels/{channel}" or r.path.startswith(f"/channels/{channel}/")
    ]


async def new_post(world: World, title: str, *, seen_in: int) -> None:
    """A new post on the chain; returns once it is mirrored in `seen_in` (the bot moved on)."""
    num = world.next_block
    world.next_block += 2
    world.node.add_blocks({num: comment_block("someauthor", title.lower().replace(" ", "-"), title, "A body.", "{}")})
    world.node.head = num + 1
    await world.fake.wait_for(lambda: title in titles(world, seen_in), timeout=30)


def lane(world: World, lane_id: int) -> tuple[Any, ...] | None:
    rows = db_rows(world.db, "SELECT state, failures, reason FROM lanes WHERE lane_id = ?", lane_id)
    return rows[0] if rows else None


async def test_a_closed_dm_and_its_refused_fallback_get_one_request_each_until_the_member_is_back(
    world: World,
) -> None:
    """The reproduction: a member subscribed from a DM, then closed DMs. The DM is refused (50007),
    the fallback mention in the DM channel they subscribed from is refused too: before, the bot
    retried that lane on every pass, forever."""
    fake = world.fake
    user = fake.state.add_user("closed").id
    fake.state.add_member(fake.world.guild_id, user)
    dm = fake.state.dm_channel_for(user).id
    fake.close_dms(user)
    bot = BotProcess(world.config, fake)
    await bot.start()
    try:
        await add_feed(world, world.reviews)
    finally:
        await bot.stop()
    with sqlite3.connect(world.db) as conn:  # /subscribe run in DMs: no guild, the DM channel
        conn.execute(
            "INSERT INTO subscriptions VALUES (?, 'metallicrouge', 'Metallic Rouge', 'dm', NULL, ?, '2026-11-23')",
            (user, dm),
        )
    bot = BotProcess(world.config, fake)
    await bot.start()
    try:
        world.node.head = SEED_LAST + 5

        def alerts() -> list[tuple[Any, ...]]:
            return db_rows(
                world.db, "SELECT channel_id, state, last_error FROM jobs WHERE user_id = ? ORDER BY id", user
            )

        # The DM is refused (50007); its fallback, a mention in the DM channel they subscribed from, is
        # no server channel the member could be checked in: dropped before any request is sent.
        await fake.wait_for(lambda: len(alerts()) >= 2 and all(a[1] != "pending" for a in alerts()), timeout=60)
        sent = len(to_channel(world, dm))
        assert len([r for r in to_channel(world, dm) if r.method == "POST"]) == 1, [
            r.key for r in to_channel(world, dm)
        ]
        assert sent <= 2  # the DM, and at most one look at the channel for the fallback
        fallback = alerts()[-1]
        assert fallback[0] == dm and fallback[1] == "dropped" and "not a server channel" in fallback[2], alerts()
        for i in range(4):  # each new post wakes the worker for another pass
            await new_post(world, f"Later post {i}", seen_in=world.reviews)
        assert len(to_channel(world, dm)) == sent, [r.key for r in to_channel(world, dm)]
        assert len(fake.find_requests("POST", "/users/@me/channels")) <= 1
        # The member runs a command: their lanes may try again, but nothing waits in them.
        await command(world, "subscriptions", {}, user=user)
        await new_post(world, "After the command", seen_in=world.reviews)
        assert len(to_channel(world, dm)) == sent
    finally:
        assert await bot.stop() == 0, bot.log
    dm_lane = lane(world, -user)  # released by the command; nothing waits in it any more
    assert dm_lane is not None and "50007" in dm_lane[2], dm_lane
    assert db_rows(world.db, "SELECT count(*) FROM dm_closed WHERE user_id = ?", user) == [(1,)]


async def test_a_refused_feed_keeps_what_it_missed_and_feed_add_delivers_it_once_in_order(world: World) -> None:
    """#reviews answers 403: nothing more is sent there (not even for a member's mention waiting in
    the same channel), the posts it misses wait, and /feed add delivers each once, in order."""
    fake = world.fake
    fan = fake.state.add_user("fan").id
    fake.state.add_member(fake.world.guild_id, fan)
    bot = BotProcess(world.config, fake)
    await bot.start()
    try:
        await add_feed(world, world.reviews)
        await add_feed(world, world.second)
        await command(world, "subscribe", {"series": "Metallic Rouge", "where": "here"}, user=fan)
        fake.fail_channel(world.reviews, 403, 50013)
        world.node.head = SEED_LAST + 5
        await fake.wait_for(lambda: titles(world, world.second), timeout=30)
        await fake.wait_for(lambda: to_channel(world, world.reviews))
        refused_at = len(to_channel(world, world.reviews))
        for i in range(3):
            await new_post(world, f"Missed post {i}", seen_in=world.second)
        listing = await command(world, "feed list", {})
        assert len(to_channel(world, world.reviews)) == refused_at == 1, [
            r.key for r in to_channel(world, world.reviews)
        ]
        assert "missing permissions" in listing
        # A restart does not forget the refusal.
        assert await bot.stop() == 0, bot.log
        bot = BotProcess(world.config, fake)
        await bot.start()
        await new_post(world, "Missed post 3", seen_in=world.second)
        assert len(to_channel(world, world.reviews)) == 1
        # The admin fixes the permissions and adds the feed again.
        fake.clear_faults()
        await add_feed(world, world.reviews)
        expected = [*titles(world, world.second)]
        await fake.wait_for(lambda: titles(world, world.reviews) == expected, timeout=30)
        await fake.wait_for(
            lambda: any(f"<@{fan}>" in (m.content or "") for m in fake.messages(world.reviews)), timeout=30
        )
    finally:
        assert await bot.stop() == 0, bot.log
    assert titles(world, world.reviews) == expected and len(expected) == 5
    assert db_rows(world.db, "SELECT count(*) FROM jobs WHERE state = 'pending'") == [(0,)]
    assert lane(world, world.reviews) is None  # healthy again
    assert not fake.violations


BAD_BODY = {"id": "not a snowflake", "embeds": "none"}


async def test_a_2xx_answer_discord_py_cannot_read_counts_the_edit_or_send_done_and_never_sends_it_again(
    world: World,
) -> None:
    """Every change the bot makes in #reviews (the vote-count PATCH, new posts) is made, and answered
    200 with a body discord.py raises on, as another Discord-compatible server did. Discord applied
    it: each goes out once, counted done, with one log line; the lane neither backs off nor stops."""
    fake = world.fake
    bot = BotProcess(world.config, fake)
    await bot.start()
    try:
        await add_feed(world, world.reviews)
        await add_feed(world, world.second)
        world.node.head = SEED_LAST + 5
        await fake.wait_for(lambda: delivery_settled(world.db, SEED_LAST), timeout=30)
        in_reviews = f"/channels/{world.reviews}/"

        def unreadable(request: RecordedRequest, answer: Any) -> Any:
            return dict(BAD_BODY) if request.method != "GET" and request.path.startswith(in_reviews) else answer

        fake.rewrite_answer = unreadable
        # A new vote makes both mirrored embeds' counts stale: a PATCH in each channel.
        vote = {
            "type": "vote_operation",
            "value": {"voter": "newfan", "author": "alienpunklord", "permlink": REVIEW, "weight": 10000},
        }
        block = {"transactions": [{"operations": [vote]}]}
        num = world.next_block
        world.next_block += 2
        world.node.add_blocks({num: block}, vops=build_vote_vops({num: block}))
        world.node.head = num + 1
        edit = "/channels/{channel_id}/messages/{message_id}"
        await fake.wait_for_request("PATCH", edit, predicate=lambda r: r.path.startswith(in_reviews), timeout=30)
        for i in range(4):  # each new post wakes the worker for another pass, and is sent to #reviews too
            await new_post(world, f"Next post {i}", seen_in=world.second)
        await fake.wait_for(lambda: delivery_settled(world.db, world.next_block - 2), timeout=30)
        await new_post(world, "One more pass", seen_in=world.second)
        await fake.wait_for(lambda: delivery_settled(world.db, world.next_block - 2), timeout=30)
    finally:
        assert await bot.stop() == 0, bot.log
    patches = [r for r in fake.find_requests("PATCH", edit) if r.path.startswith(in_reviews) and r.answer == BAD_BODY]
    assert len(patches) == 1, [r.key for r in patches]
    posts = [r for r in to_channel(world, world.reviews) if r.method == "POST" and r.answer == BAD_BODY]
    assert len(posts) == 5, [r.key for r in posts]  # the five new posts, each once
    assert titles(world, world.reviews) == titles(world, world.second)  # each made once
    assert lane(world, world.reviews) is None
    assert db_rows(world.db, "SELECT count(*) FROM jobs WHERE channel_id = ? AND state != 'done'", world.reviews) == [
        (0,)
    ]
    assert bot.log.count("could not read the answer") == 6, bot.log
    assert "Traceback" not in bot.log


class NoCode(Fault):
    """A 404 with no Discord error code in its body: a route a proxy in front of Discord does not serve."""

    def body(self) -> dict[str, Any]:
        return {"message": "404: Not Found"}


async def test_a_404_with_no_error_code_to_a_read_backs_the_lane_off_naming_the_route_then_sends(
    world: World,
) -> None:
    """A member's alert in #reviews first reads the member (GET): a 404 with no code there is not a
    refusal of the lane, only a failure retried with backoff, and the alert goes out."""
    fake = world.fake
    fan = fake.state.add_user("fan").id
    fake.state.add_member(fake.world.guild_id, fan)
    member = f"/guilds/{fake.world.guild_id}/members/{fan}"
    fake.faults.add(NoCode(404, None, lambda f: f.method == "GET" and f.path == member, times=1))
    bot = BotProcess(world.config, fake)
    await bot.start()
    try:
        await add_feed(world, world.reviews)
        await command(world, "subscribe", {"series": "Metallic Rouge", "where": "here"}, user=fan)
        world.node.head = SEED_LAST + 5
        await fake.wait_for(
            lambda: any(f"<@{fan}>" in (m.content or "") for m in fake.messages(world.reviews)), timeout=60
        )
    finally:
        assert await bot.stop() == 0, bot.log
    reads = fake.find_requests("GET", member)
    assert [r.status for r in reads] == [404, 200], [r.key for r in reads]
    assert bot.log.count(f"404 with no error code to GET /api/v10{member}") == 1, bot.log
    assert "refused" not in bot.log and lane(world, world.reviews) is None


async def test_a_rejected_send_is_recorded_shown_counted_and_breaks_the_feed_when_it_repeats(world: World) -> None:
    fake = world.fake
    bot = BotProcess(world.config, fake)
    await bot.start()
    try:
        await add_feed(world, world.reviews)
        await add_feed(world, world.second)
        fake.faults.add(
            Fault(400, 50035, lambda f: f.method == "POST" and f.params.get("channel_id") == str(world.reviews))
        )
        world.node.head = SEED_LAST + 5
        await fake.wait_for(lambda: titles(world, world.second), timeout=30)
        # The two lanes send side by side: the rejection may be recorded just after the other lane's post.
        await fake.wait_for(
            lambda: db_rows(world.db, "SELECT error_code FROM feeds WHERE channel_id = ?", world.reviews)[0][0],
            timeout=30,
        )
        listing = await command(world, "feed list", {})
        assert "last error" in listing and "50035" in listing, listing
        for i in range(3):
            await new_post(world, f"Rejected post {i}", seen_in=world.second)
        await fake.wait_for(
            lambda: db_rows(world.db, "SELECT broken FROM feeds WHERE channel_id = ?", world.reviews)[0][0], timeout=30
        )
        listing = await command(world, "feed list", {})
        status = await command(world, "status", {})
    finally:
        assert await bot.stop() == 0, bot.log
    errors = db_rows(
        world.db,
        "SELECT last_error, error_status, error_code FROM jobs WHERE channel_id = ? AND error_status IS NOT NULL",
        world.reviews,
    )
    assert len(errors) == 3 and all(e[1:] == (400, 50035) and e[0].startswith("400 50035") for e in errors), errors
    assert "broken" in listing and "rejected 3 sends in a row" in listing and "50035" in listing, listing
    assert "3 rejected (400) in 24 h" in status, status
    # The broken feed keeps the post it has not sent; the healthy one got everything.
    assert db_rows(world.db, "SELECT count(*) FROM jobs WHERE channel_id = ? AND state = 'pending'", world.reviews) == [
        (1,)
    ]
    assert len(titles(world, world.second)) == 4


# A lane refused again is tried once more at most this often (delivery.refused_retry_seconds), shrunk here.
@pytest.mark.parametrize("world_options", [{"refused_retry_seconds": 1.0}])
async def test_a_permission_update_gives_a_refused_channel_one_more_try(world: World) -> None:
    fake = world.fake
    bot = BotProcess(world.config, fake)
    await bot.start()
    try:
        await add_feed(world, world.reviews)
        await add_feed(world, world.second)
        fake.fail_channel(world.reviews, 404, 10003)
        world.node.head = SEED_LAST + 5
        await fake.wait_for(lambda: to_channel(world, world.reviews), timeout=30)
        await new_post(world, "While refused", seen_in=world.second)
        assert len(to_channel(world, world.reviews)) == 1
        # A permission change that fixes nothing: one probe, refused again.
        await fake.set_overwrite(world.reviews, fake.world.guild_id, allow=0, deny=0)
        await fake.wait_for(lambda: len(to_channel(world, world.reviews)) == 2, timeout=30)
        await fake.wait_for(
            lambda: lane(world, world.reviews) and lane(world, world.reviews)[0] == "refused", timeout=30
        )
        await new_post(world, "Still refused", seen_in=world.second)
        assert len(to_channel(world, world.reviews)) == 2
        # A role update in the server (the admin gave the bot's role what it lacked): the next probe,
        # paced from the last refusal, goes through and the lane drains.
        fake.clear_faults()
        guild = fake.world.guild_id
        everyone = payloads.role(fake.state.roles[guild])
        await fake.gateway.dispatch("GUILD_ROLE_UPDATE", {"guild_id": str(guild), "role": everyone}, guild_id=guild)
        await fake.wait_for(lambda: titles(world, world.reviews) == titles(world, world.second), timeout=30)
        status = await command(world, "status", {})
    finally:
        assert await bot.stop() == 0, bot.log
    assert "0 refused" in status, status


async def test_old_finished_jobs_and_delivered_outbox_rows_are_pruned_and_edits_still_find_their_message(
    world: World,
) -> None:
    fake = world.fake
    bot = BotProcess(world.config, fake)
    await bot.start()
    try:
        await add_feed(world, world.reviews)
        world.node.head = SEED_LAST + 5
        await fake.wait_for(lambda: titles(world, world.reviews), timeout=30)
        await fake.wait_for(lambda: db_rows(world.db, "SELECT count(*) FROM jobs WHERE state = 'pending'") == [(0,)])
    finally:
        assert await bot.stop() == 0, bot.log
    # Everything finished and delivered is made older than the retention (14 days).
    with sqlite3.connect(world.db) as conn:
        conn.execute("UPDATE jobs SET finished_at = finished_at - 15 * 86400")
        conn.execute("UPDATE outbox SET at = '2020-01-01T00:00:00'")
        (outbox_before,) = conn.execute("SELECT count(*) FROM outbox").fetchone()
    assert outbox_before > 1
    bot = BotProcess(world.config, fake)
    await bot.start()
    try:
        await fake.wait_for(lambda: db_rows(world.db, "SELECT count(*) FROM jobs") == [(0,)], timeout=30)
        # The newest row stays, so SQLite never hands out a planned id again.
        assert db_rows(world.db, "SELECT count(*) FROM outbox") == [(1,)]
        assert db_rows(world.db, "SELECT count(*) FROM mirrors") == [(1,)]
        (review,) = [m for m in fake.messages(world.reviews) if "Metallic Rouge" in m.embeds[0]["title"]]
        edits = len(review.history)
        # The author edits the review: its job is gone, its mirror is not, so the message is edited.
        num = world.next_block
        world.next_block += 2
        world.node.add_blocks(
            {num: comment_block("alienpunklord", REVIEW, "Metallic Rouge, revisited", "A new body.", "{}")}
        )
        world.node.head = num + 1
        await fake.wait_for(lambda: len(fake.message_by_id(review.id).history) > edits, timeout=30)
        await new_post(world, "After the pruning", seen_in=world.reviews)
    finally:
        assert await bot.stop() == 0, bot.log
    assert "Metallic Rouge, revisited" in fake.message_by_id(review.id).embeds[0]["title"]
    assert titles(world, world.reviews).count("After the pruning") == 1


async def test_a_backoff_survives_a_restart(world: World) -> None:
    """A lane backing off when the bot stops is still backing off when it starts: a restart (or a
    crash loop) never turns it into a burst of retries."""
    fake = world.fake
    bot = BotProcess(world.config, fake)
    await bot.start()
    try:
        await add_feed(world, world.reviews)
        await add_feed(world, world.second)
    finally:
        assert await bot.stop() == 0, bot.log
    with sqlite3.connect(world.db) as conn:  # as a run that met 5 failures in a row left it
        conn.execute(
            "INSERT INTO lanes (lane_id, state, failures, retry_at, reason) VALUES (?, 'backoff', 5, ?, 'x')",
            (world.reviews, time.time() + 3600),
        )
    bot = BotProcess(world.config, fake)
    await bot.start()
    try:
        world.node.head = SEED_LAST + 5
        await fake.wait_for(lambda: titles(world, world.second), timeout=30)
        for i in range(2):
            await new_post(world, f"During the backoff {i}", seen_in=world.second)
        status = await command(world, "status", {})
    finally:
        assert await bot.stop() == 0, bot.log
    assert to_channel(world, world.reviews) == []
    assert "1 backing off" in status, status
    pending = db_rows(world.db, "SELECT count(*) FROM jobs WHERE channel_id = ? AND state = 'pending'", world.reviews)
    assert pending[0][0] >= 3  # the review and two posts wait for the lane
