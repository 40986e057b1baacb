"""Database.write() under cancellation: a stop never leaves the write lock taken, on either engine.

Each engine has its own test: what is checked is the engine's own lock (SQLite's file lock, read with a
second sqlite3 connection; PostgreSQL's database-wide advisory lock, read with a second session)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import asyncpg
import pytest

from bot.store.db import Database
from bot.store.postgres.database import WRITE_LOCK, PgDatabase


async def test_a_write_cancelled_while_its_begin_is_queued_leaves_no_transaction_open(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "hivecord.sqlite3")
    try:
        entered = False

        async def write() -> None:
            nonlocal entered
            async with db.write():
                entered = True

        task = asyncio.create_task(write())
        await asyncio.sleep(0)  # the task has queued its BEGIN in the connection's thread and waits
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not entered
        # The writer is usable (its thread runs the next BEGIN after the cancelled one): no
        # transaction was left open.
        async with db.write() as conn:
            await conn.execute("CREATE TABLE later (x)")
        # Another connection (the follower's batches) can take the write lock at once.
        other = sqlite3.connect(tmp_path / "hivecord.sqlite3", timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
        finally:
            other.close()
    finally:
        await db.close()


async def waiting_for_the_lock(other: asyncpg.Connection) -> bool:
    """Whether some session waits for the write lock (an ungranted advisory lock on its key)."""
    waiting = await other.fetchval(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = $1", WRITE_LOCK
    )
    return bool(waiting)


async def test_on_postgresql_a_write_cancelled_while_another_process_writes_leaves_the_lock_free(
    pg_url: str,
) -> None:
    db = await PgDatabase.open(pg_url)
    other = await asyncpg.connect(pg_url)  # another process's session
    try:
        await other.execute("SELECT pg_advisory_lock($1)", WRITE_LOCK)
        entered = False

        async def write() -> None:
            nonlocal entered
            async with db.write():
                entered = True

        task = asyncio.create_task(write())
        deadline = time.monotonic() + 30  # a ceiling, not what the test waits for
        while not await waiting_for_the_lock(other):
            assert time.monotonic() < deadline, "the write never asked the server for the lock"
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not entered
        assert not await waiting_for_the_lock(other)  # the cancelled wait is not left queued on the server
        await other.execute("SELECT pg_advisory_unlock($1)", WRITE_LOCK)
        # The writer is usable, and another process takes the lock at once after its write.
        async with db.write() as conn:
            await conn.execute("CREATE TABLE later (x INTEGER)")
        assert await other.fetchval("SELECT pg_try_advisory_lock($1)", WRITE_LOCK)
        await other.execute("SELECT pg_advisory_unlock($1)", WRITE_LOCK)
    finally:
        await other.close()
        await db.close()
