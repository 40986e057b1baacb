"""A read-only look at the database for `hivecord healthcheck`: never migrates, never writes."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

CONNECT_SECONDS = 5.0  # healthcheck is cheap or unhealthy: a server that does not answer by then is down


@dataclass(frozen=True)
class StoredChain:
    cursor: int | None  # the last block stored; None before the first start recorded one
    cursor_time: str  # that block's chain time, ISO 8601 UTC without a zone; "" before the first batch


def stored_chain(path: Path) -> StoredChain:
    """The cursor, read through a read-only connection; raises sqlite3.Error when the file cannot be
    opened or is not a hivecord database (no meta table)."""
    conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=5.0)
    try:
        rows = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('cursor', 'cursor_time')").fetchall())
    finally:
        conn.close()
    cursor = rows.get("cursor")
    return StoredChain(int(cursor) if cursor else None, str(rows.get("cursor_time") or ""))


async def stored_chain_pg(dsn: str) -> StoredChain:
    """The cursor, read from PostgreSQL in a read-only transaction; raises (asyncpg, OSError) when the
    server cannot be reached or the database is not a hivecord one (no meta table)."""
    import asyncpg  # the PostgreSQL engine only

    conn = await asyncpg.connect(dsn, timeout=CONNECT_SECONDS)
    try:
        async with conn.transaction(readonly=True):
            rows = await conn.fetch("SELECT key, value FROM meta WHERE key IN ('cursor', 'cursor_time')")
    finally:
        await conn.close()
    found = {str(r["key"]): str(r["value"]) for r in rows}
    cursor = found.get("cursor")
    return StoredChain(int(cursor) if cursor else None, found.get("cursor_time", ""))
