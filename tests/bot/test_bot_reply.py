"""Members answer from Discord through the real `hivecord run`: /reply enable|status|disable|post and the
Post to Hive message command put one `comment` on chain as the member's linked account, signed with the
bot's own posting key; the loopback node checks it against the member's posting authority (account_auths)
and puts it in its next block. The follower then sees it, and the thread gets no second copy.

One bot process serves the module (logging at DEBUG, where discord.py writes whole payloads), so the key
is looked for in everything it said; the kill tests restart it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from beembase.signedtransactions import Signed_Transaction
from beemgraphenebase.account import PrivateKey, PublicKey

from bot.store.store import Store
from tests.bot_harness import TOKEN, BotProcess, bot_config, db_rows, delivery_settled
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.faults import Fault, RequestFacts
from tests.fakes.discord.log import RecordedRequest
from tests.fakes.hive import FakeHiveNode, hive_account
from tests.helpers import ANIME_REALM, SEED_FIRST, SEED_LAST
from tests.world import seed_node

pytestmark = pytest.mark.asyncio(loop_scope="module")

EPHEMERAL = 64
MESSAGE_CONTENT_INTENT = 1 << 15
BRIDGE = "hivecord.app"
KEY = PrivateKey()
WIF = str(KEY)
KEY_ENV = "HIVECORD_POSTING_KEY_HIVECORD_APP"
REVIEW = ("alienpunklord", "review-metallic-rouge-mars-machines-and-meaning")
NEON = ("neonwatcher", "re-alienpunklord-t1q2w3")  # a reader's reply to the review, in the seed


@dataclass
class World:
    fake: FakeDiscord
    node: FakeHiveNode
    bot: BotProcess
    folder: Path
    config: Path
    forum: int
    lobby: int  # a plain text channel: no mirrored post's thread
    members: dict[str, int]  # account -> Discord user
    logs: list[str] = field(default_factory=list)

    @property
    def db(self) -> Path:
        return self.folder / "hivecord.sqlite3"

    @property
    def thread(self) -> int:
        """The seed review's forum post."""
        return self.fake.threads(self.forum)[0].id

    def comments_by(self, author: str) -> list[dict[str, Any]]:
        """Every comment op by `author` in a transaction the node accepted, with its transaction."""
        found = []
        for entry in self.node.broadcasts:
            if not str(entry["outcome"]).startswith("accepted"):
                continue
            for op in entry["trx"]["operations"]:
                name, value = (op[0], op[1]) if isinstance(op, list) else (op["type"], op["value"])
                if name.startswith("comment") and value["author"] == author:
                    found.append({**value, "_trx": entry["trx"]})
        return found

    def broadcasts_by(self, author: str) -> int:
        return sum(author in json.dumps(b["trx"]) for b in self.node.broadcasts)

    async def restart(self) -> None:
        self.logs.append(self.bot.log)
        self.bot = BotProcess(self.config, self.fake, env={KEY_ENV: WIF})
        await self.bot.start()


GRANTED = ("alice.r", "bob.r", "erin.r", "kate.r", "kyle.r", "lena.r", "mia.r", "nina.r", "omar.r", "pia.r", "rc.r",
           "olga.r", "paul.r", "quinn.r", "ruth.r", "sam.r", "tess.r")  # fmt: skip
MEMBERS = (*GRANTED, "dave.r", "nolink")  # dave.r never grants; nolink never links


async def link(db: Path, links: dict[int, str]) -> None:
    """Links made through the store (as /link and /verify complete them), before the bot runs."""
    store = await Store.open(db)
    try:
        for user_id, name in links.items():
            await store.links.open_challenge(
                user_id=user_id, account=name, code="c0de", now=time.time(), ttl=900, per_hour=5
            )
            challenge = await store.links.latest_challenge(user_id)
            assert challenge is not None
            assert await store.links.complete(challenge, proof="signature", at="2026-12-01T00:00:00")
    finally:
        await store.close()


