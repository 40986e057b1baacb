"""Schema migrations keep what a running bot already holds."""

import sqlite3
from pathlib import Path

from bot.store.db import Database, search_text
from bot.store.migrate import migrations


def _database_at(path: Path, version: int) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.create_function("search_text", 1, search_text, deterministic=True)
    for number, _name, sql in migrations()[:version]:
        conn.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;")
    conn.executescript(
        """
        INSERT INTO feeds (id, guild_id, channel_id, community, outbox_cursor, created_by, created_at)
            VALUES (1, 10, 20, 'hive-158489', 0, 30, '2026-01-01T00:00:00+00:00');
        INSERT INTO outbox (id, kind, community, block_num, at) VALUES (7, 'vote', 'hive-158489', 5, 't');
        INSERT INTO jobs (id, channel_id, feed_id, action, state, finished_at) VALUES (3, 20, 1, 'badge', 'done', 1.5);
        INSERT INTO jobs (id, channel_id, feed_id, action) VALUES (4, 20, 1, 'preview');
        """
    )
    conn.close()


async def test_feed_options_migration_keeps_jobs_outbox_and_feeds(tmp_path: Path) -> None:
    path = tmp_path / "v4.sqlite"
    _database_at(path, 4)
    db = await Database.open(path)
    try:
        rows = await (await db.reader.execute("SELECT id, action, state, finished_at FROM jobs ORDER BY id")).fetchall()
        assert [tuple(r) for r in rows] == [(3, "badge", "done", 1.5), (4, "preview", "pending", None)]
        outbox = await (await db.reader.execute("SELECT id, kind FROM outbox")).fetchall()
        assert [tuple(r) for r in outbox] == [(7, "vote")]
        feed = await (await db.reader.execute("SELECT threads, mute, mention_authors FROM feeds")).fetchone()
        assert tuple(feed) == ("off", "[]", 1)
        # The pending-jobs index survived the rebuild: the planner's reads depend on it.
        plan = await (
            await db.reader.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM jobs WHERE state = 'pending' AND channel_id = 20"
            )
        ).fetchall()
        assert any("jobs_pending" in str(tuple(r)) for r in plan)
    finally:
        await db.close()


async def test_threads_mode_is_checked(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "new.sqlite")
    try:
        async with db.write() as conn:
            await conn.execute(
                "INSERT INTO feeds (guild_id, channel_id, community, outbox_cursor, created_by, created_at)"
                " VALUES (1, 2, 'hive-1', 0, 3, 't')"
            )
        try:
            async with db.write() as conn:
                await conn.execute("UPDATE feeds SET threads = 'sometimes'")
        except sqlite3.IntegrityError:
            pass
        else:
            raise AssertionError("a thread mode outside off/on/forum was stored")
    finally:
        await db.close()
