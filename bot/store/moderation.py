"""A community's own moderation: the roles hivemind serves (community_roles) with the setRole ops applied
since (community_role_ops), and the posts and replies its moderators muted (muted_posts, muted_replies)."""

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


# A setRole the follower applied is kept over a list hivemind serves that disagrees, for this long after
# its block: hivemind lags the chain by seconds, so a list read later than this has seen the op (and a
# disagreement then is hivemind's own ruling, which wins).
PATIENCE = 600.0


async def muted_notes(conn: aiosqlite.Connection, *, replies: bool = False) -> dict[int, str]:
    """Every muted post's (or reply's) id and its moderators' notes: a handful, read once per planning pass."""
    sql = "SELECT reply_id, notes FROM muted_replies" if replies else "SELECT post_id, notes FROM muted_posts"
    async with conn.execute(sql) as cur:
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

    def set_role(self, community: str, account: str, role: str, *, block_num: int, set_at: float) -> None:
        """A setRole op applied: the title hivemind gave stays; the op is remembered until hivemind lists
        it (see ModerationTables.replace_roles)."""
        self._conn.execute(
            "INSERT INTO community_roles (community, account, role) VALUES (?, ?, ?)"
            " ON CONFLICT (community, account) DO UPDATE SET role = excluded.role",
            (community, account, role),
        )
        self._conn.execute(
            "INSERT OR REPLACE INTO community_role_ops (community, account, role, block_num, set_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (community, account, role, block_num, set_at),
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

    def mute_reply(self, reply_id: int, *, notes: str, actor: str, block_num: int, at: str) -> bool:
        """False when the reply is muted already."""
        cur = self._conn.execute(
            "INSERT INTO muted_replies (reply_id, notes, muted_by, block_num, muted_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (reply_id) DO NOTHING",
            (reply_id, notes, actor, block_num, at),
        )
        return cur.rowcount == 1

    def unmute_reply(self, reply_id: int) -> bool:
        """False when the reply was not muted."""
        return self._conn.execute("DELETE FROM muted_replies WHERE reply_id = ?", (reply_id,)).rowcount == 1


class ModerationTables:
    """Named operations on community_roles and muted_posts, for the roles' refresh and delivery."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def replace_roles(self, community: str, rows: Sequence[tuple[str, str, str]], read_at: float) -> int:
        """The community's roles as hivemind listed them now, in place of the stored ones, at once; but a
        setRole applied from a block newer than hivemind may have seen (PATIENCE) keeps its role
        where the list disagrees. Returns how many such roles were kept (read again soon)."""
        listed = {account: role for account, role, _ in rows}
        async with self._db.write() as conn:
            await conn.execute("DELETE FROM community_roles WHERE community = ?", (community,))
            await conn.executemany(
                "INSERT INTO community_roles (community, account, role, title) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (community, account) DO UPDATE SET role = excluded.role, title = excluded.title",
                [(community, account, role, title) for account, role, title in rows],
            )
            async with conn.execute(
                "SELECT account, role, set_at FROM community_role_ops WHERE community = ?", (community,)
            ) as cur:
                ops = [(str(r[0]), str(r[1]), float(r[2])) for r in await cur.fetchall()]
            # Listed as set (hivemind agrees), or old enough that hivemind has ruled: the op is done.
            done = [(community, a) for a, role, at in ops if listed.get(a, "guest") == role or read_at - at > PATIENCE]
            kept = [(community, a, role) for a, role, at in ops if (community, a) not in done]
            await conn.executemany("DELETE FROM community_role_ops WHERE community = ? AND account = ?", done)
            await conn.executemany(
                "INSERT INTO community_roles (community, account, role) VALUES (?, ?, ?)"
                " ON CONFLICT (community, account) DO UPDATE SET role = excluded.role",
                kept,
            )
            await conn.execute(
                "INSERT INTO community_roles_read (community, read_at) VALUES (?, ?)"
                " ON CONFLICT (community) DO UPDATE SET read_at = excluded.read_at",
                (community, read_at),
            )
        return len(kept)

    async def roles_read_at(self, community: str) -> float | None:
        """When the community's list was last read whole (wall time), or None if never."""
        async with self._db.reader.execute(
            "SELECT read_at FROM community_roles_read WHERE community = ?", (community,)
        ) as cur:
            row = await cur.fetchone()
        return float(row[0]) if row else None

    async def is_muted(self, post_id: int) -> bool:
        """Whether the community's moderators muted the post."""
        return await self.mute_notes(post_id) is not None

    async def mute_notes(self, post_id: int, *, reply: bool = False) -> str | None:
        """The moderators' notes on a muted post (or reply, by its id); None when it is not muted."""
        table, key = ("muted_replies", "reply_id") if reply else ("muted_posts", "post_id")
        sql = f"SELECT notes FROM {table} WHERE {key} = ?"
        async with self._db.reader.execute(sql, (post_id,)) as cur:
            row = await cur.fetchone()
        return str(row[0]) if row else None