async def answer(handle: Any) -> str:
    """The text of a command's private answer (deferred, then one followup), as JSON."""
    first = await handle.response(timeout=30)
    if first["type"] == 5:
        assert first["data"]["flags"] & EPHEMERAL, first
        (message,) = await handle.wait_followups(1, timeout=60)
        return json.dumps(message.embeds, ensure_ascii=False)
    assert first["data"]["flags"] & EPHEMERAL, first
    return json.dumps(first["data"].get("embeds"), ensure_ascii=False)


async def run(world: World, account: str, command: str, options: dict[str, Any] | None = None,
              channel: int | None = None) -> str:  # fmt: skip
    user = world.members[account]
    where = channel or world.thread
    handle = await world.fake.send_interaction(world.fake.world.guild_id, where, user, command, options)
    return await answer(handle)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """The seed on a node that knows the bridge account and the members' accounts (most grant it posting
    authority), a forum feed of the community, and a running bot holding the bridge account's key."""
    folder = tmp_path_factory.mktemp("replies")
    node, _ = seed_node()
    node.accounts[BRIDGE] = hive_account(BRIDGE, [(str(KEY.pubkey), 1)])
    for name in MEMBERS:
        auths = [(BRIDGE, 1)] if name in GRANTED else []
        node.accounts[name] = hive_account(name, [(str(PrivateKey().pubkey), 1)], account_auths=auths)
    hive_url = node.start_in_thread()
    fake = FakeDiscord(token=TOKEN)
    guild = fake.world.guild_id
    forum = fake.state.add_forum_channel(guild, "reviews").id
    lobby = fake.state.add_text_channel(guild, "lobby").id
    members = {}
    for name in MEMBERS:
        user = fake.state.add_user(name.replace(".", "")).id
        fake.state.add_member(guild, user)
        members[name] = user
    await link(folder / "hivecord.sqlite3", {u: a for a, u in members.items() if a != "nolink"})
    await fake.start()
    config = bot_config(folder, hive_url, fake, start_block=SEED_FIRST)
    text = config.read_text().replace('level = "INFO"', 'level = "DEBUG"')
    config.write_text(text + f'\n[bridge]\naccount = "{BRIDGE}"\n')
    bot = BotProcess(config, fake, env={KEY_ENV: WIF})
    made = World(fake, node, bot, folder, config, forum, lobby, members)
    try:
        await bot.start()
        handle = await fake.send_interaction(
            guild, lobby, fake.world.admin_id, "feed add", {"community": ANIME_REALM, "channel": forum}
        )
        await handle.response(timeout=30)
        node.head = SEED_LAST + 5
        await fake.wait_for(lambda: delivery_settled(made.db, SEED_LAST) or None, timeout=90)
        await fake.wait_for(lambda: mirrored_reply(made, NEON[0]), timeout=60)
        for name in GRANTED:
            said = await run(made, name, "reply enable")
            assert f"hivesigner.com/authorize/{BRIDGE}" in said and "granted: the bot" in said, said
        yield made
        assert not fake.violations and not fake.unknown_requests
        assert not fake.internal_errors
    finally:
        code = await made.bot.stop()
        await fake.stop()
        node.stop_thread()
        made.logs.append(made.bot.log)
    assert code == 0, made.bot.log


def mirrored_reply(world: World, author: str) -> Any:
    """The message in the seed review's forum post that shows `author`'s reply."""
    for message in world.fake.messages(world.thread):
        embeds = message.history[0]["embeds"] if message.history else message.embeds
        if embeds and f"/@{author}/" in str(embeds[0].get("url", "")):
            return message
    return None


def shown_in_thread(world: World, author: str) -> list[Any]:
    found = []
    for message in world.fake.messages(world.thread):
        embeds = message.history[0]["embeds"] if message.history else message.embeds
        if embeds and f"/@{author}/" in str(embeds[0].get("url", "")):
            found.append(message)
    return found


def landed(world: World, author: str) -> bool:
    return db_rows(world.db, "SELECT state FROM discord_replies WHERE author = ?", author) == [("landed",)]


def on_chain_seen(world: World, author: str) -> bool:
    return bool(db_rows(world.db, "SELECT 1 FROM replies WHERE author = ?", author))


