"""`hivecord migrate --to postgresql://` on a deployment that ran: the seed and 1,000 generated reviews
ingested by the real follower, a feed with its mirrors, done jobs and one job killed mid-send, then the
real `hivecord run` on the PostgreSQL copy: it resumes from the same block and sends nothing again."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.bot_harness import BotProcess, bot_config, db_rows, delivery_settled
from tests.fakes.chain_gen import generate_chain
from tests.fakes.chain_gen.truth import community_info
from tests.helpers import ANIME_REALM, SEED_FIRST, SEED_LAST, hivecord
from tests.runtime_harness import add_feed, new_post
from tests.world import World, seeded_world

asyncpg = pytest.importorskip("asyncpg", reason="PostgreSQL tests need asyncpg: pip install -e '.[test]'")

from bot.store.postgres.copy import SQLITE_ONLY  # noqa: E402  (after the skip)

OTHER = "hive-100001"  # followed, in no feed: its 1,000 reviews are stored, never sent
REVIEWS = 1000
GENERATED_FIRST = SEED_LAST + 30

def on_postgres(config: Path, url: str) -> Path:
    """A copy of the SQLite run's config naming the PostgreSQL database instead (path and url are exclusive)."""
    moved = config.with_name("config-pg.toml")
    lines = [line for line in config.read_text().splitlines() if not line.startswith("path =")]
    moved.write_text("\n".join(lines).replace("[database]", f"[database]\nurl = {json.dumps(url)}", 1) + "\n")
    return moved


async def pg_settled(url: str, through_block: int) -> bool:
    """tests.bot_harness.delivery_settled, on PostgreSQL."""
    conn = await asyncpg.connect(url)
    try:
        cursor = await conn.fetchval("SELECT value FROM meta WHERE key = 'cursor'")
        alerts = await conn.fetchval("SELECT value FROM meta WHERE key = 'alerts_cursor'")
        last = await conn.fetchval("SELECT coalesce(max(id), 0) FROM outbox")
        behind = await conn.fetchval("SELECT count(*) FROM feeds WHERE outbox_cursor < $1", last)
        pending = await conn.fetchval("SELECT count(*) FROM jobs WHERE state = 'pending'")
    finally:
        await conn.close()
    return (
        (cursor is not None and int(cursor) >= through_block and alerts is not None and int(alerts) >= last)
        and behind == 0
        and pending == 0
    )


async def pg_rows(url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


async def wait_settled(check: Any, ceiling: float = 120) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ceiling
    while not await check():
        assert loop.time() < deadline, f"delivery did not settle within {ceiling} s"
        await asyncio.sleep(0.05)


@dataclass
class Migrated:
    world: World
    url: str
    stdout: str
    cursor: int
    killed: dict[str, Any]  # the send the SQLite bot was killed in: its nonce and the message Discord made
    messages: list[int]  # #reviews' message ids when the SQLite bot died
    sqlite_counts: dict[str, int]
    jobs: list[tuple[Any, ...]]


def sqlite_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            n: conn.execute(f"SELECT count(*) FROM {n}").fetchone()[0]
            for n in names
            if n not in SQLITE_ONLY and not n.startswith("sqlite_")
        }


@pytest.fixture
async def migrated(tmp_path: Path, pg_url: str) -> AsyncIterator[Migrated]:
    async with seeded_world(tmp_path, channels=("reviews",), start_discord=False, write_config=False) as world:
        fake, node = world.fake, world.node
        await fake.start()
        node.communities[OTHER] = community_info(OTHER)
        config = bot_config(
            tmp_path, node.url, fake, start_block=SEED_FIRST, hive={"communities": [ANIME_REALM, OTHER]}
        )
        world.config = config
        chain = generate_chain(GENERATED_FIRST, 1700, community=OTHER, review_every=1, seed=20)
        last = chain.reviews[REVIEWS - 1].created_block  # exactly 1,000 reviews: the chain cut after the last
        assert len(chain.reviews) >= REVIEWS

        bot = BotProcess(config, fake)
        await bot.start()
        try:
            await add_feed(world)  # before the seed is on the node: the seed is mirrored
            node.head = SEED_LAST + 20
            await wait_settled(lambda: asyncio.to_thread(delivery_settled, world.db, SEED_LAST))
            node.add_blocks(
                {n: b for n, b in chain.blocks.items() if n <= last},
                vops={n: v for n, v in chain.vops.items() if n <= last},
            )
            node.head = last + 20
            await wait_settled(lambda: asyncio.to_thread(delivery_settled, world.db, last))
            # One more review in the feed; the bot dies as Discord records its message, before the answer.
            sends = len(fake.requests)
            new_post(world, node.head + 5, "killed-mid-send")
            posted = await bot.kill_at(
                lambda: any(
                    r.method == "POST" and r.path == f"/channels/{world.reviews}/messages"
                    for r in fake.requests[sends:]
                ),
                unless=lambda: False,
            )
            assert posted
        finally:
            if bot.proc is not None and bot.proc.returncode is None:
                await bot.stop()
        (killed,) = [
            r for r in fake.requests[sends:] if r.method == "POST" and r.path == f"/channels/{world.reviews}/messages"
        ]
        cursor = int(db_rows(world.db, "SELECT value FROM meta WHERE key = 'cursor'")[0][0])
        assert db_rows(world.db, "SELECT count(*) FROM jobs WHERE state = 'pending'")[0][0] == 1
        counts = sqlite_counts(world.db)
        jobs = db_rows(world.db, "SELECT id, state, message_id FROM jobs ORDER BY id")
        messages = [m.id for m in fake.messages(world.reviews)]

        done = await asyncio.to_thread(hivecord, "migrate", "--to", pg_url, "--config", str(config))
        assert done.returncode == 0, done.stdout + done.stderr
        print(done.stdout)
        yield Migrated(
            world,
            pg_url,
            done.stdout,
            cursor,
            {"nonce": killed.json["nonce"], "id": killed.answer["id"]},
            messages,
            counts,
            jobs,
        )


