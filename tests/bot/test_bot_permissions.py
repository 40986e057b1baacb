"""Members cannot make the bot act where they may not; what the bot shows fits Discord and leaks no keys.

The real `hivecord run` against the fake Discord, which resolves every member's permissions per
channel as Discord does (roles, then @everyone/role/member overwrites). One bot process serves the
module's read-mostly tests; the alert test runs its own, since it must subscribe before the review
arrives.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio

from cogs.status import node_label
from tests.bot_harness import TOKEN, BotProcess, bot_config, db_rows
from tests.fakes.discord import FakeDiscord, InteractionHandle, StoredMessage, payloads
from tests.fakes.discord import permissions as perms
from tests.fakes.discord.permissions import Overwrite
from tests.fakes.discord.state import FakeDiscordState
from tests.fakes.hive import FakeHiveNode
from tests.helpers import ANIME_REALM, SEED_FIRST, SEED_LAST
from tests.world import post_count, running_bot, seed_node, seeded_world

pytestmark = pytest.mark.asyncio(loop_scope="module")

EPHEMERAL = 64
LISTED_FEEDS = 30
CURATORS = [f"curator-number{i:02d}" for i in range(50)]  # 16 characters each, the longest names Hive allows
SECRETS = ("user:", "s3cret", "/rpc", "key=", "abc123")


@dataclass
class World:
    fake: FakeDiscord
    bot: BotProcess
    db: Path
    node_origin: str  # scheme://host:port of the node, all /status may show of it
    reviews: int
    member_muted: int  # the plain member may not send here (the bot may)
    member_no_embed: int  # the plain member may not embed links here
    member_thread: int  # a thread whose parent denies the plain member Send Messages in Threads
    admin_hidden: int  # the admin may not view this channel
    admin_muted: int  # the admin's role may not send here
    listed: list[int]  # channels for the many feeds of /feed list
    pingable: int  # a mentionable role
    quiet: int  # a role that is not mentionable
    herald: int  # a member with Manage Server and Mention Everyone


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    tmp_path = tmp_path_factory.mktemp("permissions")
    node, _ = seed_node(head=SEED_LAST + 5)
    plain = urlsplit(node.start_in_thread())
    # The node as an operator might configure a paid one: a login, a path and a key (the fake ignores them).
    secret_url = f"{plain.scheme}://user:s3cret@{plain.netloc}/rpc/v1?key=abc123"
    fake = FakeDiscord(token=TOKEN)
    state, w = fake.state, fake.world
    guild = w.guild_id

    def channel(name: str, *overwrites: Overwrite) -> int:
        return state.add_text_channel(guild, name, overwrites=list(overwrites)).id

    reviews = channel("reviews")
    member_muted = channel("member-muted", Overwrite(w.member_id, 1, deny=perms.SEND_MESSAGES))
    member_no_embed = channel("member-no-embed", Overwrite(w.member_id, 1, deny=perms.EMBED_LINKS))
    parent = channel("threads", Overwrite(w.member_id, 1, deny=perms.SEND_MESSAGES_IN_THREADS))
    member_thread = state.add_text_channel(guild, "a thread", parent_id=parent, type=11).id
    admin_hidden = channel("admin-hidden", Overwrite(w.admin_id, 1, deny=perms.VIEW_CHANNEL))
    admin_muted = channel("admin-muted", Overwrite(w.admin_role_id, 0, deny=perms.SEND_MESSAGES))
    listed = [channel(f"feed-{i:02d}") for i in range(LISTED_FEEDS)]
    pingable = state.add_role(guild, "Pingable", 0, mentionable=True).id
    quiet = state.add_role(guild, "Quiet", 0).id
    herald_role = state.add_role(guild, "Herald", perms.MENTION_EVERYONE).id
    herald = state.add_user("herald").id
    state.add_member(guild, herald, [w.admin_role_id, herald_role])
    await fake.start()
    config = bot_config(tmp_path, secret_url, fake, start_block=SEED_FIRST)
    db = tmp_path / "hivecord.sqlite3"
    try:
        async with running_bot(config, fake) as bot:
            await fake.wait_for(lambda: post_count(db) >= 1, timeout=60)
            yield World(
                fake,
                bot,
                db,
                f"{plain.scheme}://{plain.netloc}",
                reviews,
                member_muted,
                member_no_embed,
                member_thread,
                admin_hidden,
                admin_muted,
                listed,
                pingable,
                quiet,
                herald,
            )
    finally:
        await fake.stop()
        node.stop_thread()


async def run(world: World, user: int, command: str, options: dict[str, Any], channel: int) -> tuple[str, Any]:
    """Runs a slash command; returns (everything the user was shown as JSON text, the handle)."""
    fake = world.fake
    handle = await fake.send_interaction(fake.world.guild_id, channel, user, command, options)
    first = await handle.response(timeout=10)
    if first["type"] == 5:
        (answer,) = await handle.wait_followups(1, timeout=15)
        return json.dumps(answer.embeds), handle
    assert first["data"].get("flags", 0) & EPHEMERAL, first
    return json.dumps(first["data"]), handle


def assert_clean(world: World) -> None:
    assert not world.fake.violations, world.fake.violations
    assert not world.fake.unknown_requests


def feeds_in(world: World, channel: int) -> list[tuple[Any, ...]]:
    return db_rows(world.db, "SELECT community, role_id FROM feeds WHERE channel_id = ?", channel)


# -- the fake resolves permissions as Discord does -------------------------------------------------


async def test_the_fake_resolves_a_members_permissions_per_channel() -> None:
    state = FakeDiscordState()
    w = state.seed_default_world()
    muted = state.add_text_channel(
        w.guild_id, "muted", overwrites=[Overwrite(w.member_id, 1, deny=perms.SEND_MESSAGES)]
    )
    thread = state.add_text_channel(w.guild_id, "a thread", parent_id=muted.id, type=11)
    boss = state.add_role(w.guild_id, "Boss", perms.ADMINISTRATOR).id
    state.add_member(w.guild_id, w.admin_id, [w.admin_role_id, boss])
    member_there = state.permissions_in(muted.id, w.member_id)
    assert member_there & perms.VIEW_CHANNEL and not member_there & (perms.SEND_MESSAGES | perms.EMBED_LINKS)
    assert state.permissions_in(thread.id, w.member_id) == member_there  # a thread takes its parent's overwrites
    assert state.permissions_in(w.general_id, w.member_id) & perms.SEND_MESSAGES
    assert not state.permissions_in(w.general_id, w.member_id) & perms.MENTION_EVERYONE
    hidden = state.add_text_channel(
        w.guild_id, "hidden", overwrites=[Overwrite(w.guild_id, 0, deny=perms.VIEW_CHANNEL)]
    )
    assert state.permissions_in(hidden.id, w.member_id) == 0
    assert state.permissions_in(hidden.id, w.admin_id) == perms.ALL  # Administrator overrides every overwrite
    assert state.permissions_in(hidden.id, w.owner_id) == perms.ALL
    assert payloads.role(state.roles[state.add_role(w.guild_id, "Fans", 0, mentionable=True).id])["mentionable"]


# -- item 8: Post here ----------------------------------------------------------------------------


def select_of(message: StoredMessage) -> dict[str, Any]:
    return next(item for row in message.components for item in row["components"] if item["type"] == 3)


async def post_here(world: World, channel: int) -> str:
    """The plain member searches in `channel` and picks the first result to post there."""
    fake = world.fake
    member = fake.world.member_id
    handle = await fake.send_interaction(fake.world.guild_id, channel, member, "search", {"query": "mars machines"})
    assert (await handle.response(timeout=10))["type"] == 4
    picker = select_of(await handle.wait_original())
    picked = await handle.click(
        picker["custom_id"], user_id=member, component_type=3, values=[picker["options"][0]["value"]]
    )
    told = await picked.response(timeout=10)
    assert told["data"]["flags"] & EPHEMERAL, told
    return json.dumps(told["data"])


async def test_post_here_only_where_the_member_may_send_embeds(world: World) -> None:
    muted = await post_here(world, world.member_muted)
    no_embed = await post_here(world, world.member_no_embed)
    assert "You can't share a review here" in muted and "missing **Send Messages**" in muted
    assert "You can't share a review here" in no_embed and "**Embed Links**" in no_embed
    in_thread = await post_here(world, world.member_thread)
    assert "missing **Send Messages in Threads**" in in_thread
    for channel in (world.member_muted, world.member_no_embed, world.member_thread):
        assert world.fake.messages(channel) == []
    # Where the member may, it posts (the same path, so the refusals above are about permissions).
    shared = await post_here(world, world.reviews)
    assert "Posted" in shared
    await world.fake.wait_for(lambda: world.fake.messages(world.reviews) or None, timeout=10)
    assert_clean(world)


# -- item 9: /subscribe where:here ----------------------------------------------------------------


async def test_subscribe_here_only_where_the_member_may_send(world: World) -> None:
    fake = world.fake
    member = fake.world.member_id
    muted, _ = await run(world, member, "subscribe", {"series": "Metallic Rouge", "where": "here"}, world.member_muted)
    assert "`where:here` is for a channel you can write in" in muted and "**Send Messages**" in muted
    thread, _ = await run(
        world, member, "subscribe", {"series": "Metallic Rouge", "where": "here"}, world.member_thread
    )
    assert "missing **Send Messages in Threads**" in thread
    dm = fake.state.dm_channel_for(member).id
    handle = await fake.send_interaction(None, dm, member, "subscribe", {"series": "Metallic Rouge", "where": "here"})
    in_dm = json.dumps((await handle.response(timeout=10))["data"])
    assert "works in a server" in in_dm
    assert db_rows(world.db, "SELECT count(*) FROM subscriptions WHERE user_id = ?", member) == [(0,)]
    # By DM from the same channel is fine: the member is not mentioned there.
    by_dm, _ = await run(world, member, "subscribe", {"series": "Metallic Rouge"}, world.member_muted)
    assert "You now follow" in by_dm
    assert_clean(world)


# -- item 10: /feed add and /feed test ------------------------------------------------------------


async def test_feed_add_and_test_refuse_channels_the_admin_cannot_use(world: World) -> None:
    admin = world.fake.world.admin_id
    hidden, _ = await run(
        world, admin, "feed add", {"community": ANIME_REALM, "channel": world.admin_hidden}, world.reviews
    )
    muted, _ = await run(
        world, admin, "feed add", {"community": ANIME_REALM, "channel": world.admin_muted}, world.reviews
    )
    # Without a channel option, the channel the command runs in is the one checked.
    here, _ = await run(world, admin, "feed add", {"community": ANIME_REALM}, world.admin_muted)
    preview, _ = await run(
        world, admin, "feed test", {"community": ANIME_REALM, "channel": world.admin_hidden}, world.reviews
    )
    assert f"You can't have me post in <#{world.admin_hidden}>" in hidden and "**View Channel**" in hidden
    assert f"You can't have me post in <#{world.admin_muted}>" in muted and "**Send Messages**" in muted
    assert "**Send Messages**" in here
    assert "**View Channel**" in preview
    for channel in (world.admin_hidden, world.admin_muted):
        assert feeds_in(world, channel) == []
        assert world.fake.messages(channel) == []
    assert_clean(world)


async def test_feed_add_pings_only_roles_the_admin_could_ping(world: World) -> None:
    admin = world.fake.world.admin_id
    quiet, _ = await run(world, admin, "feed add", {"community": ANIME_REALM, "role": world.quiet}, world.reviews)
    assert f"You can't ping <@&{world.quiet}> yourself" in quiet and "Mention @everyone" in quiet
    assert feeds_in(world, world.reviews) == []
    pingable, _ = await run(world, admin, "feed add", {"community": ANIME_REALM, "role": world.pingable}, world.reviews)
    assert "Feed added" in pingable
    assert feeds_in(world, world.reviews) == [(ANIME_REALM, world.pingable)]
    # A member who has Mention Everyone may pick a role that is not mentionable.
    herald, _ = await run(
        world, world.herald, "feed add", {"community": ANIME_REALM, "role": world.quiet}, world.reviews
    )
    assert "Feed updated" in herald
    assert feeds_in(world, world.reviews) == [(ANIME_REALM, world.quiet)]
    assert_clean(world)


# -- item 11: /status -----------------------------------------------------------------------------


async def test_status_shows_the_node_by_scheme_and_host_only(world: World) -> None:
    shown, _ = await run(world, world.fake.world.member_id, "status", {}, world.reviews)
    assert world.node_origin in shown
    for secret in SECRETS:
        assert secret not in shown.replace(world.node_origin, ""), secret
    assert_clean(world)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:secret@node.example:8443/rpc?key=abc#frag", "https://node.example:8443"),
        ("https://API.hive.blog:443/", "https://api.hive.blog"),
        ("http://[::1]:8090/?apikey=1", "http://[::1]:8090"),
        ("http://user@host", "http://host"),
        ("http://host:99999/x?key=1", "(a node URL that does not parse)"),
    ],
)
async def test_node_label_keeps_only_scheme_host_and_a_non_default_port(url: str, shown: str) -> None:
    assert node_label(url) == shown


# -- item 12: /feed list --------------------------------------------------------------------------


def buttons(message: StoredMessage) -> dict[str, dict[str, Any]]:
    return {item.get("label", ""): item for row in message.components for item in row["components"]}


async def test_feed_list_of_many_feeds_and_curators_fits_discord(world: World) -> None:
    admin = world.fake.world.admin_id
    for channel in world.listed:
        added, _ = await run(
            world,
            admin,
            "feed add",
            {"community": ANIME_REALM, "channel": channel, "votes": "curators", "curators": ", ".join(CURATORS)},
            world.reviews,
        )
        assert "Feed added" in added, added
    total = db_rows(world.db, "SELECT count(*) FROM feeds WHERE guild_id = ?", world.fake.world.guild_id)[0][0]
    assert total >= LISTED_FEEDS

    handle: InteractionHandle = await world.fake.send_interaction(
        world.fake.world.guild_id, world.reviews, admin, "feed list", {}
    )
    body = await handle.response(timeout=10)
    assert body["type"] == 4 and body["data"]["flags"] & EPHEMERAL, body
    pages = [(await handle.wait_original()).embeds]
    message = await handle.wait_original()
    while not buttons(message)["›"].get("disabled"):
        seen = len(pages)
        turned = await handle.click(buttons(message)["›"]["custom_id"], user_id=admin)
        assert (await turned.response(timeout=10))["type"] == 7
        message = await handle.wait_original(lambda m: m.embeds != pages[-1])
        pages.append(message.embeds)
        assert len(pages) == seen + 1 <= total
    assert len(pages) > 1
    fields = [field for embeds in pages for embed in embeds for field in embed["fields"]]
    assert len(fields) == total
    text = json.dumps(fields)
    for channel in world.listed:
        assert text.count(f"<#{channel}>") == 1
    assert text.count("+45 more") == LISTED_FEEDS  # five curators shown of fifty
    assert_clean(world)  # every page passed the fake's checks (embed limits, 6000 characters a message)


# -- item 9: an alert never lands where its subscriber may not send --------------------------------


@pytest_asyncio.fixture(loop_scope="module")
async def alerts(tmp_path: Path) -> AsyncIterator[tuple[FakeDiscord, FakeHiveNode, Path]]:
    async with seeded_world(tmp_path, channels=()) as made:
        yield made.fake, made.node, made.config


async def test_a_mention_alert_never_lands_where_the_subscriber_may_not_send(
    alerts: tuple[FakeDiscord, FakeHiveNode, Path], tmp_path: Path
) -> None:
    fake, node, config = alerts
    state, w = fake.state, fake.world
    muted = state.add_user("muted").id
    allowed = state.add_user("allowed").id
    for user in (muted, allowed):
        state.add_member(w.guild_id, user)
        fake.close_dms(user)  # so each alert falls back to a mention in the feed channel
    reviews = state.add_text_channel(
        w.guild_id, "reviews", overwrites=[Overwrite(muted, 1, deny=perms.SEND_MESSAGES)]
    ).id
    db = tmp_path / "hivecord.sqlite3"
    bot = BotProcess(config, fake)
    await bot.start()
    try:
        options = {"community": ANIME_REALM, "channel": reviews, "votes": "off", "badges": False}
        handle = await fake.send_interaction(w.guild_id, w.general_id, w.admin_id, "feed add", options)
        await handle.response(timeout=10)
        await handle.wait_followups(1, timeout=15)
        for user in (muted, allowed):
            # Both subscribe from #general, where both may write; only the feed channel differs.
            handle = await fake.send_interaction(
                w.guild_id, w.general_id, user, "subscribe", {"series": "Metallic Rouge"}
            )
            assert "You now follow" in json.dumps((await handle.response(timeout=10))["data"])
        node.head = SEED_LAST + 5

        def mentions(user: int) -> list[StoredMessage]:
            return [m for m in fake.messages(reviews) if f"<@{user}>" in (m.content or "")]

        def dropped() -> list[tuple[Any, ...]]:
            # The alert's DM job is dropped for closed DMs; the one that matters is its mention in the channel.
            sql = "SELECT last_error FROM jobs WHERE action = 'alert' AND user_id = ? AND channel_id = ?"
            return db_rows(db, sql + " AND state = 'dropped'", muted, reviews)

        # Both alerts settle: a mention for the member who may write there; a recorded drop (or, wrongly, a
        # mention) for the other.
        await fake.wait_for(lambda: mentions(allowed) and (dropped() or mentions(muted)), timeout=60)
    finally:
        assert await bot.stop() == 0, bot.log
    assert mentions(muted) == []
    ((reason,),) = dropped()
    assert "may not read and send" in reason
    assert fake.find_requests("GET", "/guilds/{guild_id}/members/{user_id}")
    assert not fake.violations, fake.violations
