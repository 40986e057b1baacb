"""PostgreSQL's migrations build SQLite's schema, step by step, and migrate once however many processes start."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from typing import Any

import pytest

from bot.store.db import search_text
from bot.store.migrate import migrations

asyncpg = pytest.importorskip("asyncpg", reason="PostgreSQL tests need asyncpg: pip install -e '.[test]'")

from bot.store.postgres.migrate import MIGRATE_LOCK, known, migrate_postgres  # noqa: E402  (after the skip)

# What only one engine has, by design (docs/postgresql.md, sections 3 and 5): SQLite's FTS5 table and
# its shadow tables, PostgreSQL's version table, its generated `search` column and the GIN index over it.
SQLITE_ONLY_TABLES = {"posts_fts", "posts_fts_data", "posts_fts_idx", "posts_fts_docsize", "posts_fts_config"}
PG_ONLY_TABLES = {"schema_version"}
PG_ONLY_COLUMNS = {("posts", "search")}
PG_ONLY_INDEXES = {"posts_fts"}

# 0/1 flags are SMALLINT; ids, block numbers, Discord snowflakes and anything past 2^31 are BIGINT.
FLAGS = {
    ("posts", "deleted"), ("replies", "deleted"), ("feeds", "posts"), ("feeds", "badges"),
    ("feeds", "mention_authors"), ("mirrors", "stale"), ("dm_closed", "told"), ("threads", "forum"),
    ("notify_prefs", "votes"), ("notify_prefs", "badges"), ("reply_optins", "enabled"),
    ("discord_replies", "own_message"),
}  # fmt: skip
WIDE = re.compile(r"^(id|.*_id|.*_block|block_num|outbox_cursor|created_by|audit_channel|rshares)$")
TYPES = {"TEXT": {"text"}, "REAL": {"double precision"}, "INTEGER": {"bigint", "integer", "smallint"}}


def _default(value: str | None) -> str | None:
    """A column default as both engines spell it: '[]'::text and '[]' alike, 0 and 0.0 alike."""
    if value is None:
        return None
    value = re.sub(r"::[a-z ]+$", "", value.strip("()"))
    try:
        return repr(float(value))
    except ValueError:
        return value


def sqlite_schema(conn: sqlite3.Connection) -> dict[str, Any]:
    tables = [
        r[0]
        for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        if r[0] not in SQLITE_ONLY_TABLES
    ]
    columns, keys, uniques, foreign, indexes = {}, {}, {}, {}, {}
    for table in tables:
        info = conn.execute(f"PRAGMA table_info({table})").fetchall()
        columns[table] = [(c[1], c[2], bool(c[3]), _default(c[4])) for c in info]
        keys[table] = [c[1] for c in sorted(info, key=lambda c: c[5]) if c[5]]
        uniques[table] = sorted(
            tuple(r[2] for r in conn.execute(f"PRAGMA index_info({i[1]})"))
            for i in conn.execute(f"PRAGMA index_list({table})")
            if i[3] == "u"
        )
        foreign[table] = sorted((f[3], f[2], f[4], f[6]) for f in conn.execute(f"PRAGMA foreign_key_list({table})"))
    for name, table, sql in conn.execute("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index'"):
        if sql is None:  # a key's or UNIQUE's own index: compared as constraints above
            continue
        cols = tuple(r[2] for r in conn.execute(f"PRAGMA index_info({name})"))
        where = sql.split(" WHERE ", 1)[1].strip() if " WHERE " in sql else None
        indexes[name] = (table, cols, sql.startswith("CREATE UNIQUE"), where)
    return {"columns": columns, "keys": keys, "uniques": uniques, "foreign": foreign, "indexes": indexes}


async def pg_schema(conn: Any) -> dict[str, Any]:
    rows = await conn.fetch(
        "SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity"
        " FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
    )
    columns: dict[str, list[Any]] = {}
    for r in rows:
        columns.setdefault(r["table_name"], []).append(
            (
                r["column_name"],
                r["data_type"],
                r["is_nullable"] == "NO",
                _default(r["column_default"]),
                r["is_identity"],
            )
        )
    constraints = await conn.fetch(
        "SELECT c.conrelid::regclass::text AS tbl, c.contype::text, c.confdeltype::text,"
        " c.confrelid::regclass::text AS target,"
        " array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, o)"
        "  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o) AS cols,"
        " array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, o)"
        "  JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o) AS fcols"
        " FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public'"
    )
    keys: dict[str, list[str]] = {t: [] for t in columns}
    uniques: dict[str, list[tuple[str, ...]]] = {t: [] for t in columns}
    foreign: dict[str, list[Any]] = {t: [] for t in columns}
    actions = {"a": "NO ACTION", "c": "CASCADE", "n": "SET NULL", "r": "RESTRICT", "d": "SET DEFAULT"}
    for c in constraints:
        if c["contype"] == "p":
            keys[c["tbl"]] = list(c["cols"])
        elif c["contype"] == "u":
            uniques[c["tbl"]].append(tuple(c["cols"]))
        elif c["contype"] == "f":
            foreign[c["tbl"]].append((c["cols"][0], c["target"], c["fcols"][0], actions[c["confdeltype"]]))
    index_rows = await conn.fetch(
        "SELECT i.relname AS name, t.relname AS tbl, x.indisunique AS uniq, pg_get_expr(x.indpred, x.indrelid) AS pred,"
        " array(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(n, o)"
        "  JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n ORDER BY k.o) AS cols"
        " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid"
        " JOIN pg_namespace n ON n.oid = t.relnamespace"
        " WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
    )
    indexes = {r["name"]: (r["tbl"], tuple(r["cols"]), r["uniq"], r["pred"]) for r in index_rows}
    return {
        "columns": columns,
        "keys": keys,
        "uniques": {t: sorted(u) for t, u in uniques.items()},
        "foreign": {t: sorted(f) for t, f in foreign.items()},
        "indexes": indexes,
    }


def _predicate(sql: str | None) -> str | None:
    """A partial index's WHERE as both engines print it: no brackets, casts or case."""
    if sql is None:
        return None
    sql = re.sub(r"::[a-z ]+(\[\])?", "", sql)
    sql = re.sub(r"= any \(array\[(.*?)\]\)", r"in (\1)", sql.lower()).replace("<>", "!=")
    return re.sub(r"[()\s]+", " ", sql).strip()


