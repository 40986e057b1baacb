"""The shared world of the bot tests: the seed chain on a loopback Hive node and a fake Discord guild."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bot_harness import ANIME_REALM_INFO, ANIME_REALM_ROLES, TOKEN, BotProcess, bot_config, db_rows
from tests.fakes.chain_gen import build_vote_vops
from tests.fakes.discord import FakeDiscord
from tests.fakes.hive import FakeHiveNode, load_seed_fixture
from tests.helpers import ANIME_REALM, SEED, SEED_FIRST, SEED_LAST

DB_NAME = "hivecord.sqlite3"


@dataclass
class World:
    """One test's Hive node, fake Discord and bot folder; ``config`` is unset when the world was made without one."""

    fake: FakeDiscord
    node: FakeHiveNode
    folder: Path
    config: Path
    reviews: int
    second: int
    expected_body: str
    next_block: int = SEED_LAST + 10

    @property
    def db(self) -> Path:
        return self.folder / DB_NAME

    def dms(self, user_id: int) -> list[Any]:
        channel = self.fake.state.dm_channels.get(user_id)
        return self.fake.messages(channel) if channel is not None else []


def seed_node(*, head: int = SEED_FIRST, vops: bool = True) -> tuple[FakeHiveNode, str]:
    """The seed chain on a fake node (not started) with the anime realm's community; also the seed body."""
    blocks, expected_body = load_seed_fixture(SEED)
    extra: dict[str, Any] = {"vops": build_vote_vops(blocks)} if vops else {}
    roles = {ANIME_REALM: [list(row) for row in ANIME_REALM_ROLES]}
    node = FakeHiveNode(blocks, head=head, communities={ANIME_REALM: ANIME_REALM_INFO}, community_roles=roles, **extra)
    return node, expected_body


@asynccontextmanager
async def seeded_world(
    folder: Path,
    *,
    vops: bool = True,
    channels: tuple[str, ...] = ("reviews", "second"),
    start_discord: bool = True,
    write_config: bool = True,
    **delivery: Any,
) -> AsyncIterator[World]:
    """The node serving the seed from its first block, a guild with ``channels`` and, unless told not to,
    a started fake Discord and a bot config (``delivery`` settings passed on)."""
    node, expected_body = seed_node(vops=vops)
    hive_url = node.start_in_thread()
    fake = FakeDiscord(token=TOKEN)
    ids = [fake.state.add_text_channel(fake.world.guild_id, name).id for name in channels]
    ids += [0] * (2 - len(ids))
    try:
        if start_discord:
            await fake.start()
        config = bot_config(folder, hive_url, fake, start_block=SEED_FIRST, **delivery) if write_config else Path()
        yield World(fake, node, folder, config, ids[0], ids[1], expected_body)
    finally:
        await fake.stop()
        node.stop_thread()


def post_count(db: Path) -> int:
    try:
        return int(db_rows(db, "SELECT count(*) FROM posts")[0][0])
    except sqlite3.OperationalError:
        return 0  # the schema is not there yet


@asynccontextmanager
async def running_bot(
    config: Path, fake: FakeDiscord, *, env: dict[str, str] | None = None
) -> AsyncIterator[BotProcess]:
    """One `hivecord run` for a whole module; it must stop cleanly, with no traceback in its log."""
    bot = BotProcess(config, fake, env=env)
    await bot.start()
    try:
        yield bot
    finally:
        code = await bot.stop()
    assert code == 0, bot.log
    assert "Traceback" not in bot.log, bot.log
