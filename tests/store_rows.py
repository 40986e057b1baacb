"""Rows read straight from a store's database, whichever engine holds it: what a store-level test checks
behind the store's back (tests/conftest.py `db_location` gives a SQLite path or a postgresql:// URL).

`sql` is written once, with `?` placeholders; rows come back as plain tuples on both engines."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import asyncpg

from bot.store.engine import is_postgres_url as is_postgresql
from bot.store.postgres.facade import placeholders


async def rows(location: Path | str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Every row `sql` reads, as tuples, over a connection of its own (closed before returning)."""
    if is_postgresql(location):
        conn = await asyncpg.connect(str(location))
        try:
            return [tuple(r) for r in await conn.fetch(placeholders(sql, named=False)[0], *args)]
        finally:
            await conn.close()
    with sqlite3.connect(location) as lite:
        found = lite.execute(sql, args).fetchall()
    lite.close()
    return found
