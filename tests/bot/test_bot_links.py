"""Members link Hive accounts through the real `hivecord run`: a custom_json on chain carrying the /link
code, or a Keychain-format signature by a posting key the node lists. Keys are made here with beem.

One bot process serves the module; it logs at DEBUG, where discord.py writes whole gateway payloads,
so the pasted-key test shows no key reaches the log at any level the bot may run at.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import pytest_asyncio
from beemgraphenebase.account import PrivateKey
from beemgraphenebase.ecdsasig import sign_message

from tests.bot_harness import TOKEN, BotProcess, bot_config, db_rows
from tests.fakes.chain_gen import format_time
from tests.fakes.discord import FakeDiscord
from tests.fakes.hive import FakeHiveNode, hive_account
from tests.helpers import ANIME_REALM, SEED_FIRST, SEED_LAST
from tests.world import running_bot, seed_node

pytestmark = pytest.mark.asyncio(loop_scope="module")

EPHEMERAL = 64
AUTHOR = "alienpunklord"  # wrote the seed review, and got a HiveBuzz badge in the seed
KEYS = {name: PrivateKey() for name in (AUTHOR, "bob", "carol", "dave", "erin")}
# A WIF made here, and a master password's shape: neither may reach a log line or a database row.
PASTED_WIF = str(PrivateKey())
PASTED_MASTER = "P" + str(PrivateKey())


@dataclass
class World:
    fake: FakeDiscord
    node: FakeHiveNode
    bot: BotProcess
    db: Path
    channel: int
    next_block: int = SEED_LAST + 10

    def member(self, name: str) -> int:
        user = self.fake.state.add_user(name)
        self.fake.state.add_member(self.fake.world.guild_id, user.id)
        return user.id

    async def run(self, user: int, command: str, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        """Runs a command; (the text of its answer, the answer's first embed)."""
        handle = await self.fake.send_interaction(self.fake.world.guild_id, self.channel, user, command, options)
        first = await handle.response(timeout=30)
        if first["type"] == 5:  # deferred: the answer is a followup
            assert first["data"]["flags"] & EPHEMERAL
            (message,) = await handle.wait_followups(1, timeout=30)
            embeds = message.embeds
        else:
            assert first["data"]["flags"] & EPHEMERAL, first
            embeds = first["data"]["embeds"]
        return json.dumps(embeds), embeds[0]

    def broadcast(self, ops: list[dict[str, Any]], *, timestamp: str | None = None) -> int:
        """Puts a block with these custom_json ops (one transaction each) on chain; returns its number."""
        num = self.next_block
        self.next_block += 3
        block: dict[str, Any] = {"transactions": [{"operations": [op]} for op in ops]}
        if timestamp is not None:
            block["timestamp"] = timestamp
        self.node.add_blocks({num: block})
        self.node.head = num + 2  # irreversible one block behind
        return num

    def links(self) -> dict[int, str]:
        return dict(db_rows(self.db, "SELECT user_id, account FROM links"))

    def cursor(self) -> int:
        rows = db_rows(self.db, "SELECT value FROM meta WHERE key = 'cursor'")
        return int(rows[0][0]) if rows else 0


def link_op(account: str, user: int, code: str) -> dict[str, Any]:
    payload = json.dumps({"link": str(user), "code": code})
    value = {"required_auths": [], "required_posting_auths": [account], "id": "hivecord", "json": payload}
    return {"type": "custom_json_operation", "value": value}


def keychain_sign(text: str, account: str) -> str:
    return sign_message(text, str(KEYS[account])).hex()


def text_to_sign(answer: str, account: str, user: int) -> str:
    found = re.search(rf"hivecord:link:{account}:{user}:[A-Za-z0-9_-]+", answer)
    assert found, answer
    return found.group()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    tmp_path = tmp_path_factory.mktemp("links")
    node, _ = seed_node()
    for name, key in KEYS.items():
        node.accounts[name] = hive_account(name, [(str(key.pubkey), 1)], reputation=95_832_978_796_820)
    hive_url = node.start_in_thread()
    fake = FakeDiscord(token=TOKEN)
    channel = fake.state.add_text_channel(fake.world.guild_id, "general").id
    await fake.start()
    config = bot_config(tmp_path, hive_url, fake, start_block=SEED_FIRST)
    config.write_text(config.read_text().replace('level = "INFO"', 'level = "DEBUG"'))
    try:
        async with running_bot(config, fake) as bot:
            made = World(fake, node, bot, tmp_path / "hivecord.sqlite3", channel)
            # A feed here, so /whois has a post mirrored on this server to count.
            handle = await fake.send_interaction(
                fake.world.guild_id,
                channel,
                fake.world.admin_id,
                "feed add",
                {"community": ANIME_REALM, "channel": channel, "votes": "off", "badges": False},
            )
            await handle.wait_followups(1, timeout=30)
            node.head = SEED_LAST + 5
            await fake.wait_for(lambda: db_rows(made.db, "SELECT count(*) FROM mirrors") == [(1,)], timeout=60)
            yield made
    finally:
        await fake.stop()
        node.stop_thread()


async def test_link_on_chain_and_the_custom_jsons_that_link_nothing(world: World) -> None:
    member, thief, late, other = world.member("m1"), world.member("thief"), world.member("late"), world.member("o")
    answer, embed = await world.run(member, "link", {"account": "@AlienPunkLord"})
    code = text_to_sign(answer, AUTHOR, member).rsplit(":", 1)[1]
    # The HiveSigner link broadcasts exactly the op the follower looks for.
    (url,) = re.findall(r"\((https://hivesigner\.com/sign/custom-json\?[^)\s]+)\)", embed["description"])
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["id"] == "hivecord" and json.loads(query["required_posting_auths"]) == [AUTHOR]
    assert json.loads(query["json"]) == {"link": str(member), "code": code}
    thief_answer, _ = await world.run(thief, "link", {"account": "dave"})
    thief_code = text_to_sign(thief_answer, "dave", thief).rsplit(":", 1)[1]
    late_answer, _ = await world.run(late, "link", {"account": "erin"})
    late_code = text_to_sign(late_answer, "erin", late).rsplit(":", 1)[1]
    await world.run(other, "link", {"account": "carol"})
    world.broadcast(
        [
            link_op("mallory", thief, thief_code),  # the thief's own code, signed by another account
            link_op(AUTHOR, thief, code),  # a code issued to another member
            link_op("carol", other, "not-the-code"),
            link_op(AUTHOR, member, code),
            link_op(AUTHOR, member, code),  # the same proof again: used, and harmless
        ]
    )
    # Broadcast after its code expired: chain time says when.
    expired = world.broadcast([link_op("erin", late, late_code)], timestamp=format_time(int(time.time()) + 3600))
    await world.fake.wait_for(lambda: world.cursor() >= expired, timeout=60)
    assert world.links() == {member: AUTHOR}
    assert db_rows(world.db, "SELECT proof FROM links WHERE user_id = ?", member) == [("custom_json",)]


async def test_link_by_signature_and_the_signatures_that_link_nothing(world: World) -> None:
    member, other = world.member("m2"), world.member("m3")
    answer, _ = await world.run(member, "link", {"account": "bob"})
    text = text_to_sign(answer, "bob", member)
    other_answer, _ = await world.run(other, "link", {"account": "carol"})
    refusals = {
        "wrong signature": "1f" + "ab" * 64,
        "another account's key": keychain_sign(text, "carol"),
        "another member's code": keychain_sign(text_to_sign(other_answer, "carol", other), "carol"),
        "not a signature": "zz",
    }
    for why, signature in refusals.items():
        said, _ = await world.run(member, "verify", {"signature": signature})
        assert "nothing was linked" in said or "not a Keychain signature" in said, (why, said)
        assert member not in world.links(), why
    said, _ = await world.run(member, "verify", {"signature": keychain_sign(text, "bob")})
    assert "Linked" in said and "@bob" in said
    assert world.links()[member] == "bob"
    # The code is single use: the same signature again is refused.
    said, _ = await world.run(member, "verify", {"signature": keychain_sign(text, "bob")})
    assert "already used" in said


async def linked_by_signature(world: World, name: str, account: str) -> None:
    """A new member `name` linked to `account` as with Keychain, unless some member is linked to it already."""
    if account in world.links().values():
        return
    member = world.member(name)
    answer, _ = await world.run(member, "link", {"account": account})
    signature = keychain_sign(text_to_sign(answer, account, member), account)
    said, _ = await world.run(member, "verify", {"signature": signature})
    assert "Linked" in said, said


async def test_whois_shows_both_links_and_unlink_and_a_moved_link(world: World) -> None:
    # The two tests before link these; xdist may have run them in another process with a world of its own.
    await linked_by_signature(world, "m1", AUTHOR)
    await linked_by_signature(world, "m2", "bob")
    by_user = {account: user for user, account in world.links().items()}
    author, bob = by_user[AUTHOR], by_user["bob"]
    said, embed = await world.run(bob, "whois", {"member": author})
    assert embed["title"] == f"@{AUTHOR}" and embed["url"] == f"https://hive.blog/@{AUTHOR}"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Reputation"] == "69"  # 95,832,978,796,820 raw, as Hive front ends show it
    assert fields["Posts mirrored here"] == "1"
    (badge,) = db_rows(world.db, "SELECT badge FROM badges WHERE recipient = ?", AUTHOR)
    assert fields["HiveBuzz badges"] == badge[0]
    said, embed = await world.run(author, "whois", {"account": "bob"})
    assert f"<@{bob}>" in embed["description"]
    # A new proof moves a link: bob's member proves the author's account, and both old pairings end.
    answer, _ = await world.run(bob, "link", {"account": AUTHOR})
    text = text_to_sign(answer, AUTHOR, bob)
    await world.run(bob, "verify", {"signature": keychain_sign(text, AUTHOR)})
    assert world.links() == {bob: AUTHOR}
    said, _ = await world.run(bob, "unlink")
    assert f"@{AUTHOR}" in said and world.links() == {}
    said, _ = await world.run(author, "whois", {"member": author})
    assert "has not linked" in said


async def test_a_pasted_private_key_is_refused_and_kept_nowhere(world: World) -> None:
    member = world.member("careless")
    for command, options in (
        ("subscribe", {"series": f"my key {PASTED_WIF}"}),
        ("verify", {"signature": PASTED_MASTER}),
    ):
        said, _ = await world.run(member, command, options)
        assert "looks like a **private key**" in said, said
    assert db_rows(world.db, "SELECT count(*) FROM subscriptions") == [(0,)]
    # The interaction reached the bot's log (discord.py logs gateway payloads at DEBUG), redacted.
    await world.fake.wait_for(lambda: "a private key, redacted" in world.bot.log, timeout=30)
    for secret in (PASTED_WIF, PASTED_MASTER):
        assert secret not in world.bot.log
        for path in world.db.parent.glob("hivecord.sqlite3*"):  # the file, its WAL and shared memory
            assert secret.encode() not in path.read_bytes(), path.name
    assert not world.fake.violations
