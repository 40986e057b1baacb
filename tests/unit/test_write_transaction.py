"""Database.write() under cancellation: a stop never leaves SQLite's write lock taken."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.store.db import Database


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