def assert_same(lite: dict[str, Any], pg: dict[str, Any], step: int) -> None:
    assert set(lite["columns"]) == set(pg["columns"]) - PG_ONLY_TABLES, f"tables after migration {step}"
    for table, lite_columns in lite["columns"].items():
        pg_columns = [c for c in pg["columns"][table] if (table, c[0]) not in PG_ONLY_COLUMNS]
        assert [c[0] for c in lite_columns] == [c[0] for c in pg_columns], f"{table}'s columns after {step}"
        for (name, kind, notnull, default), (_, pg_kind, pg_notnull, pg_default, identity) in zip(
            lite_columns, pg_columns, strict=True
        ):
            where = f"{table}.{name} after migration {step}"
            assert pg_kind in TYPES[kind], where
            if (table, name) in FLAGS:
                assert pg_kind == "smallint", where
            elif kind == "INTEGER" and WIDE.match(name):
                assert pg_kind == "bigint", where
            # A rowid key (INTEGER PRIMARY KEY named id) is an identity; Discord-id keys are given.
            rowid = kind == "INTEGER" and lite["keys"][table] == [name] and name == "id"
            assert (identity == "YES") == rowid, where
            assert notnull == pg_notnull or lite["keys"][table] == [name], where
            assert default == pg_default or identity == "YES", where
        assert lite["keys"][table] == pg["keys"][table], f"{table}'s key after {step}"
        assert lite["uniques"][table] == pg["uniques"][table], f"{table}'s UNIQUE after {step}"
        assert lite["foreign"][table] == pg["foreign"][table], f"{table}'s foreign keys after {step}"
    pg_indexes = {k: v for k, v in pg["indexes"].items() if k not in PG_ONLY_INDEXES}
    assert set(lite["indexes"]) == set(pg_indexes), f"indexes after migration {step}"
    for name, (table, cols, unique, where) in lite["indexes"].items():
        pg_table, pg_cols, pg_unique, pg_where = pg_indexes[name]
        assert (table, cols, unique, _predicate(where)) == (pg_table, pg_cols, pg_unique, _predicate(pg_where)), name


async def empty(conn: Any) -> None:
    """Nothing in the database, whatever the fixture made it from (a migrated template, say)."""
    await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")


def test_the_two_engines_ship_the_same_migrations() -> None:
    assert [name for _, name, _ in known()] == [name for _, name, _ in migrations()]


