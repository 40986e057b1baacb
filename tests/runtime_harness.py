"""A bot run to stop and start again: its config, its log, a feed added, a new post at the node.

Shared by the runtime tests (tests/bot/test_bot_runtime.py) and benchmarks/stop_times.py, which times
the same stops from outside.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.bot_harness import BotProcess, comment_block
from tests.helpers import ANIME_REALM, SEED_FIRST, write_config
from tests.world import World

# A node without votes; the fake Discord is started by each test, which writes its own config.
WORLD_OPTIONS: dict[str, Any] = {"vops": False, "channels": ("reviews",), "start_discord": False, "write_config": False}


def config(world: World, *, retry_max: float = 2.0) -> Path:
    extra = "\n".join(
        [
            "[discord]",
            f"api_base = {json.dumps(world.fake.url + '/api/v10')}",
            f"gateway_url = {json.dumps(world.fake.gateway_url)}",
            f"retry_max_seconds = {retry_max}",
            "",
            "[delivery]",
            "max_messages_per_second = 50.0",
        ]
    )
    return write_config(world.folder, [world.node.url], start_block=SEED_FIRST, extra=extra)


async def log_shows(bot: BotProcess, predicate: Callable[[str], bool], within: float = 60) -> None:
    """Waits until the bot's log satisfies `predicate` (checked as stderr arrives), or fails."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate(bot.log):
        assert bot.proc is not None
        if bot.proc.returncode is not None:
            raise AssertionError(f"the bot exited ({bot.proc.returncode}):\n{bot.log}")
        if loop.time() > deadline:
            raise AssertionError(f"not seen in the log within {within} s:\n{bot.log}")
        await asyncio.sleep(0.05)


def lines(log: str, *needles: str) -> list[str]:
    return [line for line in log.splitlines() if all(n in line for n in needles)]


def new_post(world: World, block: int, permlink: str) -> None:
    world.node.add_blocks({block: comment_block("reviewer", permlink, f"Title {permlink}", "A body.", "{}")})
    world.node.head = block + 5


async def add_feed(world: World) -> None:
    fake = world.fake
    handle = await fake.send_interaction(
        fake.world.guild_id,
        world.reviews,
        fake.world.admin_id,
        "feed add",
        {"community": ANIME_REALM, "channel": world.reviews, "votes": "off", "badges": False},
    )
    await handle.response(timeout=30)
    (answer,) = await handle.wait_followups(1, timeout=30)
    assert "Feed added" in answer.embeds[0]["title"], answer.embeds


async def bot_with_a_feed(world: World) -> None:
    """A first run that syncs the commands and adds a feed for #reviews, then stops."""
    await world.fake.start()
    bot = BotProcess(config(world), world.fake)
    await bot.start()
    try:
        await add_feed(world)
    finally:
        assert await bot.stop() == 0, bot.log
