"""The bot on PostgreSQL when the database goes down and comes back (an upgrade, a failover): it keeps
running, and what the chain brings before, during and after is mirrored once, in order. Its own server,
so the suite's is never stopped under other tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.bot_harness import BotProcess, bot_config, comment_block
from tests.helpers import ANIME_REALM, SEED_FIRST, SEED_LAST
from tests.pg import Server, binaries, missing
from tests.world import World

pytestmark = pytest.mark.slow


@pytest.fixture
def world_options() -> dict[str, Any]:
    return {"vops": False}


@pytest.fixture
def own_server() -> Iterator[Server]:
    found = binaries()
    if found is None:
        pytest.skip(f"no PostgreSQL binaries: {missing()}")
    server = Server(found)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def titles(world: World) -> list[str]:
    return [m.embeds[0].get("title", "") for m in world.fake.messages(world.reviews) if m.embeds]


async def test_a_database_restart_loses_nothing_and_sends_nothing_twice(world: World, own_server: Server) -> None:
    url = f"postgresql://postgres@127.0.0.1:{own_server.port}/postgres"
    config = bot_config(world.folder, world.node.url, world.fake, start_block=SEED_FIRST, db=url)
    bot = BotProcess(config, world.fake)
    await bot.start()
    try:
        fake = world.fake
        options = {"community": ANIME_REALM, "channel": world.reviews, "votes": "off", "badges": False}
        guild, admin = fake.world.guild_id, fake.world.admin_id
        await (await fake.send_interaction(guild, world.reviews, admin, "feed add", options)).response(timeout=30)
        world.node.head = SEED_LAST + 5
        await fake.wait_for(lambda: len(titles(world)) >= 1, timeout=60)
        # Ten reviews; answers come back slowly, so sends are in hand when the database goes: their
        # jobs cannot be marked sent, nor their failure recorded, until it is back.
        fake.answer_delay = 0.2
        first = SEED_LAST + 10
        reviews = [comment_block("author", f"r-{i}", f"Restart review {i:02d}", "B.", "{}") for i in range(10)]
        world.node.add_blocks({first + i: block for i, block in enumerate(reviews)})
        world.node.head = first + 15
        wanted = [f"Restart review {i:02d}" for i in range(10)]
        await fake.wait_for(lambda: len([t for t in titles(world) if t.startswith("Restart review")]) >= 2, timeout=60)
        own_server.pause()  # every connection of the bot's pool and its coordination ends here
        # Down until the bot has seen it so: its claims lost (senders stopped) and a reconnect refused.
        await fake.wait_for(lambda: "cannot reach the database to coordinate" in bot.log, timeout=60)
        own_server.resume()
        await fake.wait_for(lambda: [t for t in titles(world) if t.startswith("Restart review")] == wanted, timeout=90)
        assert bot.proc is not None and bot.proc.returncode is None, bot.log
        # A command after the restart is answered too.
        handle = await fake.send_interaction(fake.world.guild_id, world.reviews, fake.world.member_id, "status", {})
        assert (await handle.response(timeout=30))["type"] == 4
    finally:
        assert await bot.stop() == 0, bot.log
    assert len(titles(world)) == 1 + 10, titles(world)  # the seed review and the ten, each once
    assert not world.fake.violations
