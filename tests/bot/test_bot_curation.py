"""Curators vote from Discord through the real `hivecord run`: the Upvote button on a mirrored review, a
confirmation, and one vote signed with beem that the loopback node checks against the curation account's
posting authority and puts in its next block. Refusals, caps, node refusals and kills around the broadcast.

One bot process serves most of the module (logging at DEBUG, where discord.py writes whole payloads), so the
key is looked for in everything it said; the kill tests restart it.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from beemgraphenebase.account import PrivateKey

from tests.bot_harness import TOKEN, BotProcess, bot_config, comment_block, db_rows
from tests.fakes.discord import FakeDiscord
from tests.fakes.hive import FakeHiveNode, hive_account
from tests.helpers import ANIME_REALM, SEED_FIRST, SEED_LAST
from tests.world import seed_node

pytestmark = pytest.mark.asyncio(loop_scope="module")

EPHEMERAL = 64
ACCOUNT = "realm.curator"  # the seed has votes by animerealm.cur: a fresh account, so each vote here is new
KEY = PrivateKey()
WIF = str(KEY)
KEY_ENV = "HIVECORD_POSTING_KEY_REALM_CURATOR"
REVIEW = ("alienpunklord", "review-metallic-rouge-mars-machines-and-meaning")


@dataclass
class World:
    fake: FakeDiscord
    node: FakeHiveNode
    bot: BotProcess
    folder: Path
    config: Path
    reviews: int
    audit: int
    curator_role: int
    curators: list[int]
    outsider: int
    next_block: int = SEED_LAST + 10
    logs: list[str] = field(default_factory=list)

    @property
    def db(self) -> Path:
        return self.folder / "hivecord.sqlite3"

    def votes_by_account(self, author: str, permlink: str) -> list[int]:
        """The weights of every vote the curation account's accepted transactions made on the post."""
        weights = []
        for entry in self.node.broadcasts:
            if not str(entry["outcome"]).startswith("accepted"):
                continue
            for op in entry["trx"]["operations"]:
                name, value = (op[0], op[1]) if isinstance(op, list) else (op["type"], op["value"])
                if (
                    name.startswith("vote")
                    and value["voter"] == ACCOUNT
                    and (value["author"], value["permlink"])
                    == (
                        author,
                        permlink,
                    )
                ):
                    weights.append(int(value["weight"]))
        return weights

    def post_block(
        self, author: str, permlink: str, title: str, *, days_old: int = 0, then: dict[str, Any] | None = None
    ) -> int:
        """A new post on chain, in a block above every block the node has (its own votes' blocks too).
        With `days_old`, the block says it was made that many days ago, and the next block is back at now."""
        num = max(self.next_block, self.node.head + 1)
        self.next_block = num + 3
        body = f"{title}: a review long enough to mirror."
        block = comment_block(author, permlink, title, body, '{"tags":["anime"]}')
        if then is not None:  # another transaction in the same block, after the post
            block["transactions"].append({"operations": [then]})
        blocks: dict[int, dict[str, Any]] = {num: block}
        if days_old:
            now = datetime.fromisoformat(self.node.block(self.node.head)["timestamp"])
            block["timestamp"] = (now - timedelta(days=days_old)).strftime("%Y-%m-%dT%H:%M:%S")
            blocks[num + 1] = {"timestamp": (now + timedelta(seconds=3)).strftime("%Y-%m-%dT%H:%M:%S")}
        self.node.add_blocks(blocks)
        self.node.head = max(self.node.head, num + 3)
        return num

    def member(self, name: str, *, curator: bool = True) -> int:
        user = self.fake.state.add_user(name).id
        self.fake.state.add_member(self.fake.world.guild_id, user, [self.curator_role] if curator else [])
        return user

    def state_of(self, permlink: str) -> list[tuple[Any, ...]]:
        return db_rows(self.db, "SELECT state FROM curation_votes WHERE permlink = ?", permlink)

    async def restart(self) -> None:
        self.logs.append(self.bot.log)
        self.bot = BotProcess(self.config, self.fake, env={KEY_ENV: WIF})
        await self.bot.start()


