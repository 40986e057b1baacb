"""A community's own moderation: the roles hivemind serves (community_roles) and the posts its
moderators muted (muted_posts)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import aiosqlite

from bot.store.db import Database

# A condition on a posts row: neither the post nor its author is muted by its community. For what is
# chosen from the store to show (a backfill, a /feed test preview).
NOT_MUTED = (
    " posts.id NOT IN (SELECT post_id FROM muted_posts) AND posts.author NOT IN"
    " (SELECT account FROM community_roles WHERE community = posts.community AND role = 'muted')"
)


async def muted_notes(conn: aiosqlite.Connection) -> dict[int, str]:
    """Every muted post's id and its moderators' notes: a handful, read once per planning pass."""
    async with conn.execute("SELECT post_id, notes FROM muted_posts") as cur:
        return {int(r[0]): str(r[1]) for r in await cur.fetchall()}


class ChainModeration:
    """The follower's moderation statements, inside the batch's transaction (see ChainWriter)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def role(self, community: str, account: str) -> str:
        """The account's stored role in the community; "guest" when none is listed."""
        row = self._conn.execute(
            "SELECT role FROM community_roles WHERE community = ? AND account = ?", (community, account)
        ).fetchone()
        return str(row[0]) if row else "guest"

    def set_role(self, community: str, account: str, role: str) -> None:
        """A setRole op applied: the title hivemind gave stays."""
        self._conn.execute(
            "INSERT INTO community_roles (community, account, role) VALUES (?, ?, ?)"
            " ON CONFLICT (community, account) DO UPDATE SET role = excluded.role",
            (community, account, role),
        )

    def mute_post(self, post_id: int, *, notes: str, actor: str, block_num: int, at: str) -> bool:
        """False when the post is muted already (hivemind refuses a second mute)."""
        cur = self._conn.execute(
            "INSERT INTO muted_posts (post_id, notes, muted_by, block_num, muted_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (post_id) DO NOTHING",
            (post_id, notes, actor, block_num, at),
        )
        return cur.rowcount == 1

    def unmute_post(self, post_id: int) -> bool:
        """False when the post was not muted."""
        return self._conn.execute("DELETE FROM muted_posts WHERE post_id = ?", (post_id,)).rowcount == 1


class ModerationTables:
    """Named operations on community_roles and muted_posts, for the roles' refresh and delivery."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def replace_roles(self, community: str, rows: Sequence[tuple[str, str, str]], read_at: float) -> None:
        """The community's roles as hivemind listed them now, in place of the stored ones, at once."""
        async with self._db.write() as conn:
            await conn.execute("DELETE FROM community_roles WHERE community = ?", (community,))
            await conn.executemany(
                "INSERT INTO community_roles (community, account, role, title) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (community, account) DO UPDATE SET role = excluded.role, title = excluded.title",
                [(community, account, role, title) for account, role, title in rows],
            )
            await conn.execute(
                "INSERT INTO community_roles_read (community, read_at) VALUES (?, ?)"
                " ON CONFLICT (community) DO UPDATE SET read_at = excluded.read_at",
                (community, read_at),
            )

    async def roles_read_at(self, community: str) -> float | None:
        """When the community's list was last read whole (wall time), or None if never."""
        async with self._db.reader.execute(
            "SELECT read_at FROM community_roles_read WHERE community = ?", (community,)
        ) as cur:
            row = await cur.fetchone()
        return float(row[0]) if row else None

    async def is_muted(self, post_id: int) -> bool:
        """Whether the community's moderators muted the post."""
        async with self._db.reader.execute("SELECT 1 FROM muted_posts WHERE post_id = ?", (post_id,)) as cur:
            return await cur.fetchone() is not None

    async def is_muted_account(self, community: str, account: str) -> bool:
        """Whether the community lists the account as muted (its role 'muted')."""
        async with self._db.reader.execute(
            "SELECT 1 FROM community_roles WHERE community = ? AND account = ? AND role = 'muted'", (community, account)
        ) as cur:
            return await cur.fetchone() is not None