async def settled(world: World) -> None:
    await world.fake.wait_for(lambda: delivery_settled(world.db, world.node.head - 3) or None, timeout=60)


def edits_of(world: World, message_id: int) -> list[RecordedRequest]:
    path = f"/channels/{world.thread}/messages/{message_id}"
    return [r for r in world.fake.requests if r.method == "PATCH" and r.path == path]


def assert_marked_failed(world: World, message_id: int, why: str, text: str) -> None:
    """The copy of a reply that never reached Hive says so, with the member's text and why, edited once."""
    message = world.fake.state.messages[message_id]
    assert not message.deleted and "did not reach Hive" in message.content, message.content
    (embed,) = message.embeds
    assert embed["title"] == "Not posted on Hive" and "url" not in embed, embed  # nothing on Hive to link to
    assert text in embed["description"], embed
    (reason,) = embed["fields"]
    assert reason["name"] == "Why" and why in reason["value"], reason
    assert len(message.history) == 1  # one edit applied
    assert len([r for r in edits_of(world, message_id) if r.status < 300]) == 1


def copies_of(world: World, account: str) -> list[Any]:
    """The /reply post copies of `account`'s member in the review's thread, whatever they say now."""
    prefix = f"<@{world.members[account]}> replied on Hive"
    return [m for m in world.fake.messages(world.thread)
            if (m.history[0]["content"] if m.history else m.content).startswith(prefix)]  # fmt: skip


def intent_state(world: World, account: str) -> str | None:
    rows = db_rows(world.db, "SELECT state FROM discord_replies WHERE author = ?", account)
    return str(rows[0][0]) if rows else None


def expire_unseen(world: World) -> None:
    """Every broadcast is dropped unread, and chain time passes the expiration of the next one (a minute
    ahead of its head, 3 s blocks) as it reaches the node: the transaction can never land."""

    def expire(_: str) -> bool:
        world.node.before_broadcast = None
        world.node.drop_broadcasts = True  # any send of it again is dropped too
        world.node.head += 25
        return True

    world.node.before_broadcast = expire


def stop_dropping(world: World) -> None:
    world.node.before_broadcast = None
    world.node.drop_broadcasts = False


async def test_reply_post_lands_once_signed_by_the_bot_and_the_thread_has_no_second_copy(world: World) -> None:
    said = await run(world, "alice.r", "reply post", {"text": "Great review, **thanks**!"})
    assert "Reply posted" in said and "https://hive.blog/@alice.r/re-review-metallic-rouge" in said, said
    # A second reply within 20 s is refused, nothing sent.
    said = await run(world, "alice.r", "reply post", {"text": "And another thing"})
    assert "One reply every 20 seconds" in said, said
    assert world.broadcasts_by("alice.r") == 1
    (comment,) = world.comments_by("alice.r")
    assert (comment["parent_author"], comment["parent_permlink"]) == REVIEW
    assert comment["body"] == "Great review, **thanks**!" and comment["title"] == ""
    assert json.loads(comment["json_metadata"])["app"].startswith("hivecord/")
    assert comment["permlink"].startswith("re-review-metallic-rouge") and comment["permlink"].endswith("z")
    # Signed by the bot's key (not the member's, which the bot never had), under alice's account_auths.
    signed = Signed_Transaction(**json.loads(json.dumps(comment["_trx"])))
    keys = [str(PublicKey(k, prefix="STM")) for k in signed.verify(chain="HIVE2", recover_parameter=True)]
    assert keys == [str(KEY.pubkey)]
    await world.fake.wait_for(lambda: landed(world, "alice.r"), timeout=60)
    await world.fake.wait_for(lambda: on_chain_seen(world, "alice.r"), timeout=60)
    await settled(world)
    # One message in the thread shows the reply: the copy the bot sent as the member posted, linking to it.
    (copy,) = shown_in_thread(world, "alice.r")
    assert copy.embeds[0]["url"] == f"https://hive.blog/@alice.r/{comment['permlink']}"
    assert f"<@{world.members['alice.r']}>" in copy.content
    # It stands for the reply: the node's edit of it edits the copy, as for any reply.
    assert db_rows(world.db, "SELECT m.message_id FROM reply_messages m JOIN replies r ON r.id = m.reply_id"
                   " WHERE r.author = 'alice.r'") == [(copy.id,)]  # fmt: skip
    # Edited on chain (from any wallet): the copy is edited, as any mirrored reply's message.
    edit = {**{k: v for k, v in comment.items() if k != "_trx"}, "body": "Great review, edited on chain."}
    num = world.node.head + 1
    world.node.add_blocks({num: {"transactions": [{"operations": [{"type": "comment_operation", "value": edit}]}]}})
    world.node.head = num + 3
    await world.fake.wait_for(
        lambda: "edited on chain" in json.dumps(world.fake.state.messages[copy.id].embeds) or None, timeout=60
    )
    assert len(shown_in_thread(world, "alice.r")) == 1


