"""Replies from Discord, the guards around them, through the real `hivecord run`: the 20 s cap holds for
commands sent at once; what the community or the feed mutes is not posted through the bot; a thread a member
starts on a text channel's mirrored message is that post's thread; the copy is only posted where the member
could post it (Embed Links, a locked thread); Discord's mention syntax goes on chain as names; a node's error
and a deleted reply are refused in words.

One bot serves the module: a forum feed (muting one account's replies) and a text channel feed with
threads:on, both of Anime Realm, and two posts of its own after the seed."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from beemgraphenebase.account import PrivateKey

from bot.store.store import Store
from tests.bot.test_bot_conversation import add_feeds, ops_block
from tests.bot.test_bot_reply import BRIDGE, KEY, KEY_ENV, NEON, WIF, World, answer, link, mirrored_reply, run
from tests.bot_harness import TOKEN, BotProcess, bot_config, comment_block, db_rows, delivery_settled
from tests.fakes.chain_gen import mute_post_op
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.threads import announce_thread
from tests.fakes.hive import hive_account
from tests.fakes.hive.errors import RpcError
from tests.helpers import ANIME_REALM, SEED_FIRST, SEED_LAST
from tests.world import seed_node

pytestmark = pytest.mark.asyncio(loop_scope="module")

MEMBERS = ("ann.r", "ben.r", "cat.r", "dan.r", "eve.r", "fay.r", "gus.r", "hal.r", "ivy.r", "muted.r", "fmute.r")
CHECK = "\N{WHITE HEAVY CHECK MARK}"
PENCIL, BIN = "\N{PENCIL}\N{VARIATION SELECTOR-16}", "\N{WASTEBASKET}\N{VARIATION SELECTOR-16}"
FRESH = ("goodwriter", "fresh-review-of-the-week")  # no reply yet: a text channel has no thread for it
HUSHED = ("goodwriter", "hushed-review-of-the-week")  # its community's moderators mute it
POSTS_AT = SEED_LAST + 10
EMBED_LINKS = 1 << 14


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    folder = tmp_path_factory.mktemp("reply-guards")
    node, _ = seed_node_with_members()
    hive_url = node.start_in_thread()
    fake = FakeDiscord(token=TOKEN)
    guild = fake.world.guild_id
    forum = fake.state.add_forum_channel(guild, "reviews").id
    talk = fake.state.add_text_channel(guild, "talk").id
    fake.state.add_role(guild, "Night Readers", 0, mentionable=True)  # known to the bot from its start
    members = {}
    for name in MEMBERS:
        user = fake.state.add_user(name.replace(".", "")).id
        fake.state.add_member(guild, user)
        members[name] = user
    db = folder / "hivecord.sqlite3"
    await link(db, {u: a for a, u in members.items()})
    await opt_in(db, members.values())
    await add_feeds(db, guild, [(forum, "forum", ("fmute.r",)), (talk, "on", ())])
    await fake.start()
    config = bot_config(folder, hive_url, fake, start_block=SEED_FIRST)
    config.write_text(config.read_text() + f'\n[bridge]\naccount = "{BRIDGE}"\n')
    bot = BotProcess(config, fake, env={KEY_ENV: WIF})
    made = World(fake, node, bot, folder, config, forum, talk, members)
    try:
        await bot.start()
        fresh, hushed = (comment_block(*key, f"Review {key[1]}", "A review.", "{}") for key in (FRESH, HUSHED))
        ops = [*fresh["transactions"][0]["operations"], *hushed["transactions"][0]["operations"]]
        node.add_blocks({POSTS_AT: ops_block(*ops), POSTS_AT + 1: {"transactions": []}})
        await fake.wait_for(lambda: delivery_settled(made.db, POSTS_AT) or None, timeout=90)
        await fake.wait_for(lambda: mirrored_reply(made, NEON[0]), timeout=60)
        yield made
        assert not fake.violations and not fake.unknown_requests
        assert not fake.internal_errors
    finally:
        code = await made.bot.stop()
        await fake.stop()
        node.stop_thread()
    assert code == 0, made.bot.log


def seed_node_with_members() -> tuple[Any, str]:
    node, body = seed_node(head=SEED_LAST + 5)
    node.accounts[BRIDGE] = hive_account(BRIDGE, [(str(KEY.pubkey), 1)])
    for name in MEMBERS:
        node.accounts[name] = hive_account(name, [(str(PrivateKey().pubkey), 1)], account_auths=[(BRIDGE, 1)])
    node.community_roles[ANIME_REALM].append(["muted.r", "muted", ""])
    return node, body


async def opt_in(db: Path, users: Any) -> None:
    store = await Store.open(db)
    try:
        for user in users:
            await store.discord_replies.set_enabled(user, True, time.time())
    finally:
        await store.close()


def forum_post_of(world: World, key: tuple[str, str]) -> int:
    (thread,) = db_rows(world.db, "SELECT t.thread_id FROM threads t JOIN posts p ON p.id = t.post_id WHERE"
                        " t.channel_id = ? AND p.author = ? AND p.permlink = ?", world.forum, *key)[0]  # fmt: skip
    return int(thread)


async def test_replies_sent_at_once_make_one_comment(world: World) -> None:
    user, where = world.members["ann.r"], world.thread
    guild = world.fake.world.guild_id
    handles = [
        await world.fake.send_interaction(guild, where, user, "reply post", {"text": f"At once {n}"}) for n in range(3)
    ]
    said = await asyncio.gather(*(answer(h) for h in handles))
    assert sum("Reply posted" in s for s in said) == 1, said
    assert sum("One reply every 20 seconds" in s for s in said) == 2, said
    assert len(world.comments_by("ann.r")) == 1 and world.broadcasts_by("ann.r") == 1
    assert len(db_rows(world.db, "SELECT 1 FROM discord_replies WHERE author = 'ann.r'")) == 1


async def test_muted_accounts_and_posts_get_no_reply_through_the_bot(world: World) -> None:
    said = await run(world, "fmute.r", "reply post", {"text": "hi"})
    assert "muted in this feed's threads" in said and "Nothing was sent" in said, said
    said = await run(world, "muted.r", "reply post", {"text": "hi"})
    assert "moderators muted @muted.r" in said, said
    mine = await world.fake.post_user_message(world.thread, world.members["muted.r"], "Still me")
    said = await answer(await world.fake.send_message_command(mine.id, world.members["muted.r"], "Post to Hive"))
    assert "moderators muted @muted.r" in said, said
    # The community's moderator mutes a post: no reply to it through the bot.
    hushed = forum_post_of(world, HUSHED)
    world.node.add_blocks({POSTS_AT + 20: ops_block(mute_post_op("animerealm.cur", ANIME_REALM, *HUSHED, "spam")),
                           POSTS_AT + 21: {"transactions": []}})  # fmt: skip
    await world.fake.wait_for(lambda: delivery_settled(world.db, POSTS_AT + 20) or None, timeout=60)
    said = await run(world, "ben.r", "reply post", {"text": "hi"}, channel=hushed)
    assert "moderators muted this post" in said, said
    assert world.broadcasts_by("fmute.r") == world.broadcasts_by("muted.r") == world.broadcasts_by("ben.r") == 0
    assert db_rows(world.db, "SELECT 1 FROM discord_replies WHERE author IN ('fmute.r', 'muted.r', 'ben.r')") == []


async def test_a_members_thread_on_a_mirrored_message_is_the_posts_thread(world: World) -> None:
    ((message_id,),) = db_rows(world.db, "SELECT m.message_id FROM mirrors m JOIN posts p ON p.id = m.post_id"
                               " WHERE m.channel_id = ? AND p.permlink = ?", world.lobby, FRESH[1])  # fmt: skip
    thread = world.fake.state.add_thread(world.lobby, "my take", thread_id=int(message_id))
    thread.owner_id = world.members["cat.r"]
    await announce_thread(world.fake, "THREAD_CREATE", thread)
    said = await run(world, "cat.r", "reply post", {"text": "First!"}, channel=thread.id)
    assert "Reply posted" in said, said
    (comment,) = world.comments_by("cat.r")
    assert (comment["parent_author"], comment["parent_permlink"]) == FRESH
    assert db_rows(world.db, "SELECT t.thread_id FROM threads t JOIN posts p ON p.id = t.post_id"
                   " WHERE t.channel_id = ? AND p.permlink = ?", world.lobby, FRESH[1]) == [(thread.id,)]  # fmt: skip
    # A reply from any wallet later goes into the same thread; the member's reply is shown there once.
    num = world.node.head + 1
    reply = {"parent_author": FRESH[0], "parent_permlink": FRESH[1], "author": "neonwatcher",
             "permlink": "re-fresh-later", "title": "", "body": "Later, from a wallet",
             "json_metadata": "{}"}  # fmt: skip
    world.node.add_blocks({num: ops_block({"type": "comment_operation", "value": reply})})
    world.node.head = num + 3

    def shown(text: str) -> list[Any]:
        return [m for m in world.fake.messages(thread.id) if text in json.dumps(m.embeds)]

    await world.fake.wait_for(lambda: shown("Later, from a wallet") or None, timeout=60)
    await world.fake.wait_for(lambda: delivery_settled(world.db, num) or None, timeout=60)
    assert len(shown("First!")) == 1
    assert len(world.fake.threads(world.lobby)) == len({t.id for t in world.fake.threads(world.lobby)})


async def test_the_copy_goes_only_where_the_member_could_post_it(world: World) -> None:
    where = forum_post_of(world, FRESH)
    dan = world.members["dan.r"]
    await world.fake.set_overwrite(world.forum, dan, kind=1, deny=EMBED_LINKS)
    try:
        said = await run(world, "dan.r", "reply post", {"text": "no embeds"}, channel=where)
    finally:
        await world.fake.set_overwrite(world.forum, dan, kind=1)
    assert "Embed Links" in said, said
    await world.fake.lock_thread(where, archived=False)
    try:
        said = await run(world, "dan.r", "reply post", {"text": "locked out"}, channel=where)
    finally:
        thread = world.fake.state.channels[where]
        thread.locked = False
        await announce_thread(world.fake, "THREAD_UPDATE", thread)
    assert "This thread is locked" in said and "Manage Threads" in said, said
    assert world.broadcasts_by("dan.r") == 0
    # Slow mode holds for the copy as for the member's own messages (here longer than the bot's 20 s).
    said = await run(world, "dan.r", "reply post", {"text": "now I may"}, channel=where)
    assert "Reply posted" in said, said
    with sqlite3.connect(world.db) as conn:  # as if signed 30 s ago: past the 20 s cap, within the slow mode
        conn.execute("UPDATE discord_replies SET created_at = created_at - 30 WHERE author = 'dan.r'")
    thread.slowmode = 120
    await announce_thread(world.fake, "THREAD_UPDATE", thread)
    try:
        said = await run(world, "dan.r", "reply post", {"text": "too soon for this thread"}, channel=where)
    finally:
        thread.slowmode = 0
        await announce_thread(world.fake, "THREAD_UPDATE", thread)
    assert "slow mode lets you write once every 120 s" in said, said
    assert world.broadcasts_by("dan.r") == 1


async def test_mentions_go_on_chain_as_names_and_ping_nobody(world: World) -> None:
    (role,) = [r for r in world.fake.state.roles.values() if r.name == "Night Readers"]
    text = (f"Thanks <@{world.members['ann.r']}> and <@!{world.members['ben.r']}>, see <#{world.lobby}>"
            f" <@&{role.id}> <a:blob:123456789012345678> @everyone")  # fmt: skip
    said = await run(world, "eve.r", "reply post", {"text": text})
    assert "Reply posted" in said, said
    (comment,) = world.comments_by("eve.r")
    assert comment["body"] == "Thanks @annr and @benr, see #talk @Night Readers :blob: @everyone"
    eve = f"<@{world.members['eve.r']}>"
    (copy,) = [r for r in world.fake.find_requests("POST", "/channels/{channel_id}/messages")
               if isinstance(r.json, dict) and str(r.json.get("content", "")).startswith(eve)]  # fmt: skip
    assert copy.json["allowed_mentions"] == {"parse": []}
    assert "@annr" in json.dumps(copy.json["embeds"]) and "<@" not in json.dumps(copy.json["embeds"])


async def test_a_nodes_error_and_a_deleted_reply_are_refused_in_words(world: World) -> None:
    def refuse(_: Any) -> Any:
        raise RpcError(-32003, "Assert Exception: database is busy")

    world.node.tamper["condenser_api.get_accounts"] = refuse
    try:
        said = await run(world, "fay.r", "reply post", {"text": "hi"})
    finally:
        del world.node.tamper["condenser_api.get_accounts"]
    assert "answered with an error" in said and "database is busy" in said, said
    assert "could be reached" not in said
    # A message answering a mirrored reply deleted on chain since: refused, not posted to the review instead.
    neon = mirrored_reply(world, NEON[0])
    num = world.node.head + 1
    world.node.add_blocks({num: ops_block({"type": "delete_comment_operation",
                                           "value": {"author": NEON[0], "permlink": NEON[1]}})})  # fmt: skip
    world.node.head = num + 3
    await world.fake.wait_for(lambda: delivery_settled(world.db, num) or None, timeout=60)
    mine = await world.fake.post_user_message(world.thread, world.members["gus.r"], "Agreed", reply_to=neon.id)
    said = await answer(await world.fake.send_message_command(mine.id, world.members["gus.r"], "Post to Hive"))
    assert "deleted on Hive since" in said, said
    assert world.broadcasts_by("fay.r") == world.broadcasts_by("gus.r") == 0


async def test_a_missing_authority_refusal_keeps_its_reason_when_the_recheck_fails(world: World) -> None:
    """The node refuses the reply for missing authority; the bot asks the chain whether its own key changed,
    and that question fails: the member reads the node's reason, not that no node could be reached."""

    def bridge_unanswered(accounts: Any) -> Any:
        signed = db_rows(world.db, "SELECT 1 FROM discord_replies WHERE author = 'ivy.r'")
        if signed and isinstance(accounts, list) and accounts and accounts[0].get("name") == BRIDGE:
            raise RpcError(-32003, "Assert Exception: database is busy")
        return accounts

    world.node.broadcast_refusals = {"ivy.r": "missing required posting authority: Missing Posting Authority ivy.r"}
    world.node.tamper["condenser_api.get_accounts"] = bridge_unanswered
    try:
        said = await run(world, "ivy.r", "reply post", {"text": "refused"})
    finally:
        world.node.broadcast_refusals = {}
        del world.node.tamper["condenser_api.get_accounts"]
    assert "not posted" in said and f"does not grant @{BRIDGE} posting authority" in said, said
    assert "could be reached" not in said and world.comments_by("ivy.r") == []


