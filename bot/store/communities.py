"""Communities as fetched from the node: their titles and teams (a feed's curators)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.store.engine import Conn, Db


async def community_team(conn: Conn, community: str) -> tuple[str, ...]:
    async with conn.execute("SELECT team FROM communities WHERE name = ?", (community,)) as cur:
        row = await cur.fetchone()
    return tuple(json.loads(row["team"])) if row else ()


class CommunityTables:
    """Named operations on the communities table."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def save_community(self, name: str, title: str, team: Sequence[str], at: str) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "INSERT INTO communities (name, title, team, fetched_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET title = excluded.title, team = excluded.team,"
                " fetched_at = excluded.fetched_at",
                (name, title, json.dumps(list(team)), at),
            )

    async def community_title(self, name: str) -> str | None:
        async with self._db.reader.execute("SELECT title FROM communities WHERE name = ?", (name,)) as cur:
            row = await cur.fetchone()
        return str(row["title"]) if row else None
