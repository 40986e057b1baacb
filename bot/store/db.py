"""The database handle: its connections, the write lock, the batch transaction and the meta table."""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import aiosqlite

from bot.store.engine import Conn, SyncConn
from bot.store.migrate import migrate

T = TypeVar("T")

_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    # NORMAL in WAL mode survives a killed process; only a power cut may lose the last commits,
    # and those carry their cursor with them, so the chain is simply read again.
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 10000",
)

_UPSERT_META = "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"

# Symbols, punctuation and emoji beyond ASCII: anything but word characters, white space and
# combining accents. unicode61 already splits words at every ASCII character but letters and
# digits; it is the characters it does not know (it knows Unicode 6.1) that need the help.
_NOT_WORD = re.compile(r"[^\x00-\x7f\w\s\u0300-\u036f]+")


def search_text(text: str | None) -> str:
    """Text as the full-text index sees it: symbols, punctuation and emoji become spaces.

    The same words at the same positions as when every non-word character became a space (what
    indexes built before were given, and what their deletes must give again): unicode61 treats
    an ASCII symbol and a space alike. Half the work, in the follower's batch."""
    if not text:
        return ""
    return text if text.isascii() else _NOT_WORD.sub(" ", text)


class Database:
    """One SQLite file, opened and migrated.

    Writes go through one connection under a lock (the follower and delivery take turns);
    reads use a second connection so a slow query never waits on a batch of blocks. A third,
    synchronous connection runs the follower's batches in a worker thread. Every connection
    hands out rows that are read by column name.
    """

    engine = "sqlite"

    def __init__(
        self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection, chain: sqlite3.Connection
    ) -> None:
        self.path = path
        self._writer = writer
        self.reader = reader
        self._chain = chain
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        writer = await aiosqlite.connect(path, isolation_level=None)
        try:
            await writer.create_function("search_text", 1, search_text, deterministic=True)
            for pragma in _PRAGMAS:
                await writer.execute(pragma)
            await migrate(writer)
            writer.row_factory = aiosqlite.Row
            reader = await aiosqlite.connect(path, isolation_level=None)
            reader.row_factory = aiosqlite.Row
            for pragma in _PRAGMAS[1:]:
                await reader.execute(pragma)
            await reader.execute("PRAGMA query_only = ON")
            # No memory map: every page a search touched stayed in the process's resident set (a
            # 300 MB peak at 100,000 reviews), and since searches read a covering index instead of
            # the post rows, the map no longer made them faster (issue 11). The OS caches the file.
            chain = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            chain.row_factory = sqlite3.Row
            chain.create_function("search_text", 1, search_text, deterministic=True)
            for pragma in _PRAGMAS[1:]:
                chain.execute(pragma)
        except BaseException:
            await writer.close()
            raise
        return cls(path, writer, reader, chain)

    async def close(self) -> None:
        async with self._write_lock:
            await self.reader.close()
            await self._writer.close()
            self._chain.close()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction on the writer connection; rolled back if anything in it fails."""
        async with self._write_lock:
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
            except BaseException:
                # Cancelled (a stop) with the BEGIN queued: it still runs in the connection's thread,
                # and a transaction left open would hold SQLite's write lock against the follower's
                # batches. The ROLLBACK queues behind it (and fails harmlessly if nothing began).
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._writer.execute("ROLLBACK"))
                raise
            try:
                yield self._writer
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            await self._writer.execute("COMMIT")

    async def batch(self, work: Callable[[SyncConn], T], /) -> T:
        """Runs `work` in one transaction in a worker thread: all of it or none of it. Holds the write
        lock, so delivery's writes wait their turn.

        A caller cancelled meanwhile (a stop) leaves the transaction to finish in its thread, still
        holding the lock, so close() waits for it instead of closing the connection under it."""
        return await asyncio.shield(self._batch(work))

    async def _batch(self, work: Callable[[SyncConn], T]) -> T:
        async with self._write_lock:
            return await asyncio.to_thread(self._in_transaction, work)

    def _in_transaction(self, work: Callable[[SyncConn], T]) -> T:
        self._chain.execute("BEGIN IMMEDIATE")
        try:
            result = work(self._chain)
        except BaseException:
            self._chain.execute("ROLLBACK")
            raise
        self._chain.execute("COMMIT")
        return result

    async def get_meta(self, key: str) -> str | None:
        return await read_meta(self.reader, key)

    async def set_meta(self, key: str, value: str) -> None:
        async with self.write() as conn:
            await write_meta(conn, key, value)

    async def cursor(self) -> int | None:
        """The last block stored; None before the first batch."""
        value = await self.get_meta("cursor")
        return int(value) if value is not None else None


async def read_meta(conn: Conn, key: str) -> str | None:
    async with conn.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cur:
        row = await cur.fetchone()
    return str(row["value"]) if row else None


async def write_meta(conn: Conn, key: str, value: str) -> None:
    await conn.execute(_UPSERT_META, (key, value))


class CursorMoved(RuntimeError):
    """Another process stored blocks since this one read the cursor: its batch is rolled back."""


def write_cursor(conn: SyncConn, block_num: int, at: str, previous: int | None = None) -> None:
    """The last block stored and its chain time, inside a batch. With `previous`, only if the cursor is
    still there: a follower that lost its election (several processes) cannot store blocks twice."""
    if previous is None:
        conn.executemany(_UPSERT_META, [("cursor", str(block_num)), ("cursor_time", at)])
        return
    moved = conn.execute(
        "UPDATE meta SET value = ? WHERE key = 'cursor' AND value = ?", (str(block_num), str(previous))
    ).rowcount
    if moved != 1:
        raise CursorMoved(f"the cursor is no longer at block {previous}: another process follows the chain")
    conn.execute(_UPSERT_META, ("cursor_time", at))


async def nonce_salt(conn: Conn) -> str:
    """A per-database salt (made on first use, inside a write) that keeps job nonces distinct if the
    database is ever recreated. Made once however many processes ask at once: the first insert wins."""
    salt = await read_meta(conn, "nonce_salt")
    if salt is not None:
        return salt
    await conn.execute(
        "INSERT INTO meta (key, value) VALUES ('nonce_salt', ?) ON CONFLICT (key) DO NOTHING", (secrets.token_hex(3),)
    )
    made = await read_meta(conn, "nonce_salt")
    assert made is not None
    return made
