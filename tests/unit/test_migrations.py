"""Schema migrations keep what a running bot already holds.

SQLite only: these build a SQLite file at an old `user_version` and migrate it; PostgreSQL's migrations
are checked against SQLite's schema in test_pg_schema.py."""

import sqlite3
from pathlib import Path

from bot.store.db import Database, search_text
from bot.store.migrate import migrations
from bot.store.posts import PostTables


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


_POSTS = [
    # (id, community, title, body, deleted)
    (1, "hive-1", "Metallic Rouge review", "machines on mars, a machine city", 0),
    (2, "hive-1", "Frieren", "a journey; the machinery of grief", 0),
    (3, "hive-2", "Mars", "machines and more machines and machinists", 0),
    (4, "hive-1", "Deleted", "machines everywhere", 1),
    (5, "hive-1", "Quiet", "nothing about robots here 🤖machines", 0),
]


def _posts_at(path: Path, version: int) -> None:
    _database_at(path, version)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.create_function("search_text", 1, search_text, deterministic=True)
    for post_id, community, title, body, deleted in _POSTS:
        conn.execute(
            "INSERT INTO posts (id, author, permlink, community, title, body, json_metadata, tags, created_block,"
            " created_at, updated_block, updated_at, deleted)"
            " VALUES (?, 'a', ?, ?, ?, ?, '{}', '[]', 1, 't', 1, 't', ?)",
            (post_id, f"p{post_id}", community, title, body, deleted),
        )
    conn.close()


async def test_search_speed_migration_keeps_every_search_answer(tmp_path: Path) -> None:
    """The full-text index rebuilt with prefix indexes (009) finds what the old one found, in order."""
    asked = [
        ('"machines"', {}),
        ('"machin"*', {}),
        ('"mars" "machines"', {}),
        ('"machines"', {"community": "hive-1"}),
        ('"machines"', {"newest_first": True}),
        ('"machin"*', {"window": 2}),
        ('"machi"*', {"window": 1}),
        (None, {"community": "hive-1"}),
    ]
    before: list[tuple[list[int], bool]] = []
    _posts_at(tmp_path / "v8.sqlite", 8)
    # The answers of the version 8 index, as the old code read them: newest `window` matches, then
    # bm25 order (title 10, series 6, tags 3, body 1), ties to the newer post.
    conn = sqlite3.connect(tmp_path / "v8.sqlite")
    for query, options in asked:
        window = int(options.get("window", 1000))
        community = options.get("community")
        if query is None:
            rows = conn.execute(
                "SELECT id, 0 FROM posts WHERE deleted = 0 AND community = ? ORDER BY id DESC LIMIT ?",
                (community, window + 1),
            ).fetchall()
        else:
            rows = conn.execute(
                "SELECT posts_fts.rowid, bm25(posts_fts, 10.0, 6.0, 3.0, 1.0) FROM posts_fts CROSS JOIN posts p"
                " ON p.id = posts_fts.rowid WHERE posts_fts MATCH ? AND p.deleted = 0 AND p.community LIKE ?"
                " ORDER BY posts_fts.rowid DESC LIMIT ?",
                (query, community or "%", window + 1),
            ).fetchall()
        more, rows = len(rows) > window, rows[:window]
        if query is not None and not options.get("newest_first"):
            rows.sort(key=lambda row: (row[1], -row[0]))
        before.append(([row[0] for row in rows], more))
    conn.close()
    # The fixture means what it says: live posts holding the word (not "machinery"), ranked.
    assert sorted(before[0][0]) == [1, 3, 5] and before[0][0] != sorted(before[0][0], reverse=True)

    db = await Database.open(tmp_path / "v8.sqlite")  # migrates to the latest version
    try:
        posts = PostTables(db)
        after = [await posts.search_ids(query, **options) for query, options in asked]  # type: ignore[arg-type]
        assert after == before
        # The live check reads the covering index, never the post rows.
        plan = await (
            await db.reader.execute(
                "EXPLAIN QUERY PLAN SELECT 1 FROM posts_fts CROSS JOIN posts p INDEXED BY posts_search"
                " ON p.id = posts_fts.rowid WHERE posts_fts MATCH 'mars' AND p.deleted = 0"
            )
        ).fetchall()
        assert any("COVERING INDEX posts_search" in str(tuple(r)) for r in plan), [tuple(r) for r in plan]
        # New posts are indexed by the recreated triggers.
        async with db.write() as w:
            await w.execute(
                "INSERT INTO posts (id, author, permlink, community, title, body, json_metadata, tags,"
                " created_block, created_at, updated_block, updated_at) VALUES"
                " (6, 'a', 'p6', 'hive-1', 'Machinists', 'x', '{}', '[]', 1, 't', 1, 't')"
            )
        assert (await posts.search_ids('"machinist"*'))[0] == [6, 3]
    finally:
        await db.close()
