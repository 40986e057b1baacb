"""Personal notices for linked authors: their /notify choices, and the chain events that owe them a DM."""

from __future__ import annotations

from bot.domain import NotifyPrefs
from bot.store.engine import Conn, Db, Row

NOTICES_CURSOR = "notices_cursor"  # meta: the last outbox id planned for notices


async def notice_events(conn: Conn, after: int, limit: int) -> list[Row]:
    """Upvotes on linked authors' posts and badges of linked accounts past `after`, for the members
    who asked for them: (id, kind, post_id, badge_id, voter, weight, community, author, user_id)."""
    async with conn.execute(
        "SELECT o.id, o.kind, o.post_id, o.badge_id, o.voter, o.weight, p.community, p.author, l.user_id"
        " FROM outbox o LEFT JOIN posts p ON p.id = o.post_id LEFT JOIN badges b ON b.id = o.badge_id"
        " JOIN links l ON l.account = CASE WHEN o.kind = 'badge' THEN b.recipient ELSE p.author END"
        " JOIN notify_prefs n ON n.user_id = l.user_id"
        " WHERE o.id > ? AND ((o.kind = 'vote' AND n.votes = 1 AND o.weight > 0 AND o.voter != p.author)"
        " OR (o.kind = 'badge' AND n.badges = 1)) ORDER BY o.id LIMIT ?",
        (after, limit),
    ) as cur:
        return list(await cur.fetchall())


class NoticeTables:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def prefs(self, user_id: int) -> NotifyPrefs:
        async with self._db.reader.execute(
            "SELECT votes, badges FROM notify_prefs WHERE user_id = ?", (user_id,)
        ) as cur:
            row = await cur.fetchone()
        return NotifyPrefs(bool(row["votes"]), bool(row["badges"])) if row else NotifyPrefs(False, False)

    async def set_prefs(self, user_id: int, prefs: NotifyPrefs, at: str) -> None:
        """Saves the member's choices; asking for DMs again clears a closed-DM mark (a new try)."""
        async with self._db.write() as conn:
            await conn.execute(
                "INSERT INTO notify_prefs (user_id, votes, badges, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET votes = excluded.votes, badges = excluded.badges,"
                " updated_at = excluded.updated_at",
                (user_id, int(prefs.votes), int(prefs.badges), at),
            )
            if prefs.votes or prefs.badges:
                await conn.execute("DELETE FROM dm_closed WHERE user_id = ?", (user_id,))

    async def known_guilds(self, user_id: int) -> set[int]:
        """Servers the member was seen in through the bot: where they subscribed, were given a rule's
        role, or replied from Discord. Only a hint of where to ask first: they may have left since."""
        async with self._db.reader.execute(
            "SELECT guild_id FROM subscriptions WHERE user_id = ? AND guild_id IS NOT NULL"
            " UNION SELECT guild_id FROM role_grants WHERE user_id = ? AND state = 'granted'"
            " UNION SELECT guild_id FROM discord_replies WHERE user_id = ?",
            (user_id, user_id, user_id),
        ) as cur:
            return {int(r[0]) for r in await cur.fetchall()}
