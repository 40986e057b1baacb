"""A read-only look at the database for `hivecord healthcheck`: never migrates, never writes."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path


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
