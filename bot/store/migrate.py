"""Numbered schema migrations, applied at start-up; PRAGMA user_version holds the last one applied."""

from __future__ import annotations

import logging
import re
from importlib import resources

import aiosqlite

log = logging.getLogger("hivecord.store")

_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


def migrations(package: str = "bot.store") -> list[tuple[int, str, str]]:
    """(number, name, sql) of every migration in `package`'s migrations folder, in order (SQLite's
    by default; bot.store.postgres holds PostgreSQL's)."""
    found: list[tuple[int, str, str]] = []
    for entry in resources.files(package).joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [n for n, _, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations are not numbered 1..N without gaps: {numbers}")
    return found


async def migrate(conn: aiosqlite.Connection) -> int:
    """Applies the migrations this database has not seen; each one is atomic. Returns the version."""
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    current = int(row[0]) if row else 0
    known = migrations()
    if current > len(known):
        raise RuntimeError(
            f"the database is at schema version {current}, newer than this hivecord knows ({len(known)})"
        )
    for number, name, sql in known[current:]:
        log.info("applying migration %s", name)
        # executescript commits first; BEGIN/COMMIT inside the script makes each migration all-or-nothing.
        await conn.executescript(f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;")
        current = number
    return current
