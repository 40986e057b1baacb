"""Many servers, one bot: nothing one server does changes what another sees or how fast (issue 19).

The real `hivecord run` serves two servers of the fake Discord, A (the default world) and B, against
the seed chain on the fake node; one bot process serves the module. Requests are counted in the
fake, never timed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.domain import ThreadMode
from bot.store.store import Store
from tests.bot.test_bot_roles import link
from tests.bot_harness import ANIME_REALM_INFO, TOKEN, BotProcess, bot_config, comment_block, db_rows
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord import permissions as perms
from tests.fakes.discord.permissions import Overwrite
from tests.fakes.hive import FakeHiveNode
from tests.helpers import ANIME_REALM, SEED_FIRST, SEED_LAST
from tests.world import running_bot, seed_node

pytestmark = pytest.mark.asyncio(loop_scope="module")

AUTHOR = "alienpunklord"  # wrote the seed review; animerealm.cur (team), reader01 and miguelreads upvote it
RETRY_SECONDS = 300.0  # delivery.refused_retry_seconds, its default
FLOOD = 50
FEW = 5  # updates the flood may see go by before the other channel's planned review arrives


@dataclass
class World:
    fake: FakeDiscord
    node: FakeHiveNode
    bot: BotProcess
    db: Path
    reviews: int  # A: refused in the flood test
    calm: int  # A: a healthy channel beside it
    forum: int  # A: a forum whose "Metallic Rouge" tag only moderators may apply
    guild_b: int
    owner_b: int
    b_channels: tuple[int, int]  # B: both refuse the bot
    author: int  # linked to AUTHOR; a member of A only
    outsider: int  # linked to outsider.hive; a member of B only
    mod: int  # A: Manage Roles and Manage Server, top role "Mods"
    high: int  # A: a role above Mods, with a rule
    low: int  # A: a role below Mods, with a rule
    next_block: int = SEED_LAST + 10

    async def run(
        self, user: int, command: str, options: dict[str, Any] | None = None, *, guild: int | None = None
    ) -> str:
        """A command in A's #calm (or B's first channel); everything the user was shown, as JSON text."""
        guild_id = guild or self.fake.world.guild_id
        channel = self.calm if guild_id == self.fake.world.guild_id else self.b_channels[0]
        handle = await self.fake.send_interaction(guild_id, channel, user, command, options or {})
        first = await handle.response(timeout=30)
        if first["type"] == 5:
            (answer,) = await handle.wait_followups(1, timeout=30)
            return json.dumps(answer.embeds)
        return json.dumps(first["data"])

    def post(self, title: str) -> None:
        """A new review on chain, final at once (irreversible trails head by one block)."""
        num = self.next_block
        self.next_block += 2
        permlink = title.lower().replace(" ", "-")
        self.node.add_blocks({num: comment_block("someauthor", permlink, title, "A body.", "{}")})
        self.node.head = num + 1

    def titles(self, channel: int) -> list[str]:
        return [m.embeds[0]["title"] for m in self.fake.messages(channel) if m.embeds and "title" in m.embeds[0]]

    def to_channel(self, channel: int) -> list[Any]:
        prefix = f"/channels/{channel}"
        return [r for r in self.fake.requests if r.path == prefix or r.path.startswith(prefix + "/")]


async def make_feeds(db: Path, feeds: list[tuple[int, int, tuple[str, ...], ThreadMode]]) -> None:
    """(guild, channel, curators, threads) feeds made through the store before the bot starts, so they
    see the seed from its first block; the community's team as /feed add stores it."""
    store = await Store.open(db)
    try:
        team = [str(m[0]) for m in ANIME_REALM_INFO["team"]]
        await store.communities.save_community(ANIME_REALM, "Anime Realm", team, "2026-12-01T00:00:00")
        for guild_id, channel_id, curators, threads in feeds:
            await store.feeds.upsert_feed(
                guild_id=guild_id, channel_id=channel_id, community=ANIME_REALM, posts=True, votes="off",
                curators=curators, badges=False, role_id=None, created_by=1, at="2026-12-01T00:00:00",
                threads=threads,
            )  # fmt: skip
    finally:
        await store.close()


