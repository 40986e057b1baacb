"""Threads and forums in the fake Discord, driven by the real discord.py client (and raw HTTP for
bodies discord.py would not send)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest

from tests.fakes.discord import FakeDiscord, FakeDiscordState, permissions, point_discord_py_at
from tests.fakes_tests.test_fake_discord import TOKEN, Bot, assert_clean, start_bot

TAGS = ["Metallic Rouge", "Frieren", "Review", "Mecha", "Drama", "Comedy"]


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    state = FakeDiscordState()
    world = state.seed_default_world()
    state.add_forum_channel(world.guild_id, "reviews", tags=TAGS, moderated=("Drama",))
    async with FakeDiscord(token=TOKEN, state=state) as server:
        with point_discord_py_at(server.url):
            yield server
        assert not server.internal_errors, server.internal_errors


@pytest.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[Bot]:
    running = await start_bot(fake)
    yield running
    await running.client.close()
    await running.task


def forum_of(bot: Bot) -> discord.ForumChannel:
    forum = next(c for c in bot.client.get_all_channels() if c.name == "reviews")
    assert isinstance(forum, discord.ForumChannel)
    return forum


async def raw(fake: FakeDiscord, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        url = f"{fake.url}/api/v10{path}"
        async with session.request(method, url, json=body, headers={"Authorization": f"Bot {TOKEN}"}) as response:
            return response.status, await response.json() if response.status != 204 else None


async def test_forum_with_tags_arrives_in_guild_create(bot: Bot) -> None:
    forum = forum_of(bot)
    assert forum.type == discord.ChannelType.forum
    assert [t.name for t in forum.available_tags] == TAGS
    assert forum.get_tag(bot.fake.tag_id(forum.id, "Drama")).moderated  # type: ignore[union-attr]
    media = await bot.fake.add_forum_channel(bot.fake.world.guild_id, "clips", tags=["Clip"], media=True)
    seen = await bot.fake.wait_for(lambda: bot.client.get_channel(media.id))
    assert isinstance(seen, discord.ForumChannel) and seen.type == discord.ChannelType.media


async def test_forum_post_has_the_starter_message_and_tags(bot: Bot) -> None:
    fake, forum = bot.fake, forum_of(bot)
    tag = forum.get_tag(fake.tag_id(forum.id, "Metallic Rouge"))
    assert tag is not None
    created = await forum.create_thread(
        name="Metallic Rouge, episode 1",
        embed=discord.Embed(title="A review"),
        applied_tags=[tag],
        auto_archive_duration=10080,
        allowed_mentions=discord.AllowedMentions.none(),
    )
    thread, message = created.thread, created.message
    assert thread.id == message.id and thread.parent_id == forum.id
    assert thread.type == discord.ChannelType.public_thread and thread.auto_archive_duration == 10080
    assert [t.name for t in thread.applied_tags] == ["Metallic Rouge"]
    assert fake.starter_message(thread.id).embeds[0]["title"] == "A review"
    # THREAD_CREATE reached the client's cache.
    assert await fake.wait_for(lambda: forum.guild.get_thread(thread.id))
    in_thread = await thread.send("a reply")
    assert [m.content for m in fake.messages(thread.id)] == ["", "a reply"] and in_thread.channel.id == thread.id
    active = await forum.guild.active_threads()
    assert [t.id for t in active] == [thread.id]
    assert_clean(fake)


async def test_forum_post_bodies_are_checked(bot: Bot) -> None:
    fake, forum_id = bot.fake, forum_of(bot).id
    all_tags = [str(fake.tag_id(forum_id, t)) for t in TAGS]
    bad = {
        "name too long": {"name": "n" * 101, "message": {"content": "x"}},
        "six tags": {"name": "n", "message": {"content": "x"}, "applied_tags": all_tags},
        "odd archive duration": {"name": "n", "message": {"content": "x"}, "auto_archive_duration": 30},
        "unknown tag": {"name": "n", "message": {"content": "x"}, "applied_tags": ["123"]},
        "no starter message": {"name": "n"},
        "long content": {"name": "n", "message": {"content": "c" * 2001}},
    }
    for why, body in bad.items():
        status, answer = await raw(fake, "POST", f"/channels/{forum_id}/threads", body)
        assert (status, answer["code"]) == (400, 50035), why
    assert len(fake.violations) == len(bad) and fake.threads(forum_id) == []
    status, answer = await raw(fake, "POST", f"/channels/{forum_id}/messages", {"content": "x"})
    assert (status, answer["code"]) == (400, 50008)
    moderated = {"name": "n", "message": {"content": "x"}, "applied_tags": [str(fake.tag_id(forum_id, "Drama"))]}
    status, answer = await raw(fake, "POST", f"/channels/{forum_id}/threads", moderated)
    assert (status, answer["code"]) == (403, 50013)


async def test_thread_on_a_message_takes_its_id_once(bot: Bot) -> None:
    fake = bot.fake
    message = await bot.general.send("a mirrored review")
    thread = await message.create_thread(name="A review", auto_archive_duration=10080)
    assert thread.id == message.id and thread.parent_id == bot.general.id
    assert fake.threads(bot.general.id)[0].id == message.id
    fetched = await bot.general.fetch_message(message.id)
    assert fetched.thread is not None and fetched.thread.id == thread.id
    with pytest.raises(discord.HTTPException) as again:
        await message.create_thread(name="again")
    assert (again.value.status, again.value.code) == (400, 160004)
    request = fake.find_requests("POST", "/channels/{channel_id}/messages/{message_id}/threads")[0]
    assert request.json["name"] == "A review" and request.json["auto_archive_duration"] == 10080
    assert_clean(fake)


async def test_archived_locked_and_deleted_threads(bot: Bot) -> None:
    fake = bot.fake
    first = await (await bot.general.send("one")).create_thread(name="one")
    sent = await first.send("before")
    await fake.archive_thread(first.id)
    # A send reopens an archived thread; an edit does not.
    with pytest.raises(discord.HTTPException) as archived:
        await sent.edit(content="edited while archived")
    assert (archived.value.status, archived.value.code) == (400, 50083)
    await first.send("reopens it")
    assert not fake.state.channels[first.id].archived
    assert await fake.wait_for(lambda: not first.archived or None)  # THREAD_UPDATE reached the cache
    await sent.edit(content="edited")
    await fake.lock_thread(first.id)
    with pytest.raises(discord.HTTPException) as locked:
        await first.send("refused")
    assert (locked.value.status, locked.value.code) == (400, 50083)
    await fake.lock_thread(first.id, archived=False)
    with pytest.raises(discord.Forbidden):
        await first.send("refused too")
    await fake.delete_thread(first.id)
    with pytest.raises(discord.NotFound) as gone:
        await bot.client.http.send_message(first.id, params=_text("gone"))
    assert gone.value.code == 10003
    assert [m.content for m in fake.messages(first.id)] == ["edited", "reopens it"]


async def test_archived_threads_are_listed_newest_first(bot: Bot) -> None:
    fake, forum = bot.fake, forum_of(bot)
    posts = [(await forum.create_thread(name=f"post {i}", content="x")).thread for i in range(3)]
    await fake.archive_thread(posts[0].id)
    await fake.archive_thread(posts[2].id)
    archived = [t async for t in forum.archived_threads()]
    assert [t.id for t in archived] == [posts[2].id, posts[0].id]
    assert [t.id for t in await forum.guild.active_threads()] == [posts[1].id]
    assert_clean(fake)


async def test_editing_a_thread_needs_the_right_permissions(bot: Bot) -> None:
    fake = bot.fake
    thread = await (await bot.general.send("two")).create_thread(name="two")
    await thread.edit(archived=True)  # the bot started it, so it may close it
    assert fake.state.channels[thread.id].archived
    with pytest.raises(discord.HTTPException) as archived:
        await thread.edit(name="renamed")
    assert archived.value.code == 50083
    await thread.edit(archived=False)
    with pytest.raises(discord.Forbidden):
        await thread.edit(locked=True)  # locking needs Manage Threads
    await fake.set_overwrite(bot.general.id, fake.world.bot_role_id, allow=permissions.MANAGE_THREADS)
    await thread.edit(locked=True, archived=True)
    assert fake.state.channels[thread.id].locked
    await thread.send("a moderator may still write")
    assert_clean(fake)


async def test_thread_permissions_can_be_denied(bot: Bot) -> None:
    fake, world = bot.fake, bot.fake.world
    message = await bot.general.send("three")
    thread = await message.create_thread(name="three")
    await fake.set_overwrite(world.general_id, world.bot_role_id, deny=permissions.SEND_MESSAGES_IN_THREADS)
    with pytest.raises(discord.Forbidden) as no_send:
        await thread.send("x")
    assert no_send.value.code == 50013
    await bot.general.send("plain messages still go")
    await fake.set_overwrite(world.general_id, world.bot_role_id, deny=permissions.CREATE_PUBLIC_THREADS)
    with pytest.raises(discord.Forbidden):
        await (await bot.general.send("four")).create_thread(name="four")
    forum = forum_of(bot)
    await fake.set_overwrite(forum.id, world.bot_role_id, deny=permissions.SEND_MESSAGES)
    with pytest.raises(discord.Forbidden):
        await forum.create_thread(name="post", content="x")


async def test_thread_creation_has_its_own_rate_limit(bot: Bot) -> None:
    fake = bot.fake
    fake.buckets.thread_create = (1, 60.0)  # one thread creation per channel per minute
    first = await bot.general.send("five")
    second = await bot.general.send("six")
    status, _ = await raw(fake, "POST", f"/channels/{bot.general.id}/messages/{first.id}/threads", {"name": "a"})
    assert status == 201
    # The same bucket covers both thread routes of a channel; messages are not in it.
    path = f"/channels/{bot.general.id}/messages/{second.id}/threads"
    status, answer = await raw(fake, "POST", path, {"name": "b"})
    assert status == 429 and answer["retry_after"] > 0 and answer["global"] is False
    status, answer = await raw(fake, "POST", f"/channels/{bot.general.id}/threads", {"name": "c", "type": 11})
    assert status == 429
    assert (await raw(fake, "GET", f"/channels/{first.id}"))[0] == 200
    await bot.general.send("messages still flow")
    assert [t.id for t in fake.threads(bot.general.id)] == [first.id]


def _text(content: str) -> Any:
    from discord.http import handle_message_parameters

    return handle_message_parameters(content=content)


async def test_enforce_nonce_in_a_thread_returns_the_first_message_as_discord_does(bot: Bot) -> None:
    """With enforce_nonce, a send repeating a recent nonce of the same author gets that message back (200),
    whatever the new body says, and nothing new is made; without enforce_nonce the nonce is only echoed; past
    the window it is forgotten. discord.py sends enforce_nonce with every nonce."""
    fake = bot.fake
    post = (await forum_of(bot).create_thread(name="replies", content="the review")).thread
    path = f"/channels/{post.id}/messages"
    status, first = await raw(fake, "POST", path, {"content": "the copy", "nonce": "hr1", "enforce_nonce": True})
    again_status, again = await raw(
        fake, "POST", path, {"embeds": [{"title": "the mirror"}], "nonce": "hr1", "enforce_nonce": True}
    )
    assert status == again_status == 200
    assert again["id"] == first["id"] and again["content"] == "the copy" and again["embeds"] == []
    _, loose = await raw(fake, "POST", path, {"content": "not enforced", "nonce": "hr1"})
    assert loose["id"] != first["id"] and loose["nonce"] == "hr1"
    window, fake.nonce_window = fake.nonce_window, -1.0  # every message so far is past the window
    try:
        _, late = await raw(fake, "POST", path, {"content": "late", "nonce": "hr1", "enforce_nonce": True})
    finally:
        fake.nonce_window = window
    assert late["id"] not in (first["id"], loose["id"])
    sent = await post.send("through discord.py", nonce="hr2")
    resent = await post.send("a second time", nonce="hr2")
    assert sent.id == resent.id and resent.content == "through discord.py"
    sends = [r for r in fake.requests if r.method == "POST" and r.path == path and r.json.get("nonce") == "hr2"]
    assert len(sends) == 2 and all(r.json.get("enforce_nonce") is True for r in sends)
    contents = [m.content for m in fake.messages(post.id)]
    assert contents == ["the review", "the copy", "not enforced", "late", "through discord.py"]
    assert_clean(fake)
