"""A review's conversation on Discord: the real `hivecord run` puts on-chain replies into a forum post or
a thread on the mirrored message, against the fake Discord (thread and forum routes) and the seed chain."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from diff_match_patch import diff_match_patch

from bot.domain import ThreadMode
from bot.store.store import Store
from tests.bot.test_bot_feeds import add_feed
from tests.bot_harness import BotProcess, RequestCounter, comment_block, db_rows, delivery_settled
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord import permissions as perms
from tests.fakes.discord.faults import Fault
from tests.helpers import ANIME_REALM, SEED_LAST
from tests.world import World

REVIEW = ("alienpunklord", "review-metallic-rouge-mars-machines-and-meaning")
MIGUEL = ("miguelreads", "re-alienpunklord-s4x9k1")
NEON = ("neonwatcher", "re-alienpunklord-t1q2w3")
NEON_BODY = "Looks so nice. Good post 👍"
EMPTY: dict[str, Any] = {"transactions": []}  # irreversible trails head by one block
READERS = [ANIME_REALM, "miguelreads", "neonwatcher"]  # chain order of the seed's replies


def comment_op(author: str, permlink: str, parent: tuple[str, str], body: str) -> dict[str, Any]:
    value = {
        "parent_author": parent[0],
        "parent_permlink": parent[1],
        "author": author,
        "permlink": permlink,
        "title": "",
        "body": body,
        "json_metadata": "{}",
    }
    return {"type": "comment_operation", "value": value}


def ops_block(*ops: dict[str, Any]) -> dict[str, Any]:
    return {"transactions": [{"operations": list(ops)}]}


async def add_feeds(db: Path, guild_id: int, feeds: list[tuple[int, ThreadMode, tuple[str, ...]]]) -> None:
    """Feeds made through the store before the bot starts (so they see the seed from its first block)."""
    store = await Store.open(db)
    try:
        for channel_id, threads, mute in feeds:
            await store.feeds.upsert_feed(
                guild_id=guild_id, channel_id=channel_id, community=ANIME_REALM, posts=True, votes="curators",
                curators=("animerealm.cur",), badges=True, role_id=None, created_by=1, at="2026-11-23T00:00:00",
                threads=threads, mute=mute,
            )  # fmt: skip
    finally:
        await store.close()


def embed_text(message: Any) -> str:
    return json.dumps(message.embeds, ensure_ascii=False)


def reply_author(message: Any) -> str | None:
    """Whose reply a thread message showed when sent (its embed's author), or None for other messages."""
    embeds = message.history[0]["embeds"] if message.history else message.embeds
    if not embeds:
        return None
    name = str(embeds[0].get("author", {}).get("name", ""))
    url = str(embeds[0].get("url", ""))
    for author in [*READERS, "alienpunklord", "reader02", "hivebuzz", "latecomer"]:
        if author in name and "/@" in url and REVIEW[1] not in url:
            return author
    return None


def replies_in(fake: FakeDiscord, thread_id: int) -> list[str]:
    return [a for a in (reply_author(m) for m in fake.messages(thread_id)) if a]


async def test_forum_and_text_threads_carry_the_conversation(world: World) -> None:
    fake = world.fake
    guild = fake.world.guild_id
    forum = (await fake.add_forum_channel(guild, "reviews-forum", tags=["Metallic Rouge", "Action"])).id
    muted = fake.state.add_text_channel(guild, "muted").id
    bot = BotProcess(world.config, fake)
    await bot.start()
    try:
        # Through /feed add, before the chain moves: the feeds see the seed from its first block.
        for channel, options in (
            (forum, {}),
            (world.reviews, {"threads": "on"}),
            (world.second, {}),
            (muted, {"threads": "on", "mute": ANIME_REALM}),
        ):
            answer = await add_feed(world, channel, curators="animerealm.cur", **options)
            assert "Feed added" in answer["title"], answer
        # A quiet review after the seed: no reply, so no thread in the text channel.
        quiet = comment_block("quietwriter", "quiet-review", "Review Quiet Show", "Nothing to say here.", "{}")
        world.node.add_blocks({SEED_LAST + 10: quiet, SEED_LAST + 11: EMPTY})
        await fake.wait_for(lambda: delivery_settled(world.db, SEED_LAST + 10), timeout=60)
        (post,) = fake.threads(forum)[:1]
        (text_thread,) = fake.threads(world.reviews)
        # A moderator locks the muted channel's thread: its later replies are dropped, the feed goes on.
        (muted_thread,) = fake.threads(muted)
        await fake.lock_thread(muted_thread.id)
        # Phase two, once the replies are shown: a nested reply, a reply deleted later, an edit.
        patch = diff_match_patch().patch_toText(diff_match_patch().patch_make(NEON_BODY, NEON_BODY + " Loved it."))
        world.node.add_blocks(
            {
                SEED_LAST + 20: ops_block(
                    comment_op("alienpunklord", "re-thanks", MIGUEL, "Gracias!"),
                    comment_op("reader02", "re-oops", REVIEW, "Oops, wrong post."),
                    {
                        **comment_block("latewriter", "late-review", "Review Late Show", "Still here.", "{}")[
                            "transactions"
                        ][0]["operations"][0]
                    },
                ),
                SEED_LAST + 21: EMPTY,
            }
        )
        await fake.wait_for(lambda: delivery_settled(world.db, SEED_LAST + 20), timeout=60)
        # A week of quiet archives both threads: an edit reopens them (a send does so by itself).
        await fake.archive_thread(post.id)
        await fake.archive_thread(text_thread.id)
        world.node.add_blocks(
            {
                SEED_LAST + 30: ops_block(
                    comment_op(*NEON, REVIEW, patch),
                    {"type": "delete_comment_operation", "value": {"author": "reader02", "permlink": "re-oops"}},
                ),
                SEED_LAST + 31: EMPTY,
            }
        )
        await fake.wait_for(lambda: delivery_settled(world.db, SEED_LAST + 30), timeout=60)
        # /search links each review to its conversation in this server, and so does a shared review.
        caller = fake.world.member_id
        search = await fake.send_interaction(guild, world.second, caller, "search", {"query": "metallic rouge"})
        found = json.dumps((await search.response(timeout=10))["data"]["embeds"])
        row = next(r for r in (await search.wait_original()).components for c in r["components"] if c["type"] == 3)
        picker = row["components"][0]
        shared = await search.click(
            picker["custom_id"], user_id=caller, component_type=3, values=[picker["options"][0]["value"]]
        )
        await shared.response(timeout=10)
    finally:
        assert await bot.stop() == 0, bot.log

    # The forum: one post named after the review, the series tag applied, the edited review as starter.
    threads = fake.threads(forum)
    assert len(threads) == 3, [t.name for t in threads]  # every review gets its forum post, quiet or not
    assert post.name.startswith("Review Metallic Rouge")
    assert post.applied_tags == [fake.tag_id(forum, "Metallic Rouge")]
    starter = fake.starter_message(post.id)
    assert "It is not perfect" in embed_text(starter) and starter.history, "the on-chain edit edits the starter"
    in_post = fake.messages(post.id)
    texts = [embed_text(m) for m in in_post]
    assert replies_in(fake, post.id) == [*READERS, "alienpunklord", "reader02"]
    assert sum("Votes on @" in t for t in texts) == 1, texts
    assert sum("HiveBuzz" in t or "9000" in t for t in texts) == 1, texts  # the badge, and no notice as a reply
    assert "hivebuzz" not in replies_in(fake, post.id)

    # The text channel with threads on: a thread on the mirrored message, with the same replies.
    assert text_thread.id == next(m.id for m in fake.messages(world.reviews) if "Metallic" in embed_text(m))
    assert replies_in(fake, text_thread.id) == [*READERS, "alienpunklord", "reader02"]
    nested = next(m for m in fake.messages(text_thread.id) if reply_author(m) == "alienpunklord")
    assert "miguelreads" in embed_text(nested), "a nested reply says whom it answers"
    neon = next(m for m in fake.messages(text_thread.id) if reply_author(m) == "neonwatcher")
    assert "Loved it." in embed_text(neon) and neon.history, "the on-chain edit edits the reply's message"
    in_forum = next(m for m in fake.messages(post.id) if reply_author(m) == "neonwatcher")
    assert "Loved it." in embed_text(in_forum), "an archived forum post is reopened for the edit"
    oops = next(m for m in fake.messages(text_thread.id) if reply_author(m) == "reader02")
    assert "Oops, wrong post." not in embed_text(oops) and oops.history, "a deleted reply becomes a tombstone"

    links = {f"[Discuss](https://discord.com/channels/{guild}/{t})" for t in (post.id, text_thread.id)}
    assert any(link in found for link in links), found
    share = next(m for m in fake.messages(world.second) if m.content.startswith("Shared by"))
    assert any(link.removeprefix("[Discuss]") in embed_text(share) for link in links), embed_text(share)

    # threads off: no thread; muted: the community's welcome is left out.
    assert fake.threads(world.second) == []
    assert replies_in(fake, muted_thread.id) == ["miguelreads", "neonwatcher"]
    # The locked thread: one log line, the feed healthy, the review after the lock still mirrored.
    assert bot.log.count("is locked; its later replies are dropped") == 1, bot.log
    assert db_rows(world.db, "SELECT count(*) FROM feeds WHERE broken IS NOT NULL") == [(0,)]
    assert any("Review Late Show" in embed_text(m) for m in fake.messages(muted))
    assert not fake.violations, fake.violations
    dropped = db_rows(
        world.db, "SELECT feed_id FROM jobs WHERE state = 'dropped' AND last_error NOT LIKE 'queued again%'"
    )
    assert {f for (f,) in dropped} <= {4}, dropped  # only the locked thread's


@pytest.mark.slow
async def test_sigkills_during_a_burst_of_replies_lose_and_repeat_nothing(world: World) -> None:
    fake = world.fake
    guild = fake.world.guild_id
    forum = (await fake.add_forum_channel(guild, "reviews-forum")).id
    await add_feeds(world.db, guild, [(forum, "forum", ()), (world.reviews, "on", ())])
    first = SEED_LAST + 1
    posts = [(f"writer{p}", f"burst-review-{p}") for p in range(3)]
    blocks = {first + p: comment_block(*posts[p], f"Burst review {p}", f"Body {p}", "{}") for p in range(3)}
    # 60 replies across the 3 posts, interleaved, two to a block.
    for i in range(0, 60, 2):
        blocks[first + 3 + i // 2] = ops_block(
            *(comment_op(f"fan{j % 7}", f"re-burst-{j:02d}", posts[j % 3], f"Burst reply {j:02d}") for j in (i, i + 1))
        )
    last = first + 3 + 30
    blocks[last + 1] = EMPTY
    world.node.add_blocks(blocks)
    # Answers come back late, so kills land after Discord made a message and before the bot heard of it.
    fake.answer_delay = 0.02
    # Discord's thread-creation limit, made tight: the lanes wait it out rather than spin.
    fake.buckets.thread_create = (2, 1.0)
    forum_posts = RequestCounter(fake, "POST", "/channels/{channel_id}/threads")
    top = {f"/channels/{c}/messages" for c in (forum, world.reviews)}
    replies_sent = RequestCounter(fake, "POST", "/channels/{channel_id}/messages", lambda r: r.path not in top)

    def burst_replies(thread_id: int) -> list[str]:
        texts = [embed_text(m) for m in fake.messages(thread_id)]
        return [t[t.index("Burst reply ") :][:14] for t in texts if "Burst reply " in t]

    def delivered() -> int:
        threads = [*fake.threads(forum), *fake.threads(world.reviews)]
        return sum(len(burst_replies(t.id)) for t in threads)

    # The first kill lands on a forum post's creation (it takes no nonce); three more during the replies.
    kill_points = [lambda: forum_posts() >= 2, *(lambda n=n: replies_sent() >= n for n in (15, 45, 80))]
    kills = 0
    starts: list[int] = []  # where each process's requests begin in fake.requests
    while True:
        bot = BotProcess(world.config, fake)
        starts.append(len(fake.requests))
        await bot.start(wait_ready=False)
        point = kill_points[kills] if kills < len(kill_points) else None
        if point is None or not await bot.kill_at(point, unless=lambda: delivered() >= 120):
            await fake.wait_for(lambda: delivery_settled(world.db, last), timeout=90)
            assert await bot.stop() == 0, bot.log
            break
        kills += 1
    assert kills == len(kill_points)
    forum_threads = fake.threads(forum)
    assert [t.name for t in forum_threads] == [
        "Review Metallic Rouge 🤖Mars, Machines, and Meaning", "Burst review 0", "Burst review 1", "Burst review 2"
    ]  # fmt: skip
    for parent in (forum, world.reviews):
        threads = {t.name: t.id for t in fake.threads(parent)}
        for p in range(3):
            expected = [f"Burst reply {j:02d}" for j in range(60) if j % 3 == p]
            assert burst_replies(threads[f"Burst review {p}"]) == expected
    made = [r for r in fake.requests if r.method == "POST" and (r.route or "").endswith("/threads")]
    assert len(made) >= 8
    # Four posts per channel against a bucket of two a second: within a process's life the bucket's
    # headers are waited out, never hit. A process started right after a kill cannot know the bucket
    # its predecessor emptied: it may meet one 429 per channel, on its first thread there.
    for start, end in zip(starts, [*starts[1:], len(fake.requests)], strict=True):
        first_seen: set[str] = set()
        for r in fake.requests[start:end]:
            if r.method == "POST" and (r.route or "").endswith("/threads"):
                channel = r.path.split("/")[2]
                assert r.status != 429 or channel not in first_seen, (r.path, start)
                first_seen.add(channel)
    assert not fake.violations, fake.violations


@pytest.mark.parametrize("history", [True, False], ids=["can-read-history", "history-denied-then-given"])
async def test_a_forum_post_made_before_a_kill_and_closed_since_is_found_not_made_again(
    world: World, history: bool
) -> None:
    """The bot dies as Discord makes a review's forum post; a moderator closes (archives) it before
    the restart. The restart finds it among the forum's archived posts: the review keeps one post,
    and its replies go into it. Without Read Message History the archived posts cannot be listed:
    the forum's lane stops on that one refusal (no second post) until the permission comes back."""
    fake = world.fake
    forum = (await fake.add_forum_channel(fake.world.guild_id, "reviews-forum")).id
    await add_feeds(world.db, fake.world.guild_id, [(forum, "forum", ())])
    forum_posts = RequestCounter(fake, "POST", "/channels/{channel_id}/threads")
    world.node.add_blocks({SEED_LAST + 1: EMPTY})  # the chain moves through the seed
    bot = BotProcess(world.config, fake)
    await bot.start(wait_ready=False)
    assert await bot.kill_at(lambda: forum_posts() >= 1, unless=lambda: False)
    (made,) = fake.threads(forum)
    await fake.archive_thread(made.id)
    bot_role = fake.world.bot_role_id
    if not history:
        await fake.set_overwrite(forum, bot_role, deny=perms.READ_MESSAGE_HISTORY)
    bot = BotProcess(world.config, fake)
    await bot.start(wait_ready=False)
    try:
        if not history:
            refused = f"SELECT 1 FROM lanes WHERE lane_id = {forum} AND state = 'refused'"
            await fake.wait_for(lambda: db_rows(world.db, refused), timeout=60)
            assert forum_posts() == 1
            await fake.set_overwrite(forum, bot_role)  # given back: the lane tries once more
        await fake.wait_for(lambda: delivery_settled(world.db, SEED_LAST), timeout=90)
    finally:
        assert await bot.stop() == 0, bot.log
    assert forum_posts() == 1
    assert [t.id for t in fake.threads(forum)] == [made.id]
    assert replies_in(fake, made.id) == READERS
    answers = [r.status for r in fake.find_requests("GET", "/channels/{channel_id}/threads/archived/public")]
    assert answers == ([200] if history else [403, 200])
    assert not fake.violations, fake.violations


async def test_a_thread_made_late_starts_with_the_replies_already_on_chain(world: World) -> None:
    fake = world.fake
    await add_feeds(world.db, fake.world.guild_id, [(world.reviews, "off", ())])
    bot = BotProcess(world.config, fake)
    await bot.start()
    try:
        world.node.add_blocks({SEED_LAST + 1: EMPTY})
        await fake.wait_for(lambda: delivery_settled(world.db, SEED_LAST), timeout=60)
        assert fake.threads(world.reviews) == []
        # Threads turned on later; and one reply the store never got (downtime): bridge has it.
        with sqlite3.connect(world.db) as conn:
            conn.execute("UPDATE feeds SET threads = 'on'")
            missed = "(SELECT id FROM replies WHERE author = 'neonwatcher')"
            conn.execute(f"DELETE FROM outbox WHERE reply_id IN {missed}")
            conn.execute(f"DELETE FROM replies WHERE id IN {missed}")
        world.node.add_blocks({SEED_LAST + 5: ops_block(comment_op("latecomer", "re-late", REVIEW, "Late!")),
                               SEED_LAST + 6: EMPTY})  # fmt: skip
        await fake.wait_for(lambda: delivery_settled(world.db, SEED_LAST + 5), timeout=60)
    finally:
        assert await bot.stop() == 0, bot.log
    (thread,) = fake.threads(world.reviews)
    # The seed's replies first, in chain order, each once; then the new one.
    assert replies_in(fake, thread.id) == [*READERS, "latecomer"]
    assert not fake.violations, fake.violations


async def test_a_series_alert_links_to_the_reviews_forum_post(world: World) -> None:
    """Item 7: a subscriber's alert says where the review is discussed in the server they subscribed in.
    DMs open only once the bot has recorded the review's forum post: however the two lanes race, the
    alert goes out after that (tried again after a backoff when it came first), and its link is looked
    up just before the send."""
    fake = world.fake
    guild = fake.world.guild_id
    forum = (await fake.add_forum_channel(guild, "reviews-forum", tags=["Metallic Rouge"])).id
    fan = fake.state.add_user("fan").id
    fake.state.add_member(guild, fan)

    def no_thread_recorded() -> bool:
        return not db_rows(world.db, "SELECT 1 FROM threads WHERE thread_id != 0")

    fake.faults.add(
        Fault(503, None, lambda f: f.method == "POST" and f.template == "/users/@me/channels" and no_thread_recorded())
    )
    bot = BotProcess(world.config, fake)
    await bot.start()
    try:
        assert "Feed added" in (await add_feed(world, forum, votes="off", badges=False))["title"]
        handle = await fake.send_interaction(guild, world.reviews, fan, "subscribe", {"series": "Metallic Rouge"})
        await handle.response(timeout=10)
        world.node.head = SEED_LAST + 5
        await fake.wait_for(lambda: world.dms(fan), timeout=60)
    finally:
        assert await bot.stop() == 0, bot.log
    (post,) = fake.threads(forum)
    (dm,) = world.dms(fan)
    fields = dm.embeds[0].get("fields", [])
    assert [f["value"] for f in fields if f["name"] == "Discuss"] == [
        f"[In its thread](https://discord.com/channels/{guild}/{post.id})"
    ], dm.embeds
    assert not fake.violations
