"""The community's own moderation on Discord: the real `hivecord run` against the seed chain on the fake
node (which serves bridge.list_community_roles) and the fake Discord. A muted account's post is not
mirrored; a moderator's mutePost turns the mirrors (a text channel's message, a forum post's starter)
into a tombstone and stops the post's votes and replies, and takes the Upvote button the community's
curation account gives them away; the tombstone names the post and its author, and the post's threads
take a neutral name; the same op from anyone else changes nothing; unmutePost restores the post, its
button and its threads' names; a muted account's reply is not mirrored, a moderator's mutePost of a
reply tombstones its message until unmutePost; a post job still waiting when its post is muted goes
out as the tombstone; a setRole muting an account applies from the next block."""

from __future__ import annotations

import json
from typing import Any

from tests.bot.test_bot_conversation import add_feeds, comment_op, ops_block
from tests.bot.test_bot_curation import ACCOUNT, KEY, KEY_ENV, WIF, upvote_button
from tests.bot_harness import comment_block, db_rows, delivery_settled
from tests.fakes.chain_gen import mute_post_op, set_role_op
from tests.fakes.discord.faults import Fault
from tests.fakes.discord.state import StoredMessage
from tests.fakes.hive import hive_account
from tests.helpers import ANIME_REALM, SEED_LAST
from tests.world import World, running_bot

REVIEW = ("alienpunklord", "review-metallic-rouge-mars-machines-and-meaning")
EMPTY: dict[str, Any] = {"transactions": []}  # irreversible trails head by one block
POST_URL = f"https://hive.blog/{ANIME_REALM}/@"  # a post's; a reply's has no community in it
NOTES = "@everyone off-topic <@&1> [see](https://evil.example) **spam**"
MUTED_NAME = "Post muted by the community's moderators"


def thread_names(world: World, *channels: int) -> dict[int, str]:
    """The names of the review's threads: the thread on its message, and its forum post."""
    ids = {mirror(world, c).id for c in channels}
    return {t.id: t.name for c in channels for t in world.fake.threads(c) if t.id in ids}


def thread_text(world: World, thread_id: int) -> str:
    return json.dumps([m.embeds for m in world.fake.messages(thread_id)])


def mirror(world: World, channel: int) -> StoredMessage:
    """The channel's message (or forum post's starter) mirroring the seed review."""
    (message_id,) = db_rows(
        world.db,
        "SELECT m.message_id FROM mirrors m JOIN posts p ON p.id = m.post_id"
        " WHERE m.channel_id = ? AND p.author = ? AND p.permlink = ?",
        channel, *REVIEW,
    )[0]  # fmt: skip
    return world.fake.state.messages[int(message_id)]


def titles(world: World, channel: int) -> list[str]:
    """Every post title mirrored in a channel (or as a forum's posts), in order."""
    where = [channel, *(t.id for t in world.fake.threads(channel))]
    return [
        str(m.embeds[0].get("title"))
        for c in where
        for m in world.fake.messages(c)
        if m.embeds and m.embeds[0].get("title") and str(m.embeds[0].get("url", "")).startswith(POST_URL)
    ]


async def chain(world: World, block: int, *ops: dict[str, Any]) -> None:
    """`ops` in block `block`, then waits until the bot followed it and delivered all it owes."""
    world.node.add_blocks({block: ops_block(*ops), block + 1: EMPTY})
    await world.fake.wait_for(lambda: delivery_settled(world.db, block), timeout=60)