async def test_each_migration_leaves_sqlites_schema_and_keeps_the_rows(pg_url: str) -> None:
    lite = sqlite3.connect(":memory:", isolation_level=None)
    lite.create_function("search_text", 1, search_text, deterministic=True)
    conn = await asyncpg.connect(pg_url)
    try:
        await empty(conn)
        await conn.execute(
            "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (0)"
        )
        for (number, _name, sql), (_, _, pg_sql) in zip(migrations(), known(), strict=True):
            lite.executescript(f"BEGIN;\n{sql}\nCOMMIT;")
            async with conn.transaction():
                await conn.execute(pg_sql)
                await conn.execute("UPDATE schema_version SET version = $1", number)
            assert_same(sqlite_schema(lite), await pg_schema(conn), number)
            if number == 3:  # rows the data-moving migrations (004's backfill, 005's constraints) must keep
                await conn.execute(
                    "INSERT INTO feeds (id, guild_id, channel_id, community, outbox_cursor, created_by, created_at)"
                    " VALUES (1, 10, 20, 'hive-158489', 0, 30, '2026-01-01T00:00:00+00:00');"
                    " INSERT INTO outbox (id, kind, community, block_num, at)"
                    " VALUES (7, 'vote', 'hive-158489', 5, 't');"
                    " INSERT INTO jobs (id, channel_id, feed_id, action, state) VALUES (3, 20, 1, 'badge', 'done');"
                    " INSERT INTO jobs (id, channel_id, feed_id, action) VALUES (4, 20, 1, 'preview')"
                )
        jobs = await conn.fetch("SELECT id, state, finished_at FROM jobs ORDER BY id")
        assert [(j["id"], j["state"], j["finished_at"] is not None) for j in jobs] == [
            (3, "done", True),
            (4, "pending", False),
        ]
        assert jobs[0]["finished_at"] == int(jobs[0]["finished_at"])  # whole seconds, as SQLite's strftime('%s')
        feed = await conn.fetchrow("SELECT threads, mute, mention_authors, error_streak FROM feeds")
        assert tuple(feed) == ("off", "[]", 1, 0)
        # 005 dropped the CHECKs on job actions and outbox kinds: new kinds need no migration.
        await conn.execute("INSERT INTO jobs (channel_id, action) VALUES (20, 'reply')")
        await conn.execute("INSERT INTO outbox (kind, block_num, at) VALUES ('reply_created', 6, 't')")
        # BY DEFAULT identities take given ids (`hivecord migrate` copies them) and number the rest.
        assert await conn.fetchval("SELECT id FROM outbox WHERE kind = 'reply_created'") == 1
        assert await migrate_postgres(conn) == len(known())  # a database migrated by hand is up to date
    finally:
        await conn.close()
        lite.close()


async def test_two_processes_starting_at_once_migrate_once(pg_url: str, caplog: pytest.LogCaptureFixture) -> None:
    holder, first, second = [await asyncpg.connect(pg_url) for _ in range(3)]
    try:
        await empty(holder)
        # Both wait on the lock until it is let go, so they start the race together: certain, not left to timing.
        with caplog.at_level(logging.INFO, logger="hivecord.store"):
            async with holder.transaction():
                await holder.execute("SELECT pg_advisory_xact_lock($1)", MIGRATE_LOCK)
                racing = asyncio.gather(migrate_postgres(first), migrate_postgres(second))
                await _wait_for_lock_waiters(holder, 2)
            versions = await asyncio.wait_for(racing, 60)
        assert versions == [len(known()), len(known())]
        applied = [r.getMessage() for r in caplog.records if r.getMessage().startswith("applying migration")]
        assert sorted(applied) == [f"applying migration {name}" for _, name, _ in known()]
        assert [tuple(r) for r in await holder.fetch("SELECT version FROM schema_version")] == [(len(known()),)]
    finally:
        for conn in (holder, first, second):
            await conn.close()


async def _wait_for_lock_waiters(conn: Any, count: int) -> None:
    """Until `count` sessions wait on the migration lock (a condition, with a generous ceiling)."""
    for _ in range(3000):
        if await conn.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the migrations never waited on the lock")


async def test_a_database_newer_than_known_is_refused(pg_url: str) -> None:
    conn = await asyncpg.connect(pg_url)
    try:
        await empty(conn)
        assert await migrate_postgres(conn) == len(known())
        assert await migrate_postgres(conn) == len(known())  # nothing left to apply
        await conn.execute("UPDATE schema_version SET version = $1", len(known()) + 1)
        with pytest.raises(RuntimeError, match="newer than this hivecord knows"):
            await migrate_postgres(conn)
        assert await conn.fetchval("SELECT version FROM schema_version") == len(known()) + 1
    finally:
        await conn.close()
