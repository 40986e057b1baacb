"""PgDatabase: the store's database handle on PostgreSQL, the twin of bot/store/db.Database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg

from bot.store.postgres.facade import PgConn, PgReader, Statements, SyncPgConn
from bot.store.postgres.migrate import migrate_postgres

log = logging.getLogger("hivecord.store")

T = TypeVar("T")

# One writer at a time across every process sharing the database, as SQLite's BEGIN IMMEDIATE
# gives one file: the store's statements were written for it (a new feed starts at the outbox's
# max id, which holds only while outbox rows commit in id order; a lane's state is read, then
# written). Writes are short; reads, most of the work, run side by side on the pool.
WRITE_LOCK = 0x68697665  # "hive"

_UPSERT_META = "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"


class PgDatabase:
    """A PostgreSQL database, migrated, behind a connection pool.

    `write()` and `batch()` are one transaction each on a pool connection, taken in turn (the
    process's lock, then the database-wide one); `reader` borrows a pool connection per statement.
    """

    engine = "postgresql"

    def __init__(self, dsn: str, pool: asyncpg.Pool) -> None:
        self.dsn = dsn
        self.path = None
        self._pool = pool
        self._statements = Statements()
        self.reader = PgReader(pool, self._statements)
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, dsn: str, *, pool_size: int = 8) -> PgDatabase:
        # The server drops a dead peer's session (and its locks) within seconds, not hours.
        settings = {"tcp_keepalives_idle": "4", "tcp_keepalives_interval": "2", "tcp_keepalives_count": "2"}
        pool = await asyncpg.create_pool(
            dsn, min_size=1, max_size=pool_size, server_settings={**settings, "application_name": "hivecord-store"}
        )
        try:
            async with pool.acquire() as conn:
                await migrate_postgres(conn)
        except BaseException:
            await pool.close()
            raise
        return cls(dsn, pool)

    async def close(self) -> None:
        async with self._write_lock:
            await self._pool.close()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[PgConn]:
        async with self._write_lock, self._pool.acquire() as raw, raw.transaction():
            await raw.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK)
            yield PgConn(raw, self._statements)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[PgConn]:
        """One write transaction; rolled back if anything in it fails."""
        async with self._transaction() as conn:
            yield conn

    async def batch(self, work: Callable[[SyncPgConn], T]) -> T:
        """Runs the synchronous `work` (the chain writer) in one transaction, from a worker thread whose
        statements run on this loop's connection. A caller cancelled meanwhile leaves it to finish."""
        return await asyncio.shield(self._batch(work))

    async def _batch(self, work: Callable[[SyncPgConn], T]) -> T:
        loop = asyncio.get_running_loop()
        async with self._transaction() as conn:
            return await asyncio.to_thread(work, SyncPgConn(conn, loop))

    async def get_meta(self, key: str) -> str | None:
        rows = await self.reader.execute_fetchall("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0]["value"]) if rows else None

    async def set_meta(self, key: str, value: str) -> None:
        async with self.write() as conn:
            await conn.execute(_UPSERT_META, (key, value))

    async def cursor(self) -> int | None:
        value = await self.get_meta("cursor")
        return int(value) if value is not None else None

    @asynccontextmanager
    async def raw_read(self) -> AsyncIterator[Any]:
        """A pool connection for an engine-specific read (search)."""
        async with self.reader.connection() as raw:
            yield raw

    async def terminate(self) -> None:
        """Closes at once (a test's kill): connections dropped, nothing waited for."""
        with contextlib.suppress(Exception):
            self._pool.terminate()
