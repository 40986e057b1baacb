"""`hivecord migrate --to`: its refusals on a real SQLite file and a real PostgreSQL, and its pure parts.

The whole copy of a running deployment, and the bot resuming on it, is tests/ingest/test_pg_migrate.py.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.store.store import Store
from tests.helpers import hivecord, write_config

asyncpg = pytest.importorskip("asyncpg", reason="PostgreSQL tests need asyncpg: pip install -e '.[test]'")

from bot.store.postgres.copy import (  # noqa: E402  (after the skip)
    SQLITE_ONLY,
    MigrateRefused,
    Source,
    Table,
    copy_order,
    migrate_to_postgres,
    plan,
    redact,
    scrub,
)

SECRET = "s3cr%40t"  # trust auth on the test server ignores it; it must never be printed


def with_password(url: str) -> str:
    return url.replace("postgres@", f"postgres:{SECRET}@", 1)


def test_redact_and_scrub_hide_the_password() -> None:
    url = "postgresql://hc:s3cr%40t@db.example:5432/hivecord"
    assert redact(url) == "postgresql://hc:***@db.example:5432/hivecord"
    assert redact("postgresql://hc@db:5432/x") == "postgresql://hc@db:5432/x"
    assert scrub("failed for s3cr@t and s3cr%40t", url) == "failed for *** and ***"


def test_copy_order_puts_parents_first_and_refuses_a_cycle() -> None:
    tables = {
        "jobs": Table("jobs", ("id",), ("int8",), "id", frozenset({"feeds", "posts"})),
        "feeds": Table("feeds", ("id",), ("int8",), "id"),
        "posts": Table("posts", ("id",), ("int8",), "id"),
        "votes": Table("votes", ("post_id",), ("int8",), None, frozenset({"posts"})),
    }
    assert copy_order(tables) == ["feeds", "posts", "jobs", "votes"]
    cycle = {"a": Table("a", (), (), None, frozenset({"b"})), "b": Table("b", (), (), None, frozenset({"a"}))}
    with pytest.raises(MigrateRefused, match="cycle"):
        copy_order(cycle)


def test_a_table_neither_copied_nor_left_out_on_purpose_stops_the_copy() -> None:
    pg = {
        "posts": Table("posts", ("id", "title"), ("int8", "text"), "id"),
        "schema_version": Table("schema_version", ("version",), ("int4",)),
    }
    sqlite = {"posts": ["id", "title"], **{name: ["x"] for name in SQLITE_ONLY}}
    assert [t.name for t in plan(sqlite, pg)] == ["posts"]
    with pytest.raises(MigrateRefused, match="future_table"):
        plan({**sqlite, "future_table": ["id"]}, pg)
    with pytest.raises(MigrateRefused, match="no SQLite source"):
        plan(sqlite, {**pg, "lane_claims": Table("lane_claims", ("lane_id",), ("int8",))})
    with pytest.raises(MigrateRefused, match="title"):
        plan({**sqlite, "posts": ["id"]}, pg)


async def sqlite_store(folder: Path) -> Path:
    """A migrated SQLite file with a cursor and a salt, as a bot leaves it."""
    path = folder / "hivecord.sqlite3"
    store = await Store.open(path)
    await store.db.set_meta("cursor", "101000120")
    await store.db.set_meta("nonce_salt", "abc123")
    await store.close()
    return path


async def tables_of(url: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
    finally:
        await conn.close()
    return {r[0] for r in rows}


def migrate(tmp_path: Path, url: str) -> tuple[int, str, str]:
    config = write_config(tmp_path, ["http://127.0.0.1:9"])
    done = hivecord("migrate", "--to", url, "--config", str(config))
    return done.returncode, done.stdout, done.stderr


async def test_a_target_holding_rows_is_refused_by_name(tmp_path: Path, pg_url: str) -> None:
    await sqlite_store(tmp_path)
    store = await Store.open(pg_url)  # the bot started once on it: a feed added, say
    await store.db.set_meta("cursor", "5")
    await store.close()
    code, out, err = await asyncio.to_thread(migrate, tmp_path, with_password(pg_url))
    assert code == 1, out + err
    assert "already holds hivecord rows (table meta)" in err
    assert "postgres:***@127.0.0.1" in err
    assert SECRET not in out + err and "s3cr@t" not in out + err
    store = await Store.open(pg_url)
    try:
        assert await store.db.get_meta("cursor") == "5"
        assert await store.db.get_meta("nonce_salt") is None
    finally:
        await store.close()


async def test_a_sqlite_file_of_another_schema_version_is_refused(tmp_path: Path, pg_url: str) -> None:
    path = await sqlite_store(tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 12")  # as a file last run by the previous release
    code, out, err = await asyncio.to_thread(migrate, tmp_path, pg_url)
    assert code == 1, out + err
    assert "schema version 12" in err and "start the bot once on this version first" in err
    assert await tables_of(pg_url) == set()


async def test_a_failed_copy_leaves_the_target_empty(tmp_path: Path, pg_url: str) -> None:
    path = await sqlite_store(tmp_path)
    with sqlite3.connect(path) as conn:
        # A vote of a post that is not there: this connection does not enforce foreign keys, PostgreSQL
        # does, so the copy fails at votes, after posts and meta.
        conn.execute(
            "INSERT INTO votes (post_id, voter, weight, block_num, voted_at) VALUES (424242, 'v', 100, 1, 'x')"
        )
    code, out, err = await asyncio.to_thread(migrate, tmp_path, with_password(pg_url))
    assert code == 1, out + err
    assert "copying votes failed" in err
    assert SECRET not in out + err
    assert await tables_of(pg_url) == set()  # not even the schema: one transaction


async def test_a_write_to_sqlite_during_the_copy_rolls_it_back(tmp_path: Path, pg_url: str) -> None:
    path = await sqlite_store(tmp_path)

    def bot_still_running(line: str) -> None:
        # Told as the copy starts: a follower still running on the file stores a block meanwhile.
        if line.startswith("copying"):
            with sqlite3.connect(path) as conn:
                conn.execute("UPDATE meta SET value = '101000121' WHERE key = 'cursor'")

    with pytest.raises(MigrateRefused, match=r"cursor moved from block 101000120 to 101000121.*Stop it"):
        await migrate_to_postgres(path, pg_url, bot_still_running)
    assert await tables_of(pg_url) == set()


async def test_the_snapshot_sees_any_write_not_only_the_cursor(tmp_path: Path) -> None:
    path = await sqlite_store(tmp_path)
    source = Source(path)
    try:
        source.unchanged()
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE meta SET value = 'other' WHERE key = 'nonce_salt'")
        with pytest.raises(MigrateRefused, match="written to during the copy"):
            source.unchanged()
    finally:
        source.close()


async def test_a_small_store_is_copied_with_its_ids_and_the_next_id_past_them(tmp_path: Path, pg_url: str) -> None:
    path = await sqlite_store(tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO badges (id, recipient, badge, image_url, achievement, notice, block_num, awarded_at)"
            " VALUES (41, 'r', 'b', 'https://x', 'a', 'n', 1, '2026-01-01T00:00:00')"
        )
    seen: list[str] = []
    report = await migrate_to_postgres(path, pg_url, seen.append)
    counts = {c.table: (c.sqlite, c.postgresql) for c in report.tables}
    assert counts["meta"] == (2, 2) and counts["badges"] == (1, 1)
    assert any(line.startswith("badges") and line.split()[1:] == ["1", "1"] for line in seen)
    conn = await asyncpg.connect(pg_url)
    try:
        made = await conn.fetchval(
            "INSERT INTO badges (recipient, badge, image_url, achievement, notice, block_num, awarded_at)"
            " VALUES ('r', 'b', 'https://x', 'a', 'n2', 2, '2026-01-01T00:00:01') RETURNING id"
        )
    finally:
        await conn.close()
    assert made == 42
    with pytest.raises(MigrateRefused, match="already holds hivecord rows"):
        await migrate_to_postgres(path, pg_url, seen.append)  # a second run finds the first one's rows