async def test_post_to_hive_answers_the_mirrored_reply_and_only_for_the_author(world: World) -> None:
    neon = mirrored_reply(world, NEON[0])
    mine = await world.fake.post_user_message(world.thread, world.members["bob.r"], "Agreed, neon!", reply_to=neon.id)
    # Someone else's message: refused, nothing broadcast.
    handle = await world.fake.send_message_command(mine.id, world.members["erin.r"], "Post to Hive")
    said = await answer(handle)
    assert "Only its author" in said, said
    assert world.broadcasts_by("erin.r") == world.broadcasts_by("bob.r") == 0
    handle = await world.fake.send_message_command(mine.id, world.members["bob.r"], "Post to Hive")
    said = await answer(handle)
    assert "Reply posted" in said, said
    (comment,) = world.comments_by("bob.r")
    assert (comment["parent_author"], comment["parent_permlink"]) == NEON
    assert comment["body"] == "Agreed, neon!"
    assert world.fake.state.messages[mine.id].reactions == {"\N{WHITE HEAVY CHECK MARK}": {world.fake.state.bot.id}}
    await world.fake.wait_for(lambda: on_chain_seen(world, "bob.r"), timeout=60)
    await settled(world)
    assert shown_in_thread(world, "bob.r") == []  # the member's own message is the reply here
    # A message answering the copy of a reply posted with /reply post answers that reply on chain.
    if not shown_in_thread(world, "alice.r"):
        # The first test posts alice's reply; xdist may have run it in another process.
        said = await run(world, "alice.r", "reply post", {"text": "Great review, **thanks**!"})
        assert "Reply posted" in said, said
        await world.fake.wait_for(lambda: on_chain_seen(world, "alice.r"), timeout=60)
        await settled(world)
    (alice_copy,) = shown_in_thread(world, "alice.r")
    pia = await world.fake.post_user_message(world.thread, world.members["pia.r"], "Yes alice", reply_to=alice_copy.id)
    said = await answer(await world.fake.send_message_command(pia.id, world.members["pia.r"], "Post to Hive"))
    assert "Reply posted" in said, said
    (nested,) = world.comments_by("pia.r")
    (alices,) = world.comments_by("alice.r")
    assert (nested["parent_author"], nested["parent_permlink"]) == ("alice.r", alices["permlink"])
    # The same message again: refused, it is on chain already.
    handle = await world.fake.send_message_command(mine.id, world.members["bob.r"], "Post to Hive")
    said = await answer(handle)
    assert "on Hive already" in said, said
    assert world.broadcasts_by("bob.r") == 1


