"""/feed add for conversations: forum channels, `threads:on`, muted accounts, thread permissions named.

The real `hivecord run` against the fake Discord (which has forums and thread permissions) and
the fake Hive node; one bot process serves the module.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.bot_harness import TOKEN, BotProcess, bot_config, db_rows
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord import permissions as perms
from tests.fakes.discord.permissions import Overwrite
from tests.helpers import ANIME_REALM, SEED_FIRST
from tests.world import running_bot, seed_node

pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass
class World:
    fake: FakeDiscord
    bot: BotProcess
    db: Path
    text: int  # a text channel where the bot may do everything
    forum: int  # a forum with a "Metallic Rouge" tag
    media: int  # a media channel (type 16), a kind of forum
    no_create: int  # the bot's role may not create public threads here
    forum_no_reply: int  # a forum where the bot's role may not send messages in threads
    forum_no_post: int  # a forum where the bot's role may not send messages (create posts)
    forum_no_history: int  # a forum where the bot's role may not read message history


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    tmp_path = tmp_path_factory.mktemp("feed-threads")
    node, _ = seed_node(head=SEED_FIRST)
    hive_url = node.start_in_thread()
    fake = FakeDiscord(token=TOKEN)
    state, w = fake.state, fake.world

    def deny(bits: int) -> list[Overwrite]:
        return [Overwrite(w.bot_role_id, 0, deny=bits)]

    text = state.add_text_channel(w.guild_id, "reviews").id
    forum = state.add_forum_channel(w.guild_id, "review-forum", tags=["Metallic Rouge", "Frieren"]).id
    media = state.add_forum_channel(w.guild_id, "clips", media=True).id
    no_create = state.add_text_channel(w.guild_id, "no-threads", overwrites=deny(perms.CREATE_PUBLIC_THREADS)).id
    no_reply = state.add_forum_channel(w.guild_id, "mute-forum", overwrites=deny(perms.SEND_MESSAGES_IN_THREADS)).id
    no_post = state.add_forum_channel(w.guild_id, "closed-forum", overwrites=deny(perms.SEND_MESSAGES)).id
    no_history = state.add_forum_channel(w.guild_id, "blind-forum", overwrites=deny(perms.READ_MESSAGE_HISTORY)).id
    await fake.start()
    config = bot_config(tmp_path, hive_url, fake, start_block=SEED_FIRST)
    try:
        async with running_bot(config, fake) as bot:
            await fake.wait_for(lambda: any(c["name"] == "feed" for c in fake.state.commands.get(None, [])), 60)
            yield World(
                fake, bot, tmp_path / "hivecord.sqlite3", text, forum, media, no_create, no_reply, no_post, no_history
            )
    finally:
        await fake.stop()
        node.stop_thread()


async def feed_add(world: World, channel: int, **options: Any) -> str:
    """Runs /feed add as the admin (from the text channel); returns what the admin was shown, as JSON text."""
    fake = world.fake
    handle = await fake.send_interaction(
        fake.world.guild_id,
        world.text,
        fake.world.admin_id,
        "feed add",
        {"community": ANIME_REALM, "channel": channel, **options},
    )
    first = await handle.response(timeout=30)
    if first["type"] == 5:
        (answer,) = await handle.wait_followups(1, timeout=30)
        return json.dumps(answer.embeds)
    return json.dumps(first["data"])


def feed_row(world: World, channel: int) -> tuple[Any, ...] | None:
    rows = db_rows(world.db, "SELECT threads, mute FROM feeds WHERE channel_id = ?", channel)
    return tuple(rows[0]) if rows else None


def assert_clean(world: World) -> None:
    assert not world.fake.violations, [str(v) for v in world.fake.violations]
    assert not world.fake.unknown_requests


async def test_a_forum_is_a_feed_target_and_its_feed_makes_forum_posts(world: World) -> None:
    answer = await feed_add(world, world.forum)
    assert "Feed added" in answer and "threads forum posts" in answer, answer
    assert feed_row(world, world.forum) == ("forum", "[]")
    # Even when asked for no threads: a forum holds nothing but posts.
    media = await feed_add(world, world.media, threads="off")
    assert "Feed added" in media, media
    assert feed_row(world, world.media) == ("forum", "[]")
    # discord.py offers forums and media channels for the option, as Discord documents.
    (command,) = [c for c in world.fake.state.commands[None] if c["name"] == "feed"]
    add = next(o for o in command["options"] if o["name"] == "add")
    channel_option = next(o for o in add["options"] if o["name"] == "channel")
    assert {0, 15, 16} <= set(channel_option["channel_types"])
    assert_clean(world)


async def test_threads_on_is_stored_for_a_text_channel(world: World) -> None:
    answer = await feed_add(world, world.text, threads="on")
    assert "threads on" in answer, answer
    assert feed_row(world, world.text) == ("on", "[]")
    again = await feed_add(world, world.text)  # the default turns them off again
    assert "threads off" in again and feed_row(world, world.text) == ("off", "[]")


async def test_mute_stores_account_names_and_refuses_a_bad_one(world: World) -> None:
    answer = await feed_add(world, world.forum, mute="Hive.Welcome, @spammer01")
    assert "muted: hive.welcome, spammer01" in answer, answer
    assert feed_row(world, world.forum) == ("forum", json.dumps(["hive.welcome", "spammer01"]))
    refused = await feed_add(world, world.forum, mute="hive.welcome, <@&123> everyone")
    assert "is not a Hive account name" in refused and "Feed updated" not in refused, refused
    assert feed_row(world, world.forum) == ("forum", json.dumps(["hive.welcome", "spammer01"]))  # unchanged


async def test_missing_thread_permissions_are_named(world: World) -> None:
    no_create = await feed_add(world, world.no_create, threads="on")
    assert "Create Public Threads" in no_create and "Send Messages in Threads" not in no_create, no_create
    assert feed_row(world, world.no_create) is None
    # Without threads the same channel is fine.
    assert "Feed added" in await feed_add(world, world.no_create)
    no_reply = await feed_add(world, world.forum_no_reply)
    assert "I'm missing **Send Messages in Threads**" in no_reply, no_reply
    no_post = await feed_add(world, world.forum_no_post)
    assert "Send Messages" in no_post and "Send Messages in Threads" not in no_post, no_post
    assert feed_row(world, world.forum_no_reply) is None and feed_row(world, world.forum_no_post) is None
    # A forum post made as the bot stopped is found again by reading the forum's posts.
    no_history = await feed_add(world, world.forum_no_history)
    assert "I'm missing **Read Message History**" in no_history, no_history
    assert feed_row(world, world.forum_no_history) is None


async def test_feed_list_shows_thread_mode_and_mutes(world: World) -> None:
    await feed_add(world, world.forum, mute="hive.welcome")
    fake = world.fake
    handle = await fake.send_interaction(fake.world.guild_id, world.text, fake.world.admin_id, "feed list")
    first = await handle.response(timeout=30)
    shown = json.dumps(first["data"])
    assert "threads forum posts" in shown and "muted: hive.welcome" in shown, shown
