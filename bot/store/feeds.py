"""Feeds: which community a channel mirrors, with which rules, and whether it is broken."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite

from bot.domain import Feed, ThreadMode, VoteMode
from bot.store.db import Database

FEED_COLUMNS = (
    "id, guild_id, channel_id, community, posts, votes, curators, badges, role_id, outbox_cursor, broken, last_error,"
    " threads, mute, mention_authors"
)


def feed_from_row(row: sqlite3.Row) -> Feed:
    """A Feed from a row of FEED_COLUMNS, by column name."""
    return Feed(
        id=row["id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        community=row["community"],
        posts=bool(row["posts"]),
        votes=row["votes"],
        curators=tuple(json.loads(row["curators"])),
        badges=bool(row["badges"]),
        role_id=row["role_id"],
        outbox_cursor=row["outbox_cursor"],
        broken=row["broken"],
        last_error=row["last_error"],
        threads=row["threads"],
        mute=tuple(json.loads(row["mute"])),
        mention_authors=bool(row["mention_authors"]),
    )


async def feed_channel(conn: aiosqlite.Connection, guild_id: int | None, community: str) -> int | None:
    """A guild's healthy feed channel for a community: where a subscriber's mention belongs."""
    if guild_id is None:
        return None
    async with conn.execute(
        "SELECT channel_id FROM feeds WHERE guild_id = ? AND community = ? AND broken IS NULL ORDER BY id LIMIT 1",
        (guild_id, community),
    ) as cur:
        row = await cur.fetchone()
    return int(row["channel_id"]) if row else None


class FeedTables:
    """Named operations on feeds."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def upsert_feed(
        self,
        *,
        guild_id: int,
        channel_id: int,
        community: str,
        posts: bool,
        votes: VoteMode,
        curators: Sequence[str],
        badges: bool,
        role_id: int | None,
        created_by: int,
        at: str,
        threads: ThreadMode = "off",
        mute: Sequence[str] = (),
        mention_authors: bool = True,
    ) -> tuple[Feed, bool]:
        """Adds the feed, or updates it and clears its broken mark. Returns it and whether it is new.

        A new feed starts at the end of the outbox: it mirrors what happens from now on.
        """
        async with self._db.write() as conn:
            async with conn.execute(
                "SELECT id FROM feeds WHERE channel_id = ? AND community = ?", (channel_id, community)
            ) as cur:
                existing = await cur.fetchone()
            options = (
                int(posts),
                votes,
                json.dumps(list(curators)),
                int(badges),
                role_id,
                threads,
                json.dumps(list(mute)),
                int(mention_authors),
            )
            if existing:
                feed_id = int(existing["id"])
                await conn.execute(
                    "UPDATE feeds SET posts = ?, votes = ?, curators = ?, badges = ?, role_id = ?, threads = ?,"
                    " mute = ?, mention_authors = ?, broken = NULL, error_streak = 0 WHERE id = ?",
                    (*options, feed_id),
                )
            else:
                cur = await conn.execute(
                    "INSERT INTO feeds (guild_id, channel_id, community, posts, votes, curators, badges, role_id,"
                    " threads, mute, mention_authors, outbox_cursor, created_by, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT coalesce(max(id), 0) FROM outbox), ?, ?)",
                    (guild_id, channel_id, community, *options, created_by, at),
                )
                assert cur.lastrowid is not None
                feed_id = cur.lastrowid
            # Adding a feed (again) says the channel was fixed: its lane may try again now.
            await conn.execute("DELETE FROM lanes WHERE lane_id = ?", (channel_id,))
            async with conn.execute(f"SELECT {FEED_COLUMNS} FROM feeds WHERE id = ?", (feed_id,)) as cur:
                row = await cur.fetchone()
        assert row is not None
        return feed_from_row(row), not existing

    async def remove_feeds(self, guild_id: int, community: str, channel_id: int | None) -> int:
        async with self._db.write() as conn:
            args: tuple[Any, ...] = (guild_id, community)
            sql = "DELETE FROM feeds WHERE guild_id = ? AND community = ?"
            if channel_id is not None:
                sql += " AND channel_id = ?"
                args += (channel_id,)
            # Jobs owed to a removed feed go with it (ON DELETE CASCADE).
            cur = await conn.execute(sql, args)
            return cur.rowcount

    async def feeds_of_guild(self, guild_id: int) -> list[Feed]:
        async with self._db.reader.execute(
            f"SELECT {FEED_COLUMNS} FROM feeds WHERE guild_id = ? ORDER BY community, channel_id", (guild_id,)
        ) as cur:
            return [feed_from_row(r) for r in await cur.fetchall()]

    async def feed_channel_of(self, guild_id: int | None, community: str) -> int | None:
        return await feed_channel(self._db.reader, guild_id, community)

    async def followed_communities(self) -> set[str]:
        async with self._db.reader.execute("SELECT DISTINCT community FROM feeds") as cur:
            return {str(r["community"]) for r in await cur.fetchall()}

    async def feed(self, feed_id: int) -> Feed | None:
        async with self._db.reader.execute(f"SELECT {FEED_COLUMNS} FROM feeds WHERE id = ?", (feed_id,)) as cur:
            row = await cur.fetchone()
        return feed_from_row(row) if row else None