async def make_rules(db: Path, guild_id: int, roles: list[int]) -> None:
    """Team rules for `roles` (no team member is linked here, so no role is given)."""
    store = await Store.open(db)
    try:
        for role_id in roles:
            await store.roles.set_rule(
                guild_id=guild_id, role_id=role_id, kind="team", community=ANIME_REALM, min_reputation=None,
                created_by=1, at="2026-12-01T00:00:00",
            )  # fmt: skip
    finally:
        await store.close()


def settled_but_b(db: Path, guild_b: int) -> bool:
    """The seed is followed and planned, and nothing waits but B's (refused) feeds' jobs."""
    try:
        (cursor,) = db_rows(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'cursor'")[0]
        (behind,) = db_rows(
            db, "SELECT count(*) FROM feeds WHERE outbox_cursor < (SELECT coalesce(max(id), 0) FROM outbox)"
        )[0]
        (waiting,) = db_rows(
            db,
            "SELECT count(*) FROM jobs j LEFT JOIN feeds f ON f.id = j.feed_id"
            " WHERE j.state = 'pending' AND (f.guild_id IS NULL OR f.guild_id != ?)",
            guild_b,
        )[0]
    except (IndexError, sqlite3.OperationalError):  # no schema or cursor yet
        return False
    return cursor >= SEED_LAST and behind == 0 and waiting == 0


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    tmp_path = tmp_path_factory.mktemp("isolation")
    db = tmp_path / "hivecord.sqlite3"
    node, _ = seed_node(head=SEED_FIRST)
    node.subscribers[ANIME_REALM] = [["nobody.here", "guest", "", "2026-01-01 00:00:00"]]
    hive_url = node.start_in_thread()
    fake = FakeDiscord(token=TOKEN)
    state, w = fake.state, fake.world
    reviews = state.add_text_channel(w.guild_id, "reviews").id
    calm = state.add_text_channel(w.guild_id, "calm").id
    # The bot may manage threads here, so Discord would take the moderated tag from it: it must not try.
    forum = state.add_forum_channel(
        w.guild_id,
        "review-forum",
        tags=["Metallic Rouge", "Anime"],
        moderated=("Metallic Rouge",),
        overwrites=[Overwrite(w.bot_role_id, 0, allow=perms.MANAGE_THREADS)],
    ).id
    # Roles of A, bottom up: @everyone, Low, Mods, Admin, the bot's, High.
    low = state.add_role(w.guild_id, "Low", 0, position=1).id
    mods = state.add_role(w.guild_id, "Mods", perms.MANAGE_ROLES | perms.MANAGE_GUILD, position=2).id
    high = state.add_role(w.guild_id, "High", 0).id
    mod = state.add_user("mod").id
    state.add_member(w.guild_id, mod, [mods])
    author = state.add_user("punk").id
    state.add_member(w.guild_id, author)
    # Server B: its own owner, the bot, a member linked to a Hive account, two channels.
    owner_b = state.add_user("owner-b").id
    guild_b = state.add_guild("Server B", owner_id=owner_b).id
    bot_role_b = state.add_role(guild_b, "hivecord", perms.BOT_DEFAULT, managed_by=w.bot_id).id
    state.add_member(guild_b, w.bot_id, [bot_role_b])
    outsider = state.add_user("outsider").id
    state.add_member(guild_b, outsider)
    b_channels = (state.add_text_channel(guild_b, "b-reviews").id, state.add_text_channel(guild_b, "b-more").id)
    await fake.start()
    config = bot_config(tmp_path, hive_url, fake, start_block=SEED_FIRST)
    try:
        await link(db, {author: AUTHOR, outsider: "outsider.hive"})
        # reader01 curates in A, where the author is a member; miguelreads only in B, where they are not.
        await make_feeds(
            db,
            [
                (w.guild_id, reviews, (), "off"),
                (w.guild_id, calm, ("reader01",), "off"),
                (w.guild_id, forum, (), "forum"),
                (guild_b, b_channels[0], ("miguelreads",), "off"),
                (guild_b, b_channels[1], (), "off"),
            ],
        )
        await make_rules(db, w.guild_id, [high, low])
        async with running_bot(config, fake) as bot:
            made = World(
                fake, node, bot, db, reviews, calm, forum, guild_b, owner_b, b_channels, author, outsider, mod,
                high, low,
            )  # fmt: skip
            await fake.wait_for(lambda: any(c["name"] == "feed" for c in state.commands.get(None, [])), 60)
            said = await made.run(author, "notify", {"votes": "on"})
            assert "curator upvotes **on**" in said, said
            for channel in b_channels:
                fake.fail_channel(channel, 403, 50013)
            node.head = SEED_LAST + 5
            refused_b = f"SELECT count(*) FROM lanes WHERE state = 'refused' AND lane_id IN {b_channels}"
            await fake.wait_for(
                lambda: settled_but_b(db, guild_b) and db_rows(db, refused_b) == [(2,)], timeout=90
            )
            yield made
    finally:
        await fake.stop()
        node.stop_thread()


async def test_status_in_one_server_shows_nothing_of_anothers_feeds_backlog_or_lanes(world: World) -> None:
    pending_b = db_rows(
        world.db,
        "SELECT count(*) FROM jobs j JOIN feeds f ON f.id = j.feed_id WHERE j.state = 'pending' AND f.guild_id = ?",
        world.guild_b,
    )[0][0]
    assert pending_b >= 2  # B's two refused channels each keep the review they owe
    in_a = await world.run(world.fake.world.admin_id, "status")
    in_b = await world.run(world.owner_b, "status", guild=world.guild_b)
    fields_a = {f["name"]: f["value"] for f in json.loads(in_a)["embeds"][0]["fields"]}
    fields_b = {f["name"]: f["value"] for f in json.loads(in_b)["embeds"][0]["fields"]}
    assert fields_a["This server"] == "3 feed(s), all healthy", fields_a
    assert fields_a["Delivery backlog"] == "0 message(s) waiting here", fields_a
    assert "0 refused" in fields_a["Delivery lanes"] and "0 backing off" in fields_a["Delivery lanes"], fields_a
    assert fields_b["This server"].startswith("2 feed(s), 2 broken"), fields_b
    assert fields_b["Delivery backlog"] == f"{pending_b} message(s) waiting here", fields_b
    assert fields_b["Delivery lanes"].startswith("0 ok · 0 backing off · 2 refused"), fields_b
    # The chain and the nodes are everyone's.
    assert fields_a["Chain"] == fields_b["Chain"] and fields_a["Hive nodes"] == fields_b["Hive nodes"]
    assert not world.fake.violations, world.fake.violations


async def test_whois_tells_only_of_members_of_the_server_it_is_asked_in(world: World) -> None:
    member_a = world.fake.world.member_id
    by_account = await world.run(member_a, "whois", {"account": "outsider.hive"})
    by_member = await world.run(member_a, "whois", {"member": world.outsider})
    in_b = await world.run(world.owner_b, "whois", {"account": "outsider.hive"}, guild=world.guild_b)
    mine = await world.run(member_a, "whois", {"account": AUTHOR})
    assert "No member here is linked to **@outsider.hive**" in by_account, by_account
    assert "is not a member of this server" in by_member and "outsider.hive" not in by_member, by_member
    assert f"<@{world.outsider}>" in in_b and "outsider.hive" in in_b, in_b
    assert f"<@{world.author}>" in mine, mine
    # Membership asked of Discord with one read each, in the asking server only.
    reads = world.fake.find_requests("GET", "/guilds/{guild_id}/members/{user_id}")
    assert any(r.path == f"/guilds/{world.fake.world.guild_id}/members/{world.outsider}" for r in reads)
    assert not world.fake.violations, world.fake.violations


async def test_roles_remove_of_a_role_above_the_callers_is_refused(world: World) -> None:
    above = await world.run(world.mod, "roles remove", {"role": str(world.high)})
    below = await world.run(world.mod, "roles remove", {"role": str(world.low)})
    assert "at or above your highest role" in above, above
    assert "Removed the rule" in below, below
    rules = db_rows(world.db, "SELECT role_id FROM role_rules WHERE guild_id = ?", world.fake.world.guild_id)
    assert rules == [(world.high,)]
    assert not world.fake.violations, world.fake.violations


async def test_roles_set_reads_a_communitys_subscribers_once_however_many_rules(world: World) -> None:
    fake = world.fake
    bot_role = fake.state.roles[fake.world.bot_role_id]
    await fake.update_role(bot_role.id, permissions=bot_role.permissions | perms.MANAGE_ROLES)
    roles = [fake.state.add_role(fake.world.guild_id, f"Fans {i}", 0, position=1).id for i in range(4)]
    before = world.node.calls["bridge.list_subscribers"]
    for role in roles:
        said = await world.run(
            fake.world.owner_id, "roles set", {"role": role, "when": "subscriber", "community": ANIME_REALM}
        )
        assert "Role rule added" in said, said
    assert world.node.calls["bridge.list_subscribers"] - before == 1
    assert not world.fake.violations, world.fake.violations


async def test_a_moderated_forum_tag_matching_the_series_is_not_applied(world: World) -> None:
    (post,) = world.fake.threads(world.forum)
    assert post.name.startswith("Review Metallic Rouge"), post.name
    assert post.applied_tags == [world.fake.tag_id(world.forum, "Anime")]
    assert not world.fake.violations, world.fake.violations


async def test_a_curators_upvote_reaches_an_author_only_from_a_server_they_are_in(world: World) -> None:
    dm = world.fake.state.dm_channels[world.author]
    dms = [json.dumps([m.content, m.embeds]) for m in world.fake.messages(dm)]
    # The team's curator, and A's curator reader01; B's curator miguelreads is none of A's.
    assert len(dms) == 2, dms
    assert any("animerealm.cur" in d for d in dms) and any("reader01" in d for d in dms), dms
    assert not any("miguelreads" in d for d in dms), dms
    dropped = db_rows(
        world.db,
        "SELECT last_error FROM jobs WHERE action = 'notice' AND state = 'dropped' AND user_id = ?",
        world.author,
    )
    assert dropped == [("the voter curates in no server the author is a member of",)], dropped
    assert not world.fake.violations, world.fake.violations


async def test_a_flood_of_updates_probes_a_refused_channel_once_and_holds_up_no_other(world: World) -> None:
    fake = world.fake
    guild = fake.world.guild_id
    everyone = fake.state.roles[guild]
    fake.fail_channel(world.reviews, 403, 50013)
    world.post("Review Before The Flood")
    await fake.wait_for(lambda: "Review Before The Flood" in world.titles(world.calm), timeout=30)
    lane = f"SELECT state FROM lanes WHERE lane_id = {world.reviews}"
    await fake.wait_for(lambda: db_rows(world.db, lane) == [("refused",)], timeout=30)
    refused_from = len(fake.requests)
    world.post("Review During The Flood")
    # The flood starts once the review is planned for both channels, so what follows is the worker's
    # part only, not the follower's poll.
    planned = (
        "SELECT count(*) FROM jobs j JOIN posts p ON p.id = j.post_id"
        f" WHERE p.title = 'Review During The Flood' AND j.channel_id IN ({world.calm}, {world.reviews})"
    )
    await fake.wait_for(lambda: db_rows(world.db, planned) == [(2,)], timeout=30)
    arrived_after: int | None = None
    for i in range(FLOOD):
        if i % 2:
            await fake.set_overwrite(world.reviews, everyone.id, allow=0, deny=0)  # CHANNEL_UPDATE
        else:
            await fake.update_role(everyone.id, permissions=everyone.permissions)  # GUILD_ROLE_UPDATE
        # The bot has read the update once it answers a command sent after it (events are read in order).
        await world.run(fake.world.member_id, "subscriptions")
        if arrived_after is None and "Review During The Flood" in world.titles(world.calm):
            arrived_after = i + 1
    # Planned, the review's sender starts in the same delivery pass and the pace is idle: only its own
    # reads and one send stand between. An update costs the bot one read (after the first, the lane
    # waits for its paced probe, not refused: no write, no request) and a command's answer, so a few
    # updates at most go by; a flood that held the worker (a write, a probe, a pace turn per update)
    # would hold the review for many.
    assert arrived_after is not None and arrived_after <= FEW, (arrived_after, "the review waited for the flood")
    sent = [r for r in fake.requests[refused_from:] if r.path.startswith(f"/channels/{world.reviews}")]
    assert len(sent) <= 2, [r.key for r in sent]
    # The lane waits for its next probe, paced from its last refusal, not from the last update.
    state, retry_at, refused_at = db_rows(
        world.db, "SELECT state, retry_at, refused_at FROM lanes WHERE lane_id = ?", world.reviews
    )[0]
    assert state == "backoff" and retry_at == pytest.approx(refused_at + RETRY_SECONDS), (state, retry_at)
    assert "Review During The Flood" not in world.titles(world.reviews)
    assert not fake.violations, fake.violations


async def refused_and_waiting(world: World) -> None:
    """#reviews refused twice and waiting for its paced probe, as the flood test leaves it (xdist may run
    that test in another process): refused, released once (probed at once, refused again), released again."""
    fake = world.fake
    state = f"SELECT state FROM lanes WHERE lane_id = {world.reviews}"
    if db_rows(world.db, state) == [("backoff",)]:
        return
    everyone = fake.state.roles[fake.world.guild_id]
    fake.fail_channel(world.reviews, 403, 50013)
    world.post("Review Before The Add")
    await fake.wait_for(lambda: db_rows(world.db, state) == [("refused",)], timeout=30)
    probes = len(world.to_channel(world.reviews))
    await fake.update_role(everyone.id, permissions=everyone.permissions)  # the first release: a probe at once
    await fake.wait_for(
        lambda: len(world.to_channel(world.reviews)) > probes and db_rows(world.db, state) == [("refused",)], timeout=30
    )
    await fake.update_role(everyone.id, permissions=everyone.permissions)  # the second: paced from the refusal
    await fake.wait_for(lambda: db_rows(world.db, state) == [("backoff",)], timeout=30)


async def test_feed_add_again_keeps_a_refused_lanes_pace_and_feed_list_says_when_it_retries(world: World) -> None:
    """After the flood the refused channel waits for its probe, due RETRY_SECONDS after its last
    refusal. An admin's /feed add there keeps that pace (it used to clear the lane: a probe at once,
    every time); its answer and /feed list say when the retry is due instead of "healthy"."""
    fake = world.fake
    lane = f"SELECT state, retry_at FROM lanes WHERE lane_id = {world.reviews}"
    await refused_and_waiting(world)
    ((state, retry_at),) = db_rows(world.db, lane)
    assert state == "backoff"
    due = f"waiting for a retry at <t:{int(retry_at)}:T>"
    before = len(world.to_channel(world.reviews))
    handle = await fake.send_interaction(
        fake.world.guild_id, world.calm, fake.world.admin_id, "feed add",
        {"community": ANIME_REALM, "channel": world.reviews},
    )  # fmt: skip
    await handle.response(timeout=30)
    (added,) = await handle.wait_followups(1, timeout=30)
    assert due in added.embeds[0]["description"], added.embeds
    # Delivery passes after the add: a new review reaches #calm. A probe of the refused channel would
    # have gone first (the same server's sends keep their order at the pace): none went.
    world.post("Review After The Add")
    await fake.wait_for(lambda: "Review After The Add" in world.titles(world.calm), timeout=30)
    assert len(world.to_channel(world.reviews)) == before, [r.key for r in world.to_channel(world.reviews)[before:]]
    assert db_rows(world.db, lane) == [("backoff", retry_at)]
    listed = await world.run(fake.world.admin_id, "feed list")
    assert due in listed and listed.count("healthy") == 2, listed  # #calm and the forum are healthy
    assert not fake.violations, fake.violations