async def test_refusals_are_in_words_and_send_nothing(world: World) -> None:
    sent = len(world.node.broadcasts)
    said = await run(world, "nolink", "reply post", {"text": "hi"})
    assert "Link your Hive account first" in said, said
    said = await run(world, "dave.r", "reply post", {"text": "hi"})
    assert "off for you" in said and "/reply enable" in said, said
    said = await run(world, "dave.r", "reply enable")
    assert "not granted" in said and f"hivesigner.com/authorize/{BRIDGE}" in said, said
    said = await run(world, "dave.r", "reply post", {"text": "hi"})
    assert f"does not grant @{BRIDGE} posting authority" in said, said
    # Granted, then revoked on chain: status says so, and a reply is refused before anything is signed.
    assert "granted: the bot" in await run(world, "erin.r", "reply status")
    world.node.accounts["erin.r"] = hive_account("erin.r", [(str(PrivateKey().pubkey), 1)])
    assert "not granted" in await run(world, "erin.r", "reply status")
    said = await run(world, "erin.r", "reply post", {"text": "hi"})
    assert "revoked since" in said, said
    # Outside a mirrored review's thread.
    said = await run(world, "kate.r", "reply post", {"text": "hi"}, channel=world.lobby)
    assert "only from the thread" in said, said
    assert len(world.node.broadcasts) == sent
    # Out of resource credits: the node's refusal, in words, once.
    world.node.broadcast_refusals = {"rc.r": "rc_plugin exception: Account: rc.r has 0 RC, needs 1000 RC."}
    try:
        said = await run(world, "rc.r", "reply post", {"text": "no credits"})
    finally:
        world.node.broadcast_refusals = {}
    assert "resource credits" in said and "not posted" in said, said
    assert db_rows(world.db, "SELECT state FROM discord_replies WHERE author = 'rc.r'") == [("failed",)]
    assert world.broadcasts_by("rc.r") == 1
    await settled(world)
    # Its copy in the thread now says plainly that it did not reach Hive, and why: edited once.
    (copy,) = shown_in_thread(world, "rc.r")
    assert_marked_failed(world, copy.id, "resource credits", "no credits")
    # No node answers: nothing was signed or sent, and the member is told so.
    world.node.down = True
    try:
        said = await run(world, "kate.r", "reply post", {"text": "into the void"})
    finally:
        world.node.down = False
    assert "No Hive node could be reached, so nothing was sent" in said, said
    assert db_rows(world.db, "SELECT 1 FROM discord_replies WHERE author = 'kate.r'") == []
    # Disabled: the revoke link, and no more replies through the bot.
    said = await run(world, "kate.r", "reply disable")
    assert f"hivesigner.com/revoke/{BRIDGE}" in said, said
    said = await run(world, "kate.r", "reply post", {"text": "hi"})
    assert "off for you" in said, said
    assert world.broadcasts_by("kate.r") == 0


async def test_a_lost_answer_is_settled_from_the_chain_and_posted_once(world: World) -> None:
    world.node.lose_broadcast_answers = True
    try:
        said = await run(world, "mia.r", "reply post", {"text": "Did it land?"})
    finally:
        world.node.lose_broadcast_answers = False
    assert "did not confirm" in said and "will not post it twice" in said, said
    await world.fake.wait_for(lambda: landed(world, "mia.r"), timeout=60)
    assert len(world.comments_by("mia.r")) == 1
    await world.fake.wait_for(lambda: on_chain_seen(world, "mia.r"), timeout=60)
    await settled(world)
    assert len(shown_in_thread(world, "mia.r")) == 1


async def test_a_reply_that_expires_unseen_ends_failed_and_its_copy_says_so_once(world: World) -> None:
    text = "Lost on the way"
    expire_unseen(world)
    try:
        said = await run(world, "quinn.r", "reply post", {"text": text})
        assert "did not confirm" in said, said
        await world.fake.wait_for(lambda: intent_state(world, "quinn.r") == "failed" or None, timeout=60)
    finally:
        stop_dropping(world)
    await settled(world)
    assert world.comments_by("quinn.r") == []
    (copy,) = copies_of(world, "quinn.r")  # the one message for the reply: its copy, now marked
    assert_marked_failed(world, copy.id, "expired", text)
    assert f"<@{world.members['quinn.r']}>" in world.fake.state.messages[copy.id].content
    assert shown_in_thread(world, "quinn.r") == [copy]