async def test_enable_says_what_the_grant_allows(world: World) -> None:
    said = await run(world, "gus.r", "reply enable")
    assert "anything your posting key can" in said and "follows, reblogs" in said, said
    assert f"hivesigner.com/revoke/{BRIDGE}" in said, said


async def test_post_to_hive_marks_what_became_of_the_reply_on_chain(world: World) -> None:
    """The bot cannot edit the member's own message: its reactions say the reply landed (also when the node's
    first answer was lost), was edited on chain, or was deleted there."""
    fake, bot = world.fake, world.fake.state.bot.id
    mine = await fake.post_user_message(world.thread, world.members["hal.r"], "Marked words")
    world.node.lose_broadcast_answers = True
    try:
        said = await answer(await fake.send_message_command(mine.id, world.members["hal.r"], "Post to Hive"))
    finally:
        world.node.lose_broadcast_answers = False
    assert "did not confirm" in said and "changes nothing on Hive" in said, said
    reactions = fake.state.messages[mine.id].reactions
    await fake.wait_for(lambda: reactions == {CHECK: {bot}} or None, timeout=60)
    (comment,) = world.comments_by("hal.r")
    key = {k: v for k, v in comment.items() if k != "_trx"}
    num = world.node.head + 1
    world.node.add_blocks({num: ops_block({"type": "comment_operation", "value": {**key, "body": "Edited"}})})
    world.node.head = num + 3
    await fake.wait_for(lambda: reactions == {CHECK: {bot}, PENCIL: {bot}} or None, timeout=60)
    num = world.node.head + 1
    gone = {"type": "delete_comment_operation", "value": {"author": "hal.r", "permlink": comment["permlink"]}}
    world.node.add_blocks({num: ops_block(gone)})
    world.node.head = num + 3
    await fake.wait_for(lambda: reactions == {PENCIL: {bot}, BIN: {bot}} or None, timeout=60)
    await fake.wait_for(lambda: delivery_settled(world.db, num) or None, timeout=60)
    assert shown_copy(world, "hal.r") == []  # the member's message stays the reply: no mirror, no tombstone


def shown_copy(world: World, account: str) -> list[Any]:
    return [m for m in world.fake.messages(world.thread) if m.embeds and f"/@{account}/" in json.dumps(m.embeds)]
