"""PostgreSQL's numbered schema migrations, the twins of SQLite's: a `schema_version` row holds the last one applied."""

from __future__ import annotations

import logging

import asyncpg

from bot.store.migrate import migrations

log = logging.getLogger("hivecord.store")

PACKAGE = "bot.store.postgres"
# The advisory lock every hivecord process takes to migrate: two processes starting at once on one
# database migrate it once ("hivecord" in ASCII; the follower's election uses a key of its own).
MIGRATE_LOCK = 0x68697665636F7264


def known() -> list[tuple[int, str, str]]:
    """(number, name, sql) of PostgreSQL's migrations, in order, checked for gaps."""
    return migrations(PACKAGE)


async def migrate_postgres(conn: asyncpg.Connection) -> int:
    """Applies the migrations this database has not seen and returns its version.

    Each migration is one transaction that holds the advisory lock, reads the version again and
    records the new one, so a crash leaves a migration wholly applied or not at all, and a process
    that waited on the lock finds the work done instead of doing it twice.
    """
    shipped = known()
    while True:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATE_LOCK)
            current = await _version(conn)
            if current > len(shipped):
                raise RuntimeError(
                    f"the database is at schema version {current}, newer than this hivecord knows ({len(shipped)})"
                )
            if current == len(shipped):
                return current
            number, name, sql = shipped[current]
            log.info("applying migration %s", name)
            await conn.execute(sql)
            await conn.execute("UPDATE schema_version SET version = $1", number)


async def _version(conn: asyncpg.Connection) -> int:
    """The version recorded in `schema_version` (made, at 0, in a database that has none yet)."""
    if await conn.fetchval("SELECT to_regclass('schema_version')") is None:
        await conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    version = await conn.fetchval("SELECT max(version) FROM schema_version")
    if version is None:
        await conn.execute("INSERT INTO schema_version (version) VALUES (0)")
        return 0
    return int(version)