async def test_a_reply_a_node_refuses_when_the_settler_sends_it_again_is_marked_with_the_reason(world: World) -> None:
    text = "Second time unlucky"

    def drop_once(_: str) -> bool:
        world.node.before_broadcast = None
        world.node.broadcast_refusals = {"tess.r": "rc_plugin exception: Account: tess.r has 0 RC, needs 1000 RC."}
        return True

    world.node.before_broadcast = drop_once  # the first answer is lost; the settler's send is refused
    try:
        said = await run(world, "tess.r", "reply post", {"text": text})
        assert "did not confirm" in said, said
        await world.fake.wait_for(lambda: intent_state(world, "tess.r") == "failed" or None, timeout=60)
    finally:
        world.node.before_broadcast = None
        world.node.broadcast_refusals = {}
    await settled(world)
    assert world.broadcasts_by("tess.r") == 2 and world.comments_by("tess.r") == []
    (copy,) = copies_of(world, "tess.r")
    assert_marked_failed(world, copy.id, "resource credits", text)
    assert "rc_plugin" not in json.dumps(world.fake.state.messages[copy.id].embeds)  # the reason in words only


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["after the failure is recorded", "before the copy's id is recorded"])
async def test_a_kill_around_a_failed_reply_still_marks_its_copy_once(world: World, moment: str) -> None:
    """Killed as the edit that marks the copy reaches Discord (the failure and its job stored, the edit not
    made), or once Discord made the copy and before the bot recorded its id (the failure comes after the
    restart, and the copy is found by its nonce). Restarted, the copy is marked once, and is the one message."""
    account = "ruth.r" if moment.startswith("after") else "sam.r"
    text = f"Failed, killed {moment}"
    proc = world.bot.proc
    assert proc is not None
    route = f"/channels/{world.thread}/messages"
    marks: list[int] = []

    def kill_at_the_mark(facts: RequestFacts) -> bool:
        if facts.method != "PATCH" or not marks or facts.path != f"{route}/{marks[0]}":
            return False
        os.kill(proc.pid, signal.SIGKILL)
        return True

    def held_copy(request: RecordedRequest) -> bool:
        return request.method == "POST" and request.path == route and is_copy_of(world, account, request.json)

    fault = world.fake.faults.add(Fault(503, None, kill_at_the_mark, times=1))
    try:
        # Discord makes the copy and holds its answer: the copy's id is known here before the bot hears it.
        world.fake.hold, world.fake.hold_if = asyncio.Event(), held_copy
        await world.fake.send_interaction(
            world.fake.world.guild_id, world.thread, world.members[account], "reply post", {"text": text}
        )
        await world.fake.wait_for(lambda: any(held_copy(r) for r in world.fake.held) or None, timeout=60)
        if moment.startswith("after"):
            (copy,) = copies_of(world, account)
            marks.append(copy.id)
            expire_unseen(world)  # the broadcast after the copy is what fails the reply
            world.fake.hold.set()
        else:
            os.kill(proc.pid, signal.SIGKILL)
        await world.fake.wait_for(lambda: proc.returncode is not None or None, timeout=60)
        if fault in world.fake.faults.rules:
            world.fake.faults.rules.remove(fault)
        if world.fake.hold is not None:
            world.fake.hold.set()
            world.fake.hold = None
        ((message_id, state),) = db_rows(world.db, "SELECT message_id, state FROM discord_replies WHERE author = ?",
                                         account)  # fmt: skip
        (copy,) = copies_of(world, account)
        assert world.fake.state.messages[copy.id].history == []  # not marked yet
        if moment.startswith("after"):
            # Killed where meant: failed, its job stored and not done, the edit refused as the bot died.
            assert (message_id, state) == (copy.id, "failed")
            assert db_rows(world.db, "SELECT state FROM jobs WHERE action = 'reply_failed' AND json_extract(detail,"
                           " '$.reply') = (SELECT id FROM discord_replies WHERE author = ?)", account) == [("pending",)]
            await world.restart()
        else:
            assert (message_id, state) == (None, "signed")  # the copy made, its id never heard
            assert world.broadcasts_by(account) == 0
            world.node.head += 25  # the bot was down past the reply's expiration: the settler finds it expired
            await world.restart()
        await world.fake.wait_for(lambda: intent_state(world, account) == "failed" or None, timeout=90)
    finally:
        stop_dropping(world)
        if fault in world.fake.faults.rules:
            world.fake.faults.rules.remove(fault)
        if world.fake.hold is not None:
            world.fake.hold.set()
            world.fake.hold = None
    await settled(world)
    assert world.comments_by(account) == []
    (copy,) = copies_of(world, account)
    assert_marked_failed(world, copy.id, "expired", text)
    assert shown_in_thread(world, account) == [copy]  # no notice beside it
    assert db_rows(world.db, "SELECT message_id FROM discord_replies WHERE author = ?", account) == [(copy.id,)]


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["before the broadcast", "after the broadcast"])
async def test_a_kill_around_the_broadcast_leaves_exactly_one_comment(world: World, moment: str) -> None:
    account = "kyle.r" if moment.startswith("before") else "lena.r"
    proc = world.bot.proc
    assert proc is not None

    def kill(_: str) -> None:
        os.kill(proc.pid, signal.SIGKILL)

    if moment == "before the broadcast":
        world.node.before_broadcast = lambda method: (kill(method), True)[1]
    else:
        world.node.on_broadcast = kill
    try:
        await world.fake.send_interaction(
            world.fake.world.guild_id, world.thread, world.members[account], "reply post", {"text": f"Killed {moment}"}
        )
        await world.fake.wait_for(lambda: proc.returncode is not None or None, timeout=60)
    finally:
        world.node.before_broadcast = None
        world.node.on_broadcast = None
    rows = db_rows(world.db, "SELECT state FROM discord_replies WHERE author = ? AND state != 'landed'", account)
    assert rows == [("signed",)]
    await world.restart()
    await world.fake.wait_for(lambda: not db_rows(
        world.db, "SELECT 1 FROM discord_replies WHERE author = ? AND state != 'landed'", account) or None,
        timeout=90)  # fmt: skip
    assert len([c for c in world.comments_by(account) if c["body"] == f"Killed {moment}"]) == 1
    assert len(world.comments_by(account)) == 1
    await world.fake.wait_for(lambda: on_chain_seen(world, account) or None, timeout=60)
    await settled(world)
    killed = [m for m in shown_in_thread(world, account) if f"Killed {moment}" in json.dumps(m.embeds)]
    assert len(killed) == 1  # the copy sent before the broadcast, and no mirrored second one