def upvote_button(message: Any) -> str | None:
    for row in message.components or []:
        for item in row.get("components", []):
            if str(item.get("custom_id", "")).startswith("hc:up:"):
                return str(item["custom_id"])
    return None


def mirrored(world: World, permlink: str) -> Any:
    for message in world.fake.messages(world.reviews):
        if message.embeds and permlink in message.embeds[0].get("url", ""):
            return message
    return None


async def press(world: World, message: Any, user: int) -> tuple[str, Any]:
    """Presses Upvote on a mirrored message: (the text of the private answer, the interaction)."""
    custom_id = upvote_button(message)
    assert custom_id, message.components
    handle = await world.fake.send_component(message.id, user, custom_id)
    first = await handle.response(timeout=30)
    assert first["data"]["flags"] & EPHEMERAL, first
    return json.dumps(first["data"]["embeds"]), handle


async def confirm(world: World, handle: Any, user: int, label: str) -> str:
    """Presses the weight button `label` on the private answer; the answer's text once the vote is done."""
    answer = await handle.wait_original()
    buttons = {item["label"]: item["custom_id"] for row in answer.components for item in row["components"]}
    assert label in buttons, buttons
    click = await world.fake.send_component(answer.id, user, buttons[label])
    await click.response(timeout=30)
    done = await handle.wait_original(lambda m: not m.components, timeout=60)
    return json.dumps(done.embeds)


async def command(world: World, user: int, name: str, options: dict[str, Any] | None = None) -> tuple[str, Any]:
    handle = await world.fake.send_interaction(world.fake.world.guild_id, world.reviews, user, name, options)
    first = await handle.response(timeout=30)
    if first["type"] == 5:
        (message,) = await handle.wait_followups(1, timeout=30)
        return json.dumps(message.embeds), handle
    assert first["data"]["flags"] & EPHEMERAL, first
    return json.dumps(first["data"]["embeds"]), handle


@asynccontextmanager
async def curation_world(folder: Path) -> AsyncIterator[World]:
    """The seed on a node that knows the curation account, a guild with a curator role, and a running bot
    with a feed of the community and curation set (weight 50 %, 3 votes a day, an audit channel)."""
    node, _ = seed_node()
    node.accounts[ACCOUNT] = hive_account(ACCOUNT, [(str(KEY.pubkey), 1)])
    hive_url = node.start_in_thread()
    fake = FakeDiscord(token=TOKEN)
    guild = fake.world.guild_id
    reviews = fake.state.add_text_channel(guild, "reviews").id
    audit = fake.state.add_text_channel(guild, "curation-audit").id
    role = fake.state.add_role(guild, "Curators", 0).id
    curators = []
    for name in ("cura", "curb"):
        user = fake.state.add_user(name).id
        fake.state.add_member(guild, user, [role])
        curators.append(user)
    outsider = fake.state.add_user("outsider").id
    fake.state.add_member(guild, outsider)
    await fake.start()
    config = bot_config(folder, hive_url, fake, start_block=SEED_FIRST)
    text = config.read_text().replace('level = "INFO"', 'level = "DEBUG"')
    config.write_text(text + f'\n[curation]\naccounts = {{ "{ANIME_REALM}" = "{ACCOUNT}" }}\n')
    bot = BotProcess(config, fake, env={KEY_ENV: WIF})
    made = World(fake, node, bot, folder, config, reviews, audit, role, curators, outsider)
    try:
        await bot.start()
        handle = await fake.send_interaction(
            guild, reviews, fake.world.admin_id, "feed add", {"community": ANIME_REALM, "channel": reviews}
        )
        await handle.response(timeout=30)
        node.head = SEED_LAST + 5
        await fake.wait_for(lambda: mirrored(made, REVIEW[1]), timeout=60)
        said, _ = await command(
            made,
            fake.world.admin_id,
            "curation set",
            {"community": ANIME_REALM, "role": role, "weight": 50, "daily_cap": 3, "audit_channel": audit},
        )
        assert "Curation set" in said and "50%" in said, said
        yield made
        assert not fake.violations and not fake.unknown_requests
    finally:
        code = await made.bot.stop()
        await fake.stop()
        node.stop_thread()
        made.logs.append(made.bot.log)
    assert code == 0, made.bot.log


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    async with curation_world(tmp_path_factory.mktemp("curation")) as made:
        yield made


