"""A read-only look at the database for `hivecord healthcheck`: never migrates, never writes."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bot.process.retry import describe
from bot.text.keys import redact_url_passwords

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


def health(path: Path | None, dsn: str | None, shown: str, max_age: float | None) -> tuple[bool, str]:
    """Whether the database (a SQLite `path`, else PostgreSQL at `dsn`; `shown` without its password)
    holds a cursor, and with `max_age`, a block stored that recently; and the one line saying so."""
    chain: StoredChain
    if path is None:
        assert dsn is not None
        try:
            chain = asyncio.run(stored_chain_pg(dsn))
        except Exception as exc:
            reason = redact_url_passwords(describe(exc))
            return False, f"unhealthy: {shown} cannot be read as a hivecord database ({reason})"
    else:
        if not path.is_file():
            return False, f"unhealthy: no database at {shown} yet"
        try:
            chain = stored_chain(path)
        except sqlite3.Error as exc:
            return False, f"unhealthy: {shown} cannot be read as a hivecord database ({exc})"
    if chain.cursor is None:
        return False, f"unhealthy: {shown} holds no chain cursor yet"
    if max_age is not None:
        if not chain.cursor_time:
            return False, f"unhealthy: no block stored yet (cursor at {chain.cursor})"
        at = dt.datetime.fromisoformat(chain.cursor_time).replace(tzinfo=dt.UTC)
        age = (dt.datetime.now(dt.UTC) - at).total_seconds()
        if age > max_age:
            return False, (
                f"unhealthy: the last stored block {chain.cursor} is from {chain.cursor_time} UTC, {age:.0f} s ago "
                f"(more than --max-age {max_age:g})"
            )
    return True, f"healthy: {shown} holds blocks up to {chain.cursor} {chain.cursor_time}".rstrip()
