"""A signed intent stored before its broadcast, once: the one insert curation votes and Discord replies share."""

from __future__ import annotations

from typing import Any

from bot.store.engine import Conn


async def insert_signed(conn: Conn, table: str, fields: dict[str, Any], created_at: float) -> int | None:
    """Inserts the intent in state 'signed' and returns its id, or None when a unique index refuses it (the
    same press or post made already). DO NOTHING rather than a caught error: on PostgreSQL a failed
    statement ends the transaction, and the callers read on in it."""
    names = ", ".join(fields)
    marks = ", ".join("?" for _ in fields)
    async with conn.execute(
        f"INSERT INTO {table} ({names}, state, created_at) VALUES ({marks}, 'signed', ?)"
        " ON CONFLICT DO NOTHING RETURNING id",
        (*fields.values(), created_at),
    ) as cur:
        inserted = await cur.fetchone()
    return int(inserted[0]) if inserted else None