def is_copy_of(world: World, account: str, body: Any) -> bool:
    """Whether a request body is the /reply post copy `account`'s member sends into the review's thread."""
    content = str(body.get("content", "")) if isinstance(body, dict) else ""
    return content.startswith(f"<@{world.members[account]}> replied on Hive")


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["before the copy", "after the copy"])
async def test_a_kill_around_the_copy_leaves_one_message_and_one_comment(world: World, moment: str) -> None:
    """Killed once the intent is stored: as the copy's request reaches Discord (nothing made), or once Discord
    made the copy and before the bot heard its id. After the restart the settler puts the reply on chain, and
    the mirror of it is sent with the copy's nonce: Discord makes it, or answers with the copy."""
    account = "olga.r" if moment == "before the copy" else "paul.r"
    text = f"Killed {moment}"
    proc = world.bot.proc
    assert proc is not None
    route = f"/channels/{world.thread}/messages"

    def kill_at_the_copy(facts: RequestFacts) -> bool:
        if facts.method != "POST" or facts.path != route or not is_copy_of(world, account, facts.body):
            return False
        os.kill(proc.pid, signal.SIGKILL)
        return True

    def held_copy(request: RecordedRequest) -> bool:
        return request.method == "POST" and request.path == route and is_copy_of(world, account, request.json)

    fault = None
    if moment == "before the copy":
        fault = world.fake.faults.add(Fault(503, None, kill_at_the_copy, times=1))
    else:
        world.fake.hold, world.fake.hold_if = asyncio.Event(), held_copy
    try:
        await world.fake.send_interaction(
            world.fake.world.guild_id, world.thread, world.members[account], "reply post", {"text": text}
        )
        if moment == "after the copy":
            await world.fake.wait_for(lambda: any(held_copy(r) for r in world.fake.held) or None, timeout=60)
            os.kill(proc.pid, signal.SIGKILL)
        await world.fake.wait_for(lambda: proc.returncode is not None or None, timeout=60)
    finally:
        if fault in world.fake.faults.rules:
            world.fake.faults.rules.remove(fault)  # it retires after its one answer
        if world.fake.hold is not None:
            world.fake.hold.set()
            world.fake.hold = None
    # Killed where meant: the intent stored, its copy's id not, nothing broadcast; the copy made only after.
    ((intent_id, message_id, state),) = db_rows(
        world.db, "SELECT id, message_id, state FROM discord_replies WHERE author = ?", account
    )
    assert (message_id, state) == (None, "signed") and world.broadcasts_by(account) == 0
    copies = [m for m in world.fake.messages(world.thread) if is_copy_of(world, account, {"content": m.content})]
    assert len(copies) == (0 if moment == "before the copy" else 1)
    ((salt,),) = db_rows(world.db, "SELECT value FROM meta WHERE key = 'nonce_salt'")
    nonce = f"hr{salt}{intent_id}"
    assert all(str(m.nonce) == nonce for m in copies)
    await world.restart()
    await world.fake.wait_for(lambda: landed(world, account) or None, timeout=90)
    assert [c["body"] for c in world.comments_by(account)] == [text]
    await world.fake.wait_for(lambda: on_chain_seen(world, account) or None, timeout=60)
    await settled(world)
    (shown,) = [m for m in shown_in_thread(world, account) if text in json.dumps(m.embeds)]
    # The one message is the copy when Discord made it, else the mirror; either way sent with the copy's nonce,
    # and it stands for the reply (edits and deletion find it).
    assert str(shown.nonce) == nonce
    assert (shown.id == copies[0].id) if copies else not is_copy_of(world, account, {"content": shown.content})
    sends = [r for r in world.fake.find_requests("POST", "/channels/{channel_id}/messages")
             if r.path == route and isinstance(r.json, dict) and r.json.get("nonce") == nonce]  # fmt: skip
    assert len(sends) == 2 and all(r.json.get("enforce_nonce") for r in sends)  # the copy's, and the mirror's
    assert db_rows(world.db, "SELECT m.message_id FROM reply_messages m JOIN replies r ON r.id = m.reply_id"
                   " WHERE r.author = ?", account) == [(shown.id,)]  # fmt: skip