async def test_a_curator_upvotes_the_seed_review_once_and_it_lands(world: World) -> None:
    message = mirrored(world, REVIEW[1])
    sent = len(world.node.broadcasts)
    said, _ = await press(world, message, world.outsider)
    assert "Only members with the" in said and "No vote" in said
    assert len(world.node.broadcasts) == sent

    curator = world.curators[0]
    said, handle = await press(world, message, curator)
    assert f"@{ACCOUNT}" in said and "nothing is sent until you do" in said
    done = await confirm(world, handle, curator, "Vote 50%")
    assert "Vote sent" in done and "50%" in done, done
    assert world.votes_by_account(*REVIEW) == [5000]

    # On chain, seen by the follower; the audit channel and the vote's relay name the curator.
    def on_chain() -> bool:
        return db_rows(
            world.db,
            "SELECT v.weight FROM votes v JOIN posts p ON p.id = v.post_id WHERE v.voter = ? AND p.permlink = ?",
            ACCOUNT,
            REVIEW[1],
        ) == [(5000,)]

    await world.fake.wait_for(on_chain, timeout=60)

    def audited() -> list[str]:
        texts = [json.dumps(m.embeds) for m in world.fake.messages(world.audit)]
        return [t for t in texts if "Metallic Rouge" in t]

    (audit,) = await world.fake.wait_for(audited, timeout=60)
    assert f"<@{curator}>" in audit and "on chain" in audit, audit
    assert world.state_of(REVIEW[1]) == [("landed",)]
    # The vote's relay in the feed says who pressed.
    relay = await world.fake.wait_for(
        lambda: [
            m
            for m in world.fake.messages(world.reviews)
            if f"Curated from Discord by <@{curator}>" in json.dumps(m.embeds)
        ],
        timeout=60,
    )
    assert len(relay) == 1

    # The mirrored message counts the new vote (the seed's three and this one).
    def counted() -> bool:
        fields = mirrored(world, REVIEW[1]).embeds[0].get("fields", [])
        return any(f["name"] == "Votes" and f["value"].startswith("4 votes") for f in fields)

    await world.fake.wait_for(counted, timeout=60)
    assert upvote_button(mirrored(world, REVIEW[1])), "an edit keeps the button"

    # A second press, from anyone, and /curate of the same post: nothing more is sent.
    said, _ = await press(world, message, world.curators[1])
    assert "already voted 50%" in said and f"<@{curator}>" in said
    said, _ = await command(world, world.curators[1], "curate", {"post": f"https://peakd.com/@{REVIEW[0]}/{REVIEW[1]}"})
    assert "already voted 50%" in said
    assert world.votes_by_account(*REVIEW) == [5000]
    assert not world.fake.violations and not world.fake.unknown_requests