async def test_migrate_copies_every_table_and_the_bot_resumes_on_postgresql_sending_nothing_again(
    migrated: Migrated,
) -> None:
    world, url, fake = migrated.world, migrated.url, migrated.world.fake
    counts = migrated.sqlite_counts
    assert counts["posts"] >= 1 + REVIEWS + 1 and counts["mirrors"] == 1 and counts["feeds"] == 1
    filled = {t for t, n in counts.items() if n}
    assert {"votes", "badges", "replies", "outbox", "jobs", "meta", "community_roles"} <= filled

    # Printed table by table: every SQLite table but the FTS index, each count equal on both sides.
    printed = {m[1]: (int(m[2]), int(m[3])) for m in re.finditer(r"^(\w+)\s+(\d+)\s+(\d+)$", migrated.stdout, re.M)}
    assert printed == {t: (n, n) for t, n in counts.items()}
    for table, n in counts.items():
        assert (await pg_rows(url, f"SELECT count(*) FROM {table}"))[0][0] == n, table
    with sqlite3.connect(world.db) as conn:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    assert dict(await pg_rows(url, "SELECT key, value FROM meta")) == meta  # cursor, nonce_salt, planners'
    assert await pg_rows(url, "SELECT id, state, message_id FROM jobs ORDER BY id") == migrated.jobs
    found = await pg_rows(
        url,
        "SELECT author FROM posts WHERE search @@ websearch_to_tsquery('simple', 'mars machines metallic rouge')",
    )
    assert ("alienpunklord",) in found  # the seed, found by the search column the copy's posts rebuilt

    ((outbox_top, posts_top),) = await pg_rows(url, "SELECT (SELECT max(id) FROM outbox), (SELECT max(id) FROM posts)")
    bot = BotProcess(on_postgres(world.config, url), fake)
    await bot.start()
    try:
        # The killed job is sent again with its nonce (the copied salt and id): Discord answers with the
        # message it made, so #reviews holds what it held.
        await wait_settled(lambda: pg_settled(url, migrated.cursor))
        assert [m.id for m in fake.messages(world.reviews)] == migrated.messages
        (pending,) = [j[0] for j in migrated.jobs if j[1] == "pending"]
        (job,) = await pg_rows(url, "SELECT state, message_id FROM jobs WHERE id = $1", pending)
        assert job == ("done", int(migrated.killed["id"]))
        resent = [
            r for r in fake.requests if isinstance(r.json, dict) and r.json.get("nonce") == migrated.killed["nonce"]
        ]
        assert len(resent) == 2 and resent[1].answer["id"] == migrated.killed["id"]

        # A new review after the restart: read from the block after the cursor, mirrored once, with ids
        # the copy's identities hand out past the copied ones.
        new_post(world, world.node.head + 5, "after-the-move")
        await wait_settled(lambda: pg_settled(url, world.node.head - 5))
        await fake.wait_for(lambda: len(fake.messages(world.reviews)) == len(migrated.messages) + 1, timeout=60)
    finally:
        code = await bot.stop()
    assert code == 0, bot.log
    assert "Traceback" not in bot.log and " ERROR " not in bot.log, bot.log
    # No block at or below the cursor read again: nothing new came of one (delivery prunes the old outbox).
    again = await pg_rows(
        url,
        "SELECT (SELECT count(*) FROM outbox WHERE block_num <= $1 AND id > $2),"
        " (SELECT count(*) FROM posts WHERE updated_block <= $1 AND id > $3)",
        migrated.cursor,
        outbox_top,
        posts_top,
    )
    assert again == [(0, 0)]
    messages = fake.messages(world.reviews)
    assert [m.id for m in messages[:-1]] == migrated.messages
    assert "after-the-move" in str(messages[-1].embeds)
    ((made, top),) = await pg_rows(
        url,
        "SELECT max(id) FILTER (WHERE permlink = 'after-the-move'),"
        " max(id) FILTER (WHERE permlink != 'after-the-move') FROM posts",
    )
    assert made > top