async def test_a_bridge_key_rotated_away_on_chain_turns_replies_off_in_words(world: World) -> None:
    held = world.node.accounts[BRIDGE]
    world.node.accounts[BRIDGE] = hive_account(BRIDGE, [(str(PrivateKey().pubkey), 1)])
    try:
        # Whether the bot asks the chain before its first signature (after a restart) or hears the node's
        # refusal of one signed with the old key, the member reads what is wrong, and the log says it once.
        for member in ("nina.r", "omar.r"):
            said = await run(world, member, "reply post", {"text": "the old key"})
            assert f"the key it holds is not a posting key of @{BRIDGE}" in said, said
            assert world.comments_by(member) == []
        assert world.broadcasts_by("omar.r") == 0
    finally:
        world.node.accounts[BRIDGE] = held
    off = [line for line in world.bot.log.splitlines() if "replies from Discord are off" in line]
    assert len(off) == 1 and " ERROR " in off[0] and KEY_ENV in off[0], off


async def test_the_key_is_in_no_log_answer_database_or_discord_request_and_no_message_content_intent(
    world: World,
) -> None:
    everything = "\n".join([*world.logs, world.bot.log])
    assert WIF not in everything
    for path in world.folder.iterdir():
        if path.is_file():
            assert WIF.encode() not in path.read_bytes(), path
    for request in world.fake.requests:
        assert WIF not in json.dumps([request.json, request.headers, request.query], default=str), request.path
    sessions = list(world.fake.gateway.sessions.values())
    assert sessions and all(not s.intents & MESSAGE_CONTENT_INTENT for s in sessions)
