"""Feeds: which community a channel mirrors, with which rules, and whether it is broken."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.domain import NO_FILTER, Feed, FeedFilter, ThreadMode, VoteMode
from bot.store.engine import Conn, Db, Row
from bot.store.filters import passing

FEED_COLUMNS = (
    "id, guild_id, channel_id, community, posts, votes, curators, badges, role_id, outbox_cursor, broken, last_error,"
    " threads, mute, mention_authors, filter_tags, filter_exclude_tags, filter_authors, filter_exclude_authors,"
    " filter_min_reputation"
)


def feed_from_row(row: Row) -> Feed:
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
        filter=FeedFilter(
            tags=tuple(json.loads(row["filter_tags"])),
            exclude_tags=tuple(json.loads(row["filter_exclude_tags"])),
            authors=tuple(json.loads(row["filter_authors"])),
            exclude_authors=tuple(json.loads(row["filter_exclude_authors"])),
            min_reputation=row["filter_min_reputation"],
        ),
    )


def filter_values(feed_filter: FeedFilter) -> tuple[str, str, str, str, float | None]:
    """The filter columns' values, in FEED_COLUMNS order."""
    f = feed_filter
    tags, exclude_tags = json.dumps(list(f.tags)), json.dumps(list(f.exclude_tags))
    return tags, exclude_tags, json.dumps(list(f.authors)), json.dumps(list(f.exclude_authors)), f.min_reputation


async def alert_lane(
    conn: Conn, guild_id: int | None, community: str, post_id: int, fallback: int | None
) -> int | None:
    """Where a subscriber's mention of a post goes in their server, or None when it goes nowhere.

    The lane is the server's first healthy feed channel of the community, else `fallback` (the
    subscription's channel). Either way the mention follows the filter of the feed it goes through (with
    none healthy, the server's first feed of the community): a post the admin filtered out pings no one.
    """
    if guild_id is None:
        return fallback
    async with conn.execute(
        f"SELECT {FEED_COLUMNS} FROM feeds WHERE guild_id = ? AND community = ?"
        " ORDER BY broken IS NOT NULL, id LIMIT 1",
        (guild_id, community),
    ) as cur:
        row = await cur.fetchone()
    if row is None:
        return fallback  # no feed of the community in the server: no filter of the admin's to follow
    feed = feed_from_row(row)
    if not await passing(conn, feed.filter, [post_id]):
        return None
    return feed.channel_id if feed.broken is None else fallback


class FeedTables:
    """Named operations on feeds."""

    def __init__(self, db: Db) -> None:
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
        feed_filter: FeedFilter | None = NO_FILTER,
        max_feeds: int | None = None,
    ) -> tuple[Feed, bool] | None:
        """Adds the feed, or updates it and clears its broken mark. Returns it and whether it is new;
        None, changing nothing, when it would be new and the guild already has `max_feeds`. A
        `feed_filter` of None keeps an existing feed's filter (a new feed gets none).

        A new feed starts at the end of the outbox: it mirrors what happens from now on.
        """
        async with self._db.write() as conn:
            async with conn.execute(
                "SELECT id FROM feeds WHERE channel_id = ? AND community = ?", (channel_id, community)
            ) as cur:
                existing = await cur.fetchone()
            if existing is None and max_feeds is not None:
                # Counted in the write transaction: two /feed add at once cannot both pass the cap.
                async with conn.execute("SELECT count(*) FROM feeds WHERE guild_id = ?", (guild_id,)) as cur:
                    row = await cur.fetchone()
                if row is not None and int(row[0]) >= max_feeds:
                    return None
            options: tuple[object, ...] = (
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
                if feed_filter is not None:
                    await conn.execute(
                        "UPDATE feeds SET filter_tags = ?, filter_exclude_tags = ?, filter_authors = ?,"
                        " filter_exclude_authors = ?, filter_min_reputation = ? WHERE id = ?",
                        (*filter_values(feed_filter), feed_id),
                    )
            else:
                options += filter_values(feed_filter or NO_FILTER)
                cur = await conn.execute(
                    "INSERT INTO feeds (guild_id, channel_id, community, posts, votes, curators, badges, role_id,"
                    " threads, mute, mention_authors, filter_tags, filter_exclude_tags, filter_authors,"
                    " filter_exclude_authors, filter_min_reputation, outbox_cursor, created_by, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                    " (SELECT coalesce(max(id), 0) FROM outbox), ?, ?) RETURNING id",
                    (guild_id, channel_id, community, *options, created_by, at),
                )
                feed_id = int((await cur.fetchall())[0][0])
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
            return int(cur.rowcount)

    async def feeds_of_guild(self, guild_id: int) -> list[Feed]:
        async with self._db.reader.execute(
            f"SELECT {FEED_COLUMNS} FROM feeds WHERE guild_id = ? ORDER BY community, channel_id", (guild_id,)
        ) as cur:
            return [feed_from_row(r) for r in await cur.fetchall()]

    async def alert_lane(self, guild_id: int | None, community: str, post_id: int, fallback: int | None) -> int | None:
        return await alert_lane(self._db.reader, guild_id, community, post_id, fallback)

    async def feed_in(self, channel_id: int, community: str) -> Feed | None:
        """The channel's feed of the community, if it has one (its filter shapes /feed test)."""
        async with self._db.reader.execute(
            f"SELECT {FEED_COLUMNS} FROM feeds WHERE channel_id = ? AND community = ?", (channel_id, community)
        ) as cur:
            row = await cur.fetchone()
        return feed_from_row(row) if row else None

    async def reputation_communities(self) -> set[str]:
        """Communities with a feed that filters by reputation: their new posts' authors are looked up."""
        async with self._db.reader.execute(
            "SELECT DISTINCT community FROM feeds WHERE filter_min_reputation IS NOT NULL"
        ) as cur:
            return {str(r["community"]) for r in await cur.fetchall()}

    async def followed_communities(self) -> set[str]:
        async with self._db.reader.execute("SELECT DISTINCT community FROM feeds") as cur:
            return {str(r["community"]) for r in await cur.fetchall()}

    async def feed(self, feed_id: int) -> Feed | None:
        async with self._db.reader.execute(f"SELECT {FEED_COLUMNS} FROM feeds WHERE id = ?", (feed_id,)) as cur:
            row = await cur.fetchone()
        return feed_from_row(row) if row else None