async def test_the_communitys_mutes_are_kept_on_discord(world: World) -> None:
    fake = world.fake
    forum = (await fake.add_forum_channel(fake.world.guild_id, "reviews-forum", tags=["Action"])).id
    world.node.community_roles[ANIME_REALM].append(["spammer01", "muted", ""])
    await add_feeds(world.db, fake.world.guild_id, [(world.reviews, "on", ()), (forum, "forum", ())])
    # The community's curation account, whose key the bot holds: mirrors carry the Upvote button.
    world.node.accounts[ACCOUNT] = hive_account(ACCOUNT, [(str(KEY.pubkey), 1)])
    text = world.config.read_text(encoding="utf-8")
    world.config.write_text(text + f'\n[curation]\naccounts = {{ "{ANIME_REALM}" = "{ACCOUNT}" }}\n', encoding="utf-8")
    async with running_bot(world.config, fake, env={KEY_ENV: WIF}) as bot:
        # The roles are read at start; the seed and a post of the muted account come after.
        await fake.wait_for(lambda: db_rows(world.db, "SELECT 1 FROM community_roles WHERE role = 'muted'"), 30)
        spam = comment_block("spammer01", "buy-tokens", "Buy tokens now", "Cheap!", "{}")["transactions"][0]
        fine = comment_block("goodwriter", "fine-review", "Review Fine Show", "Good.", "{}")["transactions"][0]
        await chain(world, SEED_LAST + 10, *spam["operations"], *fine["operations"])
        for channel in (world.reviews, forum):
            assert len(titles(world, channel)) == 2, titles(world, channel)
            assert not any("Buy tokens" in t for t in titles(world, channel))
        assert db_rows(world.db, "SELECT count(*) FROM posts WHERE author = 'spammer01'") == [(0,)]
        (thread,) = fake.threads(world.reviews)
        replies_before = len(fake.messages(thread.id))
        names = thread_names(world, world.reviews, forum)
        assert len(names) == 2 and all("Metallic Rouge" in n for n in names.values()), names
        shown = {c: json.dumps(mirror(world, c).embeds) for c in (world.reviews, forum)}
        (review_id,) = db_rows(world.db, "SELECT id FROM posts WHERE author = ? AND permlink = ?", *REVIEW)[0]
        for channel in shown:
            assert upvote_button(mirror(world, channel)) == f"hc:up:{review_id}", mirror(world, channel).components

        # A reader's mutePost: nothing changes.
        await chain(world, SEED_LAST + 20, mute_post_op("reader01", ANIME_REALM, *REVIEW, "mine now"))
        assert {c: json.dumps(mirror(world, c).embeds) for c in shown} == shown

        # The community's moderator mutes it: both mirrors become the tombstone, the notes inert.
        await chain(world, SEED_LAST + 30, mute_post_op("animerealm.cur", ANIME_REALM, *REVIEW, NOTES))
        for channel in (world.reviews, forum):
            (embed,) = mirror(world, channel).embeds
            assert embed["title"] == "Post muted", embed
            text = embed["description"]
            # Which post it stood for: its title and author, with the notes inert.
            assert "community's moderators muted **" in text and "Metallic Rouge" in text, text
            assert "by @alienpunklord" in text and "off-topic" in text
            assert "@everyone" not in text and "<@&" not in text and "](" not in text
            assert not mirror(world, channel).components  # no Upvote on a muted post
        # Its threads no longer carry its title.
        assert thread_names(world, world.reviews, forum) == {t: MUTED_NAME for t in names}
        # Its votes and replies are no news now: no vote message, no count edit, no reply in its thread.
        edits = len(mirror(world, world.reviews).history)
        messages = len(fake.messages(world.reviews))
        await chain(
            world,
            SEED_LAST + 40,
            {"type": "vote_operation", "value": {"voter": "animerealm.cur", "author": REVIEW[0],
                                                 "permlink": REVIEW[1], "weight": 5000}},
            comment_op("reader01", "re-muted", REVIEW, "Still here?"),
        )  # fmt: skip
        assert len(fake.messages(world.reviews)) == messages
        assert len(mirror(world, world.reviews).history) == edits
        assert len(fake.messages(thread.id)) == replies_before
        assert not any("Still here" in json.dumps(m.embeds) for m in fake.messages(thread.id))

        # unmutePost by the moderator: the mirrors are the review again.
        await chain(world, SEED_LAST + 50, mute_post_op("animerealm.cur", ANIME_REALM, *REVIEW, mute=False))
        for channel in (world.reviews, forum):
            (embed,) = mirror(world, channel).embeds
            assert "Metallic Rouge" in embed["title"] and embed["url"].startswith("https://hive.blog/"), embed
            # The curation account may vote on it again: the Upvote button is back, naming the post's row.
            assert upvote_button(mirror(world, channel)) == f"hc:up:{review_id}", mirror(world, channel).components
        assert thread_names(world, world.reviews, forum) == names

        # A reply by the account the community muted is not mirrored (hivemind hides it); another is.
        await chain(
            world,
            SEED_LAST + 52,
            comment_op("spammer01", "re-spam", REVIEW, "Buy tokens in a reply"),
            comment_op("reader02", "re-fine", REVIEW, "A fine review, thanks"),
        )
        for thread_id in names:
            assert "A fine review" in thread_text(world, thread_id), thread_text(world, thread_id)
            assert "Buy tokens" not in thread_text(world, thread_id)
        # A moderator mutes that reply: its messages become the reply's tombstone, until unmutePost.
        await chain(world, SEED_LAST + 54, mute_post_op("animerealm.cur", ANIME_REALM, "reader02", "re-fine", NOTES))
        for thread_id in names:
            assert "A fine review" not in thread_text(world, thread_id)
            assert "Reply muted" in thread_text(world, thread_id) and "@reader02" in thread_text(world, thread_id)
        await chain(
            world, SEED_LAST + 56, mute_post_op("animerealm.cur", ANIME_REALM, "reader02", "re-fine", mute=False)
        )
        for thread_id in names:
            text = thread_text(world, thread_id)
            assert "A fine review" in text and "Reply muted" not in text, text

        # A post job still waiting (its channel failing) when a moderator mutes the post: it goes out
        # as the tombstone, never as the post.
        failing = fake.faults.add(
            Fault(503, None, lambda f: f.method == "POST" and f.params.get("channel_id") == str(world.reviews))
        )
        late = comment_block("latewriter", "late-review", "Review Late Show", "Late.", "{}")["transactions"][0]
        world.node.add_blocks({SEED_LAST + 58: ops_block(*late["operations"]), SEED_LAST + 59: EMPTY})
        await fake.wait_for(lambda: failing.hits > 0, timeout=60)
        world.node.add_blocks(
            {
                SEED_LAST + 60: ops_block(mute_post_op("animerealm.cur", ANIME_REALM, "latewriter", "late-review")),
                SEED_LAST + 61: EMPTY,
            }
        )
        await fake.wait_for(lambda: db_rows(world.db, "SELECT 1 FROM muted_posts WHERE notes = ''"), timeout=60)
        fake.faults.rules.remove(failing)
        await fake.wait_for(lambda: delivery_settled(world.db, SEED_LAST + 60), timeout=60)
        (late_message,) = [m for m in fake.messages(world.reviews) if "Late Show" in json.dumps(m.embeds)]
        shown = [late_message.embeds, *(v.get("embeds") for v in late_message.history)]
        assert all(e and e[0]["title"] == "Post muted" for e in shown), shown
        assert late_message.content == ""  # no role ping or author mention for it
        # The owner mutes an account on chain (hivemind lists it too); its next post is not mirrored.
        world.node.community_roles[ANIME_REALM].append(["goodwriter", "muted", ""])
        await chain(world, SEED_LAST + 62, set_role_op(ANIME_REALM, ANIME_REALM, "goodwriter", "muted"))
        again = comment_block("goodwriter", "second-review", "Review Second Show", "Again.", "{}")
        await chain(world, SEED_LAST + 70, *again["transactions"][0]["operations"])
        for channel in (world.reviews, forum):
            assert not any("Second Show" in t for t in titles(world, channel)), titles(world, channel)
        assert "mutePost of alienpunklord/" in bot.log and "ignored: only the community's moderators" in bot.log
    assert not fake.violations, fake.violations
    assert not fake.unknown_requests, fake.unknown_requests
