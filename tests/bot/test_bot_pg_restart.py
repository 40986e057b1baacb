"""The bot on PostgreSQL when the database restarts (an upgrade, a failover): it keeps running, and what the
chain brings during and after the restart is mirrored once, in order. Its own server, so the suite's is never
restarted under other tests."""

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
        own_server.restart()  # every connection of the bot's pool and its coordination ends here
        first = SEED_LAST + 10
        after = [comment_block("author", f"after-{i}", f"After the restart {i}", "B.", "{}") for i in range(5)]
        world.node.add_blocks({first + i: block for i, block in enumerate(after)})
        world.node.head = first + 10
        wanted = [f"After the restart {i}" for i in range(5)]
        await fake.wait_for(lambda: [t for t in titles(world) if t.startswith("After")] == wanted, timeout=90)
        assert bot.proc is not None and bot.proc.returncode is None, bot.log
        # A command after the restart is answered too.
        handle = await fake.send_interaction(fake.world.guild_id, world.reviews, fake.world.member_id, "status", {})
        assert (await handle.response(timeout=30))["type"] == 4
    finally:
        assert await bot.stop() == 0, bot.log
    assert len(titles(world)) == 1 + 5, titles(world)  # the seed review and the five, each once
    assert not world.fake.violations