async def test_posts_that_may_not_be_voted_are_refused_in_words(world: World) -> None:
    sent = len(world.node.broadcasts)
    curator = world.curators[1]
    # A post outside the followed community never reached the store.
    said, _ = await command(world, curator, "curate", {"post": "@someone/a-post-elsewhere"})
    assert "not a post this bot has seen" in said
    said, _ = await command(world, curator, "curate", {"post": "not a link"})
    assert "not a post link" in said
    # A review made eight days before the head: its payout window has closed.
    world.post_block("oldtimer", "an-old-review", "An old review", days_old=8)
    await world.fake.wait_for(lambda: mirrored(world, "an-old-review"), timeout=60)
    said, _ = await command(world, curator, "curate", {"post": "https://hive.blog/hive-158489/@oldtimer/an-old-review"})
    assert "payout window has closed" in said, said
    # A post the account already voted on outside Discord (the node takes any signed vote).
    vote = {"voter": ACCOUNT, "author": "writer4", "permlink": "voted-elsewhere", "weight": 3000}
    world.post_block("writer4", "voted-elsewhere", "Voted elsewhere", then={"type": "vote_operation", "value": vote})
    await world.fake.wait_for(lambda: mirrored(world, "voted-elsewhere"), timeout=60)
    await world.fake.wait_for(
        lambda: db_rows(world.db, "SELECT 1 FROM votes WHERE voter = ? AND weight = 3000", ACCOUNT), timeout=60
    )
    said, _ = await press(world, mirrored(world, "voted-elsewhere"), curator)
    assert "already voted 30% on this post on chain, outside Discord" in said, said
    # A post by the curation account itself.
    world.post_block(ACCOUNT, "our-own-post", "Our own post")
    await world.fake.wait_for(lambda: mirrored(world, "our-own-post"), timeout=60)
    said, _ = await press(world, mirrored(world, "our-own-post"), curator)
    assert "does not vote on its own posts" in said
    assert len(world.node.broadcasts) == sent


REFUSALS = {
    "rc": (
        "rc_plugin exception: Account: realm.curator has 0 RC, needs 1000 RC. Please wait to transact.",
        "resource credits",
    ),
    # The account's vote reached the node from elsewhere, and the follower has not seen it yet.
    "voted": (
        "Assert Exception:itr->vote_percent != o.weight: You have already voted in a similar way.",
        "already voted",
    ),
}


@pytest.mark.parametrize("refusal", sorted(REFUSALS))
async def test_a_node_refusal_is_explained_recorded_and_not_retried(world: World, refusal: str) -> None:
    message, words = REFUSALS[refusal]
    curator = world.curators[1]
    permlink = f"review-refused-{refusal}"
    world.post_block("writer1", permlink, f"Review refused: {refusal}")
    await world.fake.wait_for(lambda: mirrored(world, permlink), timeout=60)
    world.node.broadcast_refusals = {ACCOUNT: message}
    try:
        _, handle = await press(world, mirrored(world, permlink), curator)
        done = await confirm(world, handle, curator, "Vote 50%")
    finally:
        world.node.broadcast_refusals = {}
    assert words in done and "No vote" in done, done
    rows = db_rows(world.db, "SELECT state, error FROM curation_votes WHERE permlink = ?", permlink)
    assert rows == [("failed", message)]
    refused = [b for b in world.node.broadcasts if b["outcome"] == "refused" and permlink in json.dumps(b["trx"])]
    assert len(refused) == 1  # asked once, not again and again
    # The refusal freed the post: a later press may vote (and does, once).
    _, handle = await press(world, mirrored(world, permlink), curator)
    done = await confirm(world, handle, curator, "Vote 25%")
    assert "Vote sent" in done
    assert world.votes_by_account("writer1", permlink) == [2500]


