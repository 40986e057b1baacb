"""The loopback fake Discord, driven by the real discord.py client (no mocks in between)."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import discord
import pytest
from discord import app_commands

from tests.fakes.discord import FakeDiscord, OpenApiSpec, permissions, point_discord_py_at
from tests.fakes.discord.validate import discord_errors, message_limit_errors

TOKEN = "fake-token-for-tests"


@dataclass
class Bot:
    """A small real bot: a discord.Client with a CommandTree, pointed at the fake."""

    fake: FakeDiscord
    client: discord.Client
    tree: app_commands.CommandTree[discord.Client]
    task: asyncio.Task[None]
    seen: list[Any] = field(default_factory=list)

    @property
    def general(self) -> discord.TextChannel:
        channel = self.client.get_channel(self.fake.world.general_id)
        assert isinstance(channel, discord.TextChannel)
        return channel


class Pager(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=30)
        self.page = 1

    @discord.ui.button(label="Next", custom_id="pager:next")
    async def next_page(self, interaction: discord.Interaction, button: discord.ui.Button[Pager]) -> None:
        self.page += 1
        await interaction.response.edit_message(content=f"page {self.page}", view=self)


class NoteModal(discord.ui.Modal, title="Note"):
    text: discord.ui.TextInput[NoteModal] = discord.ui.TextInput(label="Text", custom_id="note:text")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"noted: {self.text.value}", ephemeral=True)


def build_tree(tree: app_commands.CommandTree[discord.Client], seen: list[Any]) -> None:
    feed = app_commands.Group(
        name="feed", description="Feeds", default_permissions=discord.Permissions(manage_guild=True)
    )
    rules = app_commands.Group(name="rules", description="Feed rules", parent=feed)

    @feed.command(name="add", description="Follow a community")
    @app_commands.describe(community="hive-xxxxxx", channel="Where to post", limit="Posts per hour")
    async def feed_add(
        interaction: discord.Interaction, community: str, channel: discord.TextChannel, limit: int = 5
    ) -> None:
        seen.append((community, channel, limit, interaction.permissions.manage_guild))
        await interaction.response.send_message(f"following {community} in {channel.mention} ({limit}/h)")

    @feed_add.autocomplete("community")
    async def community_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        count = 30 if current == "too-many" else 3
        return [app_commands.Choice(name=f"hive-{i:06d}", value=f"hive-{i:06d}") for i in range(count)]

    @rules.command(name="mute", description="Mute a tag")
    async def rules_mute(interaction: discord.Interaction, tag: str, who: discord.Member | None = None) -> None:
        seen.append((tag, who))
        await interaction.response.defer(thinking=True)
        await interaction.followup.send(f"muted {tag}")
        original = await interaction.original_response()
        await interaction.edit_original_response(content=original.content + " (edited)")

    tree.add_command(feed)

    @tree.command(name="pages", description="A paged answer")
    async def pages(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("page 1", view=Pager())

    @tree.command(name="note", description="Opens a modal")
    async def note(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(NoteModal())

    @tree.command(name="slow", description="Answers too late")
    async def slow(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.3)
        try:
            await interaction.response.send_message("late")
        except discord.NotFound as exc:
            seen.append(exc.code)

    @tree.command(name="embed", description="Answers with an embed")
    async def embed(interaction: discord.Interaction, size: int) -> None:
        try:
            await interaction.response.send_message(embed=discord.Embed(title="x" * size))
        except discord.HTTPException as exc:
            seen.append(exc.code)


async def start_bot(fake: FakeDiscord, token: str = TOKEN) -> Bot:
    intents = discord.Intents.none()
    intents.guilds = True
    client = discord.Client(intents=intents, guild_ready_timeout=0.05)
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)
    seen: list[Any] = []
    build_tree(tree, seen)
    ready = asyncio.Event()
    client.event(_setter(ready))
    task = asyncio.create_task(client.start(token))
    waiter = asyncio.create_task(ready.wait())
    done, _ = await asyncio.wait({task, waiter}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if waiter not in done:
        waiter.cancel()
        await client.close()  # a failed login leaves discord.py's HTTP session open otherwise
        if task.done():
            task.result()  # re-raise the login/connect error
        task.cancel()
        raise AssertionError("on_ready did not fire")
    return Bot(fake, client, tree, task, seen)


def _setter(event: asyncio.Event) -> Any:
    async def on_ready() -> None:
        event.set()

    return on_ready


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(token=TOKEN) as server:
        with point_discord_py_at(server.url):
            yield server
        assert not server.internal_errors, server.internal_errors


@pytest.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[Bot]:
    running = await start_bot(fake)
    await running.tree.sync()
    yield running
    await running.client.close()
    await running.task


def assert_clean(fake: FakeDiscord) -> None:
    assert not fake.violations, [str(v) for v in fake.violations]
    assert not fake.unknown_requests, [r.key for r in fake.unknown_requests]


# -- login, gateway, cache ------------------------------------------------------------------------


async def test_login_ready_and_guild_cache(bot: Bot) -> None:
    fake, client, world = bot.fake, bot.client, bot.fake.world
    assert client.user is not None and client.user.id == world.bot_id
    assert client.application_id == world.application_id
    guild = client.get_guild(world.guild_id)
    assert guild is not None and guild.me is not None
    assert {c.name for c in guild.channels} == {"general", "bot-cannot-view", "bot-cannot-send", "bot-cannot-embed"}
    me = guild.me
    assert bot.general.permissions_for(me).send_messages
    no_view = guild.get_channel(world.no_view_id)
    no_embed = guild.get_channel(world.no_embed_id)
    assert isinstance(no_view, discord.TextChannel) and isinstance(no_embed, discord.TextChannel)
    assert not no_view.permissions_for(me).view_channel
    assert not no_embed.permissions_for(me).embed_links and no_embed.permissions_for(me).send_messages

    assert [r.key for r in fake.requests[:2]] == ["GET /users/@me", "GET /oauth2/applications/@me"]
    assert fake.gateway.identifies[0]["intents"] == discord.Intents(guilds=True).value
    # discord.py asks for zlib-stream (zstd-stream if `zstandard` is installed) and gets it.
    assert fake.gateway.connections[0].query["compress"] in ("zlib-stream", "zstd-stream")
    assert fake.gateway.connections[0].path == "/"
    assert_clean(fake)


async def test_sync_registers_commands(bot: Bot) -> None:
    fake = bot.fake
    put = fake.find_requests("PUT", "/applications/{application_id}/commands")
    assert len(put) == 1 and put[0].status == 200
    names = {c["name"] for c in fake.state.commands[None]}
    assert names == {"feed", "pages", "note", "slow", "embed"}
    feed = fake.state.find_command("feed", None)[0]
    assert feed["default_member_permissions"] == str(permissions.MANAGE_GUILD)
    assert {o["name"] for o in feed["options"]} == {"add", "rules"}
    # A second sync keeps ids, as Discord does for unchanged names.
    before = {c["name"]: c["id"] for c in fake.state.commands[None]}
    fetched = await bot.tree.sync()
    assert {c.name: str(c.id) for c in fetched} == before
    assert_clean(fake)


async def test_bad_token_is_login_failure(fake: FakeDiscord) -> None:
    with pytest.raises(discord.LoginFailure):
        await start_bot(fake, token="not-the-token")
    assert fake.requests[0].status == 401
    assert fake.requests[0].answer == {"message": "401: Unauthorized", "code": 0}


async def test_gateway_reconnect_resumes_at_resume_url(bot: Bot) -> None:
    fake = bot.fake
    resumed = asyncio.Event()
    bot.client.event(_named("on_resumed", resumed))
    await fake.gateway.reconnect_all()
    await asyncio.wait_for(resumed.wait(), 30)
    last = fake.gateway.connections[-1]
    assert last.path == "/resume" and last.resumed
    assert len(fake.gateway.identifies) == 1
    # Dispatches keep flowing on the resumed session.
    handle = await fake.send_interaction(fake.world.guild_id, fake.world.general_id, fake.world.member_id, "pages")
    assert (await handle.response())["type"] == 4


async def test_dropped_socket_resumes_and_replays_missed_events(bot: Bot) -> None:
    fake, world = bot.fake, bot.fake.world
    await fake.gateway.drop_all()
    # Sent while the bot is away: the session buffers it and RESUME replays it.
    handle = await fake.send_interaction(world.guild_id, world.general_id, world.member_id, "pages")
    assert (await handle.response())["type"] == 4
    assert fake.gateway.connections[-1].resumed


async def test_guild_sync_and_dm_command(bot: Bot) -> None:
    fake, world = bot.fake, bot.fake.world
    guild = discord.Object(id=world.guild_id)
    bot.tree.copy_global_to(guild=guild)
    await bot.tree.sync(guild=guild)
    assert {c["name"] for c in fake.state.commands[world.guild_id]} == {"feed", "pages", "note", "slow", "embed"}
    handle = await fake.send_interaction(world.guild_id, world.general_id, world.member_id, "pages")
    await handle.response()
    assert handle.payload["data"]["guild_id"] == str(world.guild_id)
    assert handle.payload["data"]["id"] == fake.state.find_command("pages", world.guild_id)[0]["id"]

    dm = fake.state.dm_channel_for(world.member_id)
    in_dm = await fake.send_interaction(None, dm.id, world.member_id, "pages")
    assert (await in_dm.response())["data"]["content"] == "page 1"
    assert [m.content for m in fake.messages(dm.id)] == ["page 1"]
    assert_clean(fake)


def _named(name: str, event: asyncio.Event) -> Any:
    async def handler(*_: Any) -> None:
        event.set()

    handler.__name__ = name
    return handler


async def test_gateway_frames_are_zlib_stream_compressed(fake: FakeDiscord) -> None:
    # Read what the fake sends with a bare websocket, as discord.py's inflater does.
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(fake.gateway_url + "?v=10&compress=zlib-stream") as ws,
    ):
        inflater = zlib.decompressobj()
        frame = await ws.receive_bytes()
        assert frame.endswith(b"\x00\x00\xff\xff")
        assert b'"heartbeat_interval"' in inflater.decompress(frame)


# -- slash commands, components, modals, autocomplete -------------------------------------------


async def test_slash_command_with_subcommand_and_options(bot: Bot) -> None:
    fake, world = bot.fake, bot.fake.world
    handle = await fake.send_interaction(
        world.guild_id,
        world.general_id,
        world.admin_id,
        "feed add",
        {"community": "hive-158489", "channel": world.general_id, "limit": 3},
    )
    body = await handle.response()
    assert body["type"] == 4
    assert body["data"]["content"] == f"following hive-158489 in <#{world.general_id}> (3/h)"
    community, channel, limit, can_manage = bot.seen[0]
    assert (community, limit, can_manage) == ("hive-158489", 3, True)
    # Annotated as TextChannel, discord.py hands over its cached channel for the resolved id.
    assert isinstance(channel, discord.TextChannel) and channel.id == world.general_id
    original = handle.original
    assert original is not None and original.content.startswith("following") and original.type == 20
    assert fake.messages(world.general_id)[-1].id == original.id
    assert handle.payload["data"]["id"] == fake.state.find_command("feed", None)[0]["id"]
    assert_clean(fake)


async def test_plain_member_lacks_manage_guild_in_payload(bot: Bot) -> None:
    fake, world = bot.fake, bot.fake.world
    handle = await fake.send_interaction(
        world.guild_id, world.general_id, world.member_id, "feed add", {"community": "x", "channel": world.general_id}
    )
    await handle.response()
    assert bot.seen[0][3] is False
    assert int(handle.payload["member"]["permissions"]) & permissions.MANAGE_GUILD == 0


async def test_defer_then_followup_replaces_thinking_message(bot: Bot) -> None:
    fake, world = bot.fake, bot.fake.world
    handle = await fake.send_interaction(
        world.guild_id, world.general_id, world.member_id, "feed rules mute", {"tag": "nsfw", "who": world.admin_id}
    )
    assert (await handle.response())["type"] == 5
    followups = await handle.wait_followups(1)
    edited = await handle.wait_original(lambda m: m.content == "muted nsfw (edited)")
    assert edited.id == followups[0].id and edited.history[-1]["content"] == "muted nsfw"
    assert [
        r.method for r in fake.find_requests(route="/webhooks/{webhook_id}/{webhook_token}/messages/@original")
    ] == [
        "GET",
        "PATCH",
    ]
    tag, who = bot.seen[0]
    assert tag == "nsfw" and isinstance(who, discord.Member) and who.id == world.admin_id
    assert_clean(fake)


async def test_button_click_updates_message(bot: Bot) -> None:
    fake, world = bot.fake, bot.fake.world
    handle = await fake.send_interaction(world.guild_id, world.general_id, world.member_id, "pages")
    await handle.response()
    first = await handle.wait_original()
    assert first.components[0]["components"][0]["custom_id"] == "pager:next"
    click = await handle.click("pager:next")
    answer = await click.response()
    assert answer["type"] == 7 and answer["data"]["content"] == "page 2"
    assert fake.state.messages[first.id].content == "page 2"
    assert fake.state.messages[first.id].history[0]["content"] == "page 1"
    click = await handle.click("pager:next")
    assert (await click.response())["data"]["content"] == "page 3"
    assert_clean(fake)


async def test_modal_round_trip(bot: Bot) -> None:
    fake, world = bot.fake, bot.fake.world
    handle = await fake.send_interaction(world.guild_id, world.general_id, world.member_id, "note")
    assert (await handle.response())["type"] == 9
    submitted = await handle.submit_modal({"note:text": "hello"})
    answer = await submitted.response()
    assert answer["data"]["content"] == "noted: hello" and answer["data"]["flags"] & 64
    assert submitted.original is not None and submitted.original.ephemeral
    assert submitted.original not in fake.messages(world.general_id)
    assert_clean(fake)


async def test_autocomplete_and_its_limits(bot: Bot) -> None:
    fake, world = bot.fake, bot.fake.world
    handle = await fake.send_autocomplete(
        world.guild_id, world.general_id, world.member_id, "feed add", {"community": "hive"}, focused="community"
    )
    body = await handle.response()
    assert body["type"] == 8 and len(body["data"]["choices"]) == 3
    assert handle.payload["data"]["options"][0]["options"][0]["focused"] is True
    assert_clean(fake)

    too_many = await fake.send_autocomplete(
        world.guild_id, world.general_id, world.member_id, "feed add", {"community": "too-many"}, focused="community"
    )
    await fake.wait_for(lambda: fake.violations)
    assert too_many.callback is None
    assert fake.violations[0].errors[0].path == ("data", "choices")


async def test_interaction_answered_too_late(fake: FakeDiscord) -> None:
    fake.interaction_deadline = 0.1
    running = await start_bot(fake)
    await running.tree.sync()
    try:
        await fake.send_interaction(fake.world.guild_id, fake.world.general_id, fake.world.member_id, "slow")
        await fake.wait_for(lambda: running.seen)
        assert running.seen == [10062]
    finally:
        await running.client.close()
        await running.task


async def test_overlong_embed_in_interaction_answer(bot: Bot) -> None:
    fake, world = bot.fake, bot.fake.world
    await fake.send_interaction(world.guild_id, world.general_id, world.member_id, "embed", {"size": 300})
    await fake.wait_for(lambda: bot.seen)
    assert bot.seen == [50035]
    assert fake.violations[0].errors[0].path == ("data", "embeds", 0, "title")


# -- messages -------------------------------------------------------------------------------------


async def test_send_embed_is_stored_and_valid(bot: Bot) -> None:
    fake = bot.fake
    embed = discord.Embed(title="A review", description="Good anime", url="https://peakd.com/@a/b")
    embed.add_field(name="Score", value="9/10").set_footer(text="hive-158489")
    sent = await bot.general.send("new post", embed=embed)
    stored = fake.messages(fake.world.general_id)[-1]
    assert stored.id == sent.id and stored.content == "new post"
    assert stored.embeds[0]["title"] == "A review" and stored.embeds[0]["fields"][0]["value"] == "9/10"
    request = fake.find_requests("POST", "/channels/{channel_id}/messages")[-1]
    assert request.headers["Authorization"] == f"Bot {TOKEN}"
    assert request.json["embeds"][0]["footer"]["text"] == "hive-158489"
    edited = await sent.edit(content="edited post")
    assert edited.edited_at is not None and stored.history[0]["content"] == "new post"
    await sent.delete()
    assert fake.messages(fake.world.general_id) == []
    assert_clean(fake)


async def test_overlong_embed_and_content_are_rejected(bot: Bot) -> None:
    fake = bot.fake
    with pytest.raises(discord.HTTPException) as info:
        await bot.general.send(embed=discord.Embed(title="t" * 257))
    assert info.value.status == 400 and info.value.code == 50035
    assert info.value.text == "Invalid Form Body\nIn embeds.0.title: Must be 256 or fewer in length."
    with pytest.raises(discord.HTTPException):
        await bot.general.send("x" * 2001)
    with pytest.raises(discord.HTTPException):
        big = [discord.Embed(description="d" * 4000), discord.Embed(description="d" * 2001)]
        await bot.general.send(embeds=big)
    assert [v.errors[0].code for v in fake.violations] == [
        "BASE_TYPE_MAX_LENGTH",
        "BASE_TYPE_MAX_LENGTH",
        "MAX_EMBED_SIZE_EXCEEDED",
    ]
    assert fake.messages(fake.world.general_id) == []


async def test_enforce_nonce_dedupes(bot: Bot) -> None:
    fake = bot.fake
    first = await bot.general.send("once", nonce="post-42")
    again = await bot.general.send("once", nonce="post-42")
    other = await bot.general.send("twice", nonce="post-43")
    assert first.id == again.id != other.id
    assert [m.content for m in fake.messages(fake.world.general_id)] == ["once", "twice"]


async def test_multipart_upload_validated_from_payload_json(bot: Bot) -> None:
    import io

    fake = bot.fake
    sent = await bot.general.send("with file", file=discord.File(io.BytesIO(b"abc"), filename="a.txt"))
    stored = fake.message_by_id(sent.id)
    assert stored.attachments[0]["filename"] == "a.txt" and stored.attachments[0]["size"] == 3
    request = fake.find_requests("POST", "/channels/{channel_id}/messages")[-1]
    assert request.files == ["a.txt"] and request.json["content"] == "with file"
    with pytest.raises(discord.HTTPException):
        await bot.general.send("y" * 2001, file=discord.File(io.BytesIO(b"abc"), filename="b.txt"))
    assert len(fake.violations) == 1


async def test_channel_permissions_are_enforced(bot: Bot) -> None:
    fake, world = bot.fake, bot.fake.world
    no_view = fake.state.channels[world.no_view_id]
    with pytest.raises(discord.Forbidden) as info:
        await bot.client.http.send_message(no_view.id, params=_text("hi"))
    assert info.value.code == 50001
    with pytest.raises(discord.Forbidden) as info:
        await bot.client.http.send_message(world.no_send_id, params=_text("hi"))
    assert info.value.code == 50013
    # Without Embed Links the message goes through and the embeds are dropped.
    channel = bot.client.get_channel(world.no_embed_id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("text", embed=discord.Embed(title="lost"))
    assert sent.embeds == [] and fake.message_by_id(sent.id).embeds_dropped
    assert_clean(fake)


def _text(content: str) -> Any:
    from discord.http import handle_message_parameters

    return handle_message_parameters(content=content)


# -- injected faults --------------------------------------------------------------------------------


async def test_injected_403_and_404(bot: Bot) -> None:
    fake = bot.fake
    fake.fail_channel(fake.world.general_id, status=403, times=1)
    with pytest.raises(discord.Forbidden) as forbidden:
        await bot.general.send("x")
    assert forbidden.value.code == 50013
    fake.fail_channel(fake.world.general_id, status=404)
    with pytest.raises(discord.NotFound) as not_found:
        await bot.general.send("x")
    assert not_found.value.code == 10003
    fake.clear_faults()
    await bot.general.send("x")


async def test_injected_429_is_waited_out(bot: Bot) -> None:
    fake = bot.fake
    fake.fail_channel(fake.world.general_id, status=429, times=1, retry_after=0.05)
    await bot.general.send("after a 429")
    statuses = [r.status for r in fake.find_requests("POST", "/channels/{channel_id}/messages")]
    assert statuses == [429, 200] and fake.count_429 == 1
    assert fake.requests[-2].answer["retry_after"] == 0.05


async def test_429_without_via_looks_like_a_cloudflare_ban(bot: Bot) -> None:
    fake = bot.fake
    fake.fail_channel(fake.world.general_id, status=429, times=1, via=False)
    with pytest.raises(discord.HTTPException) as info:
        await bot.general.send("x")
    assert info.value.status == 429


async def test_5xx(bot: Bot) -> None:
    fake = bot.fake
    fake.fail_route("/channels/{channel_id}/messages", status=503, method="POST", times=1)
    with pytest.raises(discord.DiscordServerError):
        await bot.general.send("x")
    # discord.py retries a 500 once after a 1 s pause.
    fake.fail_route("/channels/{channel_id}/messages", status=500, method="POST", times=1)
    await bot.general.send("after a 500")
    assert [r.status for r in fake.find_requests("POST", "/channels/{channel_id}/messages")] == [503, 500, 200]


async def test_closed_dms_are_forbidden_50007(bot: Bot) -> None:
    fake = bot.fake
    user = await bot.client.fetch_user(fake.world.member_id)
    await user.send("welcome")
    fake.close_dms(fake.world.member_id)
    with pytest.raises(discord.Forbidden) as info:
        await user.send("again")
    assert info.value.code == 50007
    dm = fake.state.dm_channels[fake.world.member_id]
    assert [m.content for m in fake.messages(dm)] == ["welcome"]
    fake.fail_user(fake.world.admin_id, 403, 50007, times=1)
    admin = await bot.client.fetch_user(fake.world.admin_id)
    with pytest.raises(discord.Forbidden) as info:
        await admin.send("hello")  # opening the DM channel is refused
    assert info.value.code == 50007
    await admin.send("hello")
    assert_clean(fake)


async def test_global_rate_limit_is_enforced_and_waited_out() -> None:
    limited = FakeDiscord(token=TOKEN, global_rate_limit=5)
    async with limited:
        with point_discord_py_at(limited.url):
            running = await start_bot(limited)
            try:
                channel = running.general
                sent = await asyncio.gather(*(channel.send(f"m{i}") for i in range(8)))
                assert len({m.id for m in sent}) == 8
                assert limited.count_429 >= 1
                global_429 = [r for r in limited.requests if r.status == 429]
                assert all(r.answer["global"] is True for r in global_429)
            finally:
                await running.client.close()
                await running.task


async def test_route_buckets_are_honoured_by_discord_py() -> None:
    limits = {"POST /channels/{channel_id}/messages": (2, 0.3)}
    async with FakeDiscord(token=TOKEN, route_limits=limits) as limited:
        with point_discord_py_at(limited.url):
            running = await start_bot(limited)
            try:
                started = asyncio.get_running_loop().time()
                for i in range(5):
                    await running.general.send(f"m{i}")
                elapsed = asyncio.get_running_loop().time() - started
                # Remaining hit 0 twice, so discord.py waited out the bucket twice instead of eating 429s.
                assert limited.count_429 == 0 and elapsed >= 0.4
                posts = limited.find_requests("POST", "/channels/{channel_id}/messages")
                assert [p.status for p in posts] == [200] * 5
            finally:
                await running.client.close()
                await running.task


async def test_rate_limit_headers_on_every_answer(bot: Bot) -> None:
    fake = bot.fake
    import aiohttp

    async with aiohttp.ClientSession() as session:
        url = f"{fake.url}/api/v10/channels/{fake.world.general_id}"
        async with session.get(url, headers={"Authorization": f"Bot {TOKEN}"}) as response:
            assert response.headers["Content-Type"] == "application/json"
            assert {
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset-After",
                "X-RateLimit-Bucket",
            } <= set(response.headers)


async def test_unknown_route_is_recorded(bot: Bot) -> None:
    fake = bot.fake
    with pytest.raises(discord.NotFound):
        [m async for m in bot.general.pins()]
    assert [r.route for r in fake.unknown_requests] == ["/channels/{channel_id}/messages/pins"]
    assert fake.unknown_requests[0].answer == {"message": "404: Not Found", "code": 0}


# -- the validator on its own -----------------------------------------------------------------------


def test_spec_matching_prefers_literal_segments() -> None:
    spec = OpenApiSpec.load()
    assert spec.match("/webhooks/1/tok/messages/@original") == (
        "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
        {"webhook_id": "1", "webhook_token": "tok"},
    )
    assert spec.match("/users/@me/channels") == ("/users/@me/channels", {})
    assert spec.match("/nope") is None


def test_union_errors_point_at_the_field() -> None:
    spec = OpenApiSpec.load()
    callback = "/interactions/{interaction_id}/{interaction_token}/callback"
    errors = spec.request_errors(callback, "POST", {"type": 4, "data": {"embeds": [{"title": "t" * 300}]}})
    assert [e.path for e in errors] == [("data", "embeds", 0, "title")]
    assert discord_errors(errors) == {
        "data": {
            "embeds": {
                "0": {
                    "title": {
                        "_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 256 or fewer in length."}]
                    }
                }
            }
        }
    }
    assert spec.request_errors(callback, "POST", {"type": 5}) == []
    assert [e.path for e in spec.request_errors(callback, "POST", {"type": 99})] == [("type",)]


def test_embed_totals() -> None:
    fields = [{"name": "n" * 256, "value": "v" * 1024} for _ in range(5)]
    assert [e.code for e in message_limit_errors({"embeds": [{"fields": fields}]})] == ["MAX_EMBED_SIZE_EXCEEDED"]
    assert message_limit_errors({"content": "c" * 2000, "embeds": [{"title": "t" * 256}]}) == []