async def test_a_curator_over_the_daily_cap_is_refused(world: World) -> None:
    curator = world.member("capped")
    admin = world.fake.world.admin_id
    options = {"community": ANIME_REALM, "role": world.curator_role, "weight": 50, "audit_channel": world.audit}
    world.post_block("writer2", "review-cap-1", "Review under the cap")
    world.post_block("writer2", "review-cap-2", "Review over the cap")
    await world.fake.wait_for(lambda: mirrored(world, "review-cap-2"), timeout=60)
    _, handle = await press(world, mirrored(world, "review-cap-1"), curator)
    # The cap counts at the press that signs: one vote a day each, from here on.
    said, _ = await command(world, admin, "curation set", {**options, "daily_cap": 1})
    assert "1 votes a day" in said
    try:
        assert "Vote sent" in await confirm(world, handle, curator, "Vote 50%")
        sent = len(world.node.broadcasts)
        _, handle = await press(world, mirrored(world, "review-cap-2"), curator)
        done = await confirm(world, handle, curator, "Vote 50%")
        assert "cast your 1 votes" in done, done
        assert len(world.node.broadcasts) == sent
    finally:
        await command(world, admin, "curation set", {**options, "daily_cap": 50})


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["before the broadcast", "after the broadcast"])
async def test_a_kill_around_the_broadcast_leaves_exactly_one_vote(world: World, moment: str) -> None:
    permlink = "review-kill-" + moment.split()[0]
    world.post_block("writer3", permlink, f"Review killed {moment}")
    await world.fake.wait_for(lambda: mirrored(world, permlink), timeout=60)
    curator = world.curators[0]
    _, handle = await press(world, mirrored(world, permlink), curator)
    answer = await handle.wait_original()
    buttons = {item["label"]: item["custom_id"] for row in answer.components for item in row["components"]}
    proc = world.bot.proc
    assert proc is not None

    def kill(_: str) -> None:
        os.kill(proc.pid, signal.SIGKILL)

    # Before: the bot dies as its broadcast arrives, which the node drops unread (the intent is stored,
    # nothing reached the chain). After: the node accepts it and the bot dies before hearing so.
    if moment == "before the broadcast":
        world.node.before_broadcast = lambda method: (kill(method), True)[1]
    else:
        world.node.on_broadcast = kill
    try:
        await world.fake.send_component(answer.id, curator, buttons["Vote 50%"])
        await world.fake.wait_for(lambda: proc.returncode is not None or None, timeout=60)
    finally:
        world.node.before_broadcast = None
        world.node.on_broadcast = None
    assert world.state_of(permlink) == [("signed",)]
    await world.restart()
    await world.fake.wait_for(lambda: world.state_of(permlink) == [("landed",)], timeout=90)
    assert world.votes_by_account("writer3", permlink) == [5000]
    # The button on a message sent before the restart still answers.
    said, _ = await press(world, mirrored(world, permlink), world.curators[1])
    assert "already voted 50%" in said


async def test_the_key_is_in_no_log_answer_database_or_discord_request(world: World) -> None:
    said, _ = await command(world, world.curators[0], "status")
    assert WIF not in said
    everything = "\n".join([*world.logs, world.bot.log])
    assert WIF not in everything
    for path in world.folder.iterdir():
        if path.is_file():
            assert WIF.encode() not in path.read_bytes(), path
    for request in world.fake.requests:
        assert WIF not in json.dumps([request.json, request.headers, request.query], default=str), request.path
    assert "curation for hive-158489 is off" not in everything  # the key was the account's all along


async def test_a_key_rotated_away_on_chain_is_refused_by_the_node_and_turns_curation_off(tmp_path: Path) -> None:
    async with curation_world(tmp_path) as world:
        # The account's owner changes its posting key on chain; the bot still holds the old one.
        world.node.accounts[ACCOUNT] = hive_account(ACCOUNT, [(str(PrivateKey().pubkey), 1)])
        curator = world.curators[0]
        _, handle = await press(world, mirrored(world, REVIEW[1]), curator)
        done = await confirm(world, handle, curator, "Vote 50%")
        assert "not a posting key of @realm.curator" in done and "No vote" in done, done
        assert world.state_of(REVIEW[1]) == [("failed",)]
        refused = [b for b in world.node.broadcasts if b["outcome"] == "refused"]
        assert len(refused) == 1 and "Missing Posting Authority" in refused[0]["error"]
        # Curation is off now: a press is refused before anything is signed, and new reviews have no button.
        said, _ = await press(world, mirrored(world, REVIEW[1]), world.curators[1])
        assert "Curation is off" in said, said
        world.post_block("writer5", "after-the-rotation", "After the rotation")
        await world.fake.wait_for(lambda: mirrored(world, "after-the-rotation"), timeout=60)
        assert upvote_button(mirrored(world, "after-the-rotation")) is None
        assert len(world.node.broadcasts) == 1
        log = world.bot.log
    off = [line for line in log.splitlines() if "curation for hive-158489 is off" in line]
    assert len(off) == 1 and " ERROR " in off[0], off
    assert WIF not in log
