"""Feeds, the jobs owed to each channel, and the messages that mirror posts: the Discord side's SQL."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import aiosqlite

from bot.store.subscriptions import Subscription, subscribers

if TYPE_CHECKING:
    from bot.store.store import Store

VoteMode = Literal["off", "curators", "all"]


@dataclass(frozen=True, slots=True)
class Feed:
    id: int
    guild_id: int
    channel_id: int
    community: str
    posts: bool
    votes: VoteMode
    curators: tuple[str, ...]
    badges: bool
    role_id: int | None
    outbox_cursor: int
    broken: str | None


_FEED_COLUMNS = "id, guild_id, channel_id, community, posts, votes, curators, badges, role_id, outbox_cursor, broken"


def _feed(row: Any) -> Feed:
    r = tuple(row)
    return Feed(r[0], r[1], r[2], r[3], bool(r[4]), r[5], tuple(json.loads(r[6])), bool(r[7]), r[8], r[9], r[10])


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    kind: str
    community: str | None
    post_id: int | None
    badge_id: int | None
    voter: str | None
    weight: int | None
    block_num: int
    at: str


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    channel_id: int
    feed_id: int | None
    action: str
    post_id: int | None
    badge_id: int | None
    user_id: int | None
    detail: Any
    nonce: str
    attempts: int


async def feed_channel(conn: aiosqlite.Connection, guild_id: int | None, community: str) -> int | None:
    """A guild's healthy feed channel for a community: where a subscriber's mention belongs."""
    if guild_id is None:
        return None
    async with conn.execute(
        "SELECT channel_id FROM feeds WHERE guild_id = ? AND community = ? AND broken IS NULL ORDER BY id LIMIT 1",
        (guild_id, community),
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else None


class Planner:
    """The statements of one planning pass, inside one transaction (see bot/delivery/planner.py)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def feeds(self) -> list[Feed]:
        async with self._conn.execute(f"SELECT {_FEED_COLUMNS} FROM feeds ORDER BY id") as cur:
            return [_feed(r) for r in await cur.fetchall()]

    async def outbox_after(self, after: int, community: str, limit: int) -> list[OutboxRow]:
        """Rows of one community (badges carry none and are read for every feed) past a feed's cursor."""
        async with self._conn.execute(
            "SELECT id, kind, community, post_id, badge_id, voter, weight, block_num, at FROM outbox"
            " WHERE id > ? AND (community = ? OR kind = 'badge') ORDER BY id LIMIT ?",
            (after, community, limit),
        ) as cur:
            return [OutboxRow(*r) for r in await cur.fetchall()]

    async def last_outbox_id(self) -> int:
        async with self._conn.execute("SELECT coalesce(max(id), 0) FROM outbox") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def set_feed_cursor(self, feed_id: int, outbox_id: int) -> None:
        await self._conn.execute("UPDATE feeds SET outbox_cursor = ? WHERE id = ?", (outbox_id, feed_id))

    async def has_post_job(self, channel_id: int, post_id: int) -> bool:
        async with self._conn.execute(
            "SELECT 1 FROM jobs WHERE channel_id = ? AND post_id = ? AND action = 'post'"
            " AND state != 'dropped' LIMIT 1",
            (channel_id, post_id),
        ) as cur:
            return await cur.fetchone() is not None

    async def badge_recipient_posted_in(self, badge_id: int, community: str) -> bool:
        async with self._conn.execute(
            "SELECT 1 FROM badges b JOIN posts p ON p.author = b.recipient WHERE b.id = ? AND p.community = ? LIMIT 1",
            (badge_id, community),
        ) as cur:
            return await cur.fetchone() is not None

    async def community_team(self, community: str) -> tuple[str, ...]:
        async with self._conn.execute("SELECT team FROM communities WHERE name = ?", (community,)) as cur:
            row = await cur.fetchone()
        return tuple(json.loads(row[0])) if row else ()

    async def add_job(
        self,
        channel_id: int,
        action: str,
        *,
        feed_id: int | None = None,
        post_id: int | None = None,
        badge_id: int | None = None,
        user_id: int | None = None,
        detail: Any = None,
    ) -> int:
        cur = await self._conn.execute(
            "INSERT INTO jobs (channel_id, feed_id, action, post_id, badge_id, user_id, detail)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                channel_id,
                feed_id,
                action,
                post_id,
                badge_id,
                user_id,
                None if detail is None else json.dumps(detail),
            ),
        )
        job_id = cur.lastrowid
        assert job_id is not None
        return job_id

    async def add_alerts(self, rows: list[tuple[int, int, int, Any]]) -> None:
        """(lane, post_id, user_id, detail) alert jobs at once: a review can have thousands of subscribers."""
        await self._conn.executemany(
            "INSERT INTO jobs (channel_id, action, post_id, user_id, detail) VALUES (?, 'alert', ?, ?, ?)",
            [(lane, post_id, user_id, json.dumps(detail)) for lane, post_id, user_id, detail in rows],
        )

    async def mark_mirror_stale(self, channel_id: int, post_id: int) -> None:
        """A vote arrived: the mirrored embed's vote count wants a refresh."""
        await self._conn.execute(
            "UPDATE mirrors SET stale = 1 WHERE channel_id = ? AND post_id = ?", (channel_id, post_id)
        )

    async def vote_window(self, feed_id: int, post_id: int) -> tuple[str, list[list[Any]]] | None:
        async with self._conn.execute(
            "SELECT opens_at, voters FROM vote_windows WHERE feed_id = ? AND post_id = ?", (feed_id, post_id)
        ) as cur:
            row = await cur.fetchone()
        return (row[0], json.loads(row[1])) if row else None

    async def save_vote_window(self, feed_id: int, post_id: int, opens_at: str, voters: list[list[Any]]) -> None:
        await self._conn.execute(
            "INSERT INTO vote_windows (feed_id, post_id, opens_at, voters) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (feed_id, post_id) DO UPDATE SET opens_at = excluded.opens_at, voters = excluded.voters",
            (feed_id, post_id, opens_at, json.dumps(voters)),
        )

    async def close_vote_window(self, feed_id: int, post_id: int) -> None:
        await self._conn.execute("DELETE FROM vote_windows WHERE feed_id = ? AND post_id = ?", (feed_id, post_id))

    async def vote_windows_opened_before(self, at: str) -> list[tuple[int, int, str, list[list[Any]]]]:
        async with self._conn.execute(
            "SELECT feed_id, post_id, opens_at, voters FROM vote_windows WHERE opens_at < ? ORDER BY opens_at, post_id",
            (at,),
        ) as cur:
            return [(r[0], r[1], r[2], json.loads(r[3])) for r in await cur.fetchall()]

    async def alerts_cursor(self) -> int | None:
        async with self._conn.execute("SELECT value FROM meta WHERE key = 'alerts_cursor'") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else None

    async def set_alerts_cursor(self, outbox_id: int) -> None:
        await self._conn.execute(
            "INSERT INTO meta (key, value) VALUES ('alerts_cursor', ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(outbox_id),),
        )

    async def new_reviews_after(self, after: int, limit: int) -> list[tuple[int, int, str, str]]:
        """(outbox id, post id, series key, community) of new posts with a series, past `after`."""
        async with self._conn.execute(
            "SELECT o.id, p.id, p.series_key, p.community FROM outbox o JOIN posts p ON p.id = o.post_id"
            " WHERE o.id > ? AND o.kind = 'post_created' AND p.series_key IS NOT NULL ORDER BY o.id LIMIT ?",
            (after, limit),
        ) as cur:
            return [(int(r[0]), int(r[1]), str(r[2]), str(r[3])) for r in await cur.fetchall()]

    async def subscribers(self, series_key: str) -> list[Subscription]:
        return await subscribers(self._conn, series_key)

    async def closed_dms(self) -> set[int]:
        async with self._conn.execute("SELECT user_id FROM dm_closed") as cur:
            return {int(r[0]) for r in await cur.fetchall()}

    async def feed_channel(self, guild_id: int | None, community: str) -> int | None:
        return await feed_channel(self._conn, guild_id, community)

    async def chain_time(self) -> str:
        async with self._conn.execute("SELECT value FROM meta WHERE key = 'cursor_time'") as cur:
            row = await cur.fetchone()
        return str(row[0]) if row else ""


class DeliveryTables:
    """Named operations on feeds, jobs and mirrors; shares the store's connections and write lock."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._salt = ""

    @property
    def _reader(self) -> aiosqlite.Connection:
        return self._store._reader

    async def _salt_for_nonces(self) -> str:
        async with self._store.write() as conn:
            self._salt = await self._nonce_salt(conn)
        return self._salt

    async def _nonce_salt(self, conn: aiosqlite.Connection) -> str:
        # A per-database salt keeps nonces distinct if the database is ever recreated.
        async with conn.execute("SELECT value FROM meta WHERE key = 'nonce_salt'") as cur:
            row = await cur.fetchone()
        if row:
            return str(row[0])
        salt = secrets.token_hex(3)
        await conn.execute("INSERT INTO meta (key, value) VALUES ('nonce_salt', ?)", (salt,))
        return salt

    @asynccontextmanager
    async def planning(self) -> AsyncIterator[Planner]:
        async with self._store.write() as conn:
            await self._nonce_salt(conn)
            yield Planner(conn)

    # Feeds -------------------------------------------------------------------------------------

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
    ) -> tuple[Feed, bool]:
        """Adds the feed, or updates it and clears its broken mark. Returns it and whether it is new.

        A new feed starts at the end of the outbox: it mirrors what happens from now on.
        """
        async with self._store.write() as conn:
            async with conn.execute(
                "SELECT id FROM feeds WHERE channel_id = ? AND community = ?", (channel_id, community)
            ) as cur:
                existing = await cur.fetchone()
            if existing:
                await conn.execute(
                    "UPDATE feeds SET posts = ?, votes = ?, curators = ?, badges = ?, role_id = ?, broken = NULL"
                    " WHERE id = ?",
                    (int(posts), votes, json.dumps(list(curators)), int(badges), role_id, existing[0]),
                )
                feed_id = int(existing[0])
            else:
                cur = await conn.execute(
                    "INSERT INTO feeds (guild_id, channel_id, community, posts, votes, curators, badges, role_id,"
                    " outbox_cursor, created_by, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, (SELECT coalesce(max(id), 0) FROM outbox), ?, ?)",
                    (
                        guild_id,
                        channel_id,
                        community,
                        int(posts),
                        votes,
                        json.dumps(list(curators)),
                        int(badges),
                        role_id,
                        created_by,
                        at,
                    ),
                )
                assert cur.lastrowid is not None
                feed_id = cur.lastrowid
            async with conn.execute(f"SELECT {_FEED_COLUMNS} FROM feeds WHERE id = ?", (feed_id,)) as cur:
                row = await cur.fetchone()
        return _feed(row), not existing

    async def backfill(self, feed: Feed, count: int) -> int:
        """Queues the feed's community's latest `count` stored posts, oldest first. Returns how many."""
        async with self._store.write() as conn:
            async with conn.execute(
                "SELECT id FROM posts WHERE community = ? AND deleted = 0 AND id NOT IN"
                " (SELECT post_id FROM jobs WHERE channel_id = ? AND action = 'post' AND post_id IS NOT NULL)"
                " ORDER BY created_at DESC, id DESC LIMIT ?",
                (feed.community, feed.channel_id, count),
            ) as cur:
                post_ids = [int(r[0]) for r in await cur.fetchall()]
            planner = Planner(conn)
            for post_id in reversed(post_ids):
                await planner.add_job(feed.channel_id, "post", feed_id=feed.id, post_id=post_id)
        return len(post_ids)

    async def remove_feeds(self, guild_id: int, community: str, channel_id: int | None) -> int:
        async with self._store.write() as conn:
            args: tuple[Any, ...] = (guild_id, community)
            sql = "DELETE FROM feeds WHERE guild_id = ? AND community = ?"
            if channel_id is not None:
                sql += " AND channel_id = ?"
                args += (channel_id,)
            # Jobs owed to a removed feed go with it (ON DELETE CASCADE).
            cur = await conn.execute(sql, args)
            return cur.rowcount

    async def feeds_of_guild(self, guild_id: int) -> list[Feed]:
        async with self._reader.execute(
            f"SELECT {_FEED_COLUMNS} FROM feeds WHERE guild_id = ? ORDER BY community, channel_id", (guild_id,)
        ) as cur:
            return [_feed(r) for r in await cur.fetchall()]

    async def feed_channel_of(self, guild_id: int | None, community: str) -> int | None:
        return await feed_channel(self._reader, guild_id, community)

    async def followed_communities(self) -> set[str]:
        async with self._reader.execute("SELECT DISTINCT community FROM feeds") as cur:
            return {str(r[0]) for r in await cur.fetchall()}

    async def feed(self, feed_id: int) -> Feed | None:
        async with self._reader.execute(f"SELECT {_FEED_COLUMNS} FROM feeds WHERE id = ?", (feed_id,)) as cur:
            row = await cur.fetchone()
        return _feed(row) if row else None

    async def mark_channel_broken(self, channel_id: int, reason: str) -> None:
        async with self._store.write() as conn:
            await conn.execute("UPDATE feeds SET broken = ? WHERE channel_id = ?", (reason, channel_id))

    async def save_community(self, name: str, title: str, team: Sequence[str], at: str) -> None:
        async with self._store.write() as conn:
            await conn.execute(
                "INSERT INTO communities (name, title, team, fetched_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET title = excluded.title, team = excluded.team,"
                " fetched_at = excluded.fetched_at",
                (name, title, json.dumps(list(team)), at),
            )

    async def community_title(self, name: str) -> str | None:
        async with self._reader.execute("SELECT title FROM communities WHERE name = ?", (name,)) as cur:
            row = await cur.fetchone()
        return str(row[0]) if row else None

    # Jobs --------------------------------------------------------------------------------------

    async def channels_with_work(self) -> list[int]:
        """Channels with pending jobs whose feeds are not broken (DM and alert jobs have no feed)."""
        async with self._reader.execute(
            "SELECT DISTINCT j.channel_id FROM jobs j LEFT JOIN feeds f ON f.id = j.feed_id"
            " WHERE j.state = 'pending' AND (f.id IS NULL OR f.broken IS NULL)"
        ) as cur:
            return [int(r[0]) for r in await cur.fetchall()]

    async def next_job(self, channel_id: int) -> Job | None:
        async with self._reader.execute(
            "SELECT id, channel_id, feed_id, action, post_id, badge_id, user_id, detail, attempts FROM jobs"
            " WHERE channel_id = ? AND state = 'pending' ORDER BY id LIMIT 1",
            (channel_id,),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        r = tuple(row)
        salt = self._salt or await self._salt_for_nonces()
        # Discord keeps a nonce for a few minutes and caps it at 25 characters.
        nonce = f"hc{salt}{r[0]}"
        return Job(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]) if r[7] else None, nonce, r[8])

    async def stale_mirrors(self, refreshed_before: float, limit: int = 20) -> list[tuple[int, int, int]]:
        """(channel_id, post_id, message_id) of mirrors whose vote count is stale and due a refresh."""
        async with self._reader.execute(
            "SELECT m.channel_id, m.post_id, m.message_id FROM mirrors m"
            " WHERE m.stale = 1 AND m.refreshed_at < ?"
            " AND NOT EXISTS (SELECT 1 FROM feeds f WHERE f.channel_id = m.channel_id AND f.broken IS NOT NULL)"
            " ORDER BY m.refreshed_at LIMIT ?",
            (refreshed_before, limit),
        ) as cur:
            return [(int(r[0]), int(r[1]), int(r[2])) for r in await cur.fetchall()]

    async def mirror_refreshed(self, channel_id: int, post_id: int, at: float) -> None:
        async with self._store.write() as conn:
            await conn.execute(
                "UPDATE mirrors SET stale = 0, refreshed_at = ? WHERE channel_id = ? AND post_id = ?",
                (at, channel_id, post_id),
            )

    async def pending_count(self) -> int:
        async with self._reader.execute("SELECT count(*) FROM jobs WHERE state = 'pending'") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def mirror(self, channel_id: int, post_id: int) -> int | None:
        async with self._reader.execute(
            "SELECT message_id FROM mirrors WHERE channel_id = ? AND post_id = ?", (channel_id, post_id)
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else None

    async def finish_job(self, job: Job, message_id: int | None, *, mirrors_post: bool = False) -> None:
        """Records what Discord answered, in one transaction with the mirror it creates."""
        async with self._store.write() as conn:
            await conn.execute("UPDATE jobs SET state = 'done', message_id = ? WHERE id = ?", (message_id, job.id))
            if mirrors_post and message_id is not None and job.post_id is not None:
                await conn.execute(
                    "INSERT INTO mirrors (channel_id, post_id, message_id) VALUES (?, ?, ?)"
                    " ON CONFLICT (channel_id, post_id) DO UPDATE SET message_id = excluded.message_id",
                    (job.channel_id, job.post_id, message_id),
                )

    async def dm_refused(self, job: Job, fallback_channel: int | None, user_id: int) -> None:
        """DMs closed: this alert becomes one mention in the server instead, and the member is marked."""
        async with self._store.write() as conn:
            await conn.execute(
                "UPDATE jobs SET state = 'dropped', last_error = 'DMs closed (50007)' WHERE id = ?", (job.id,)
            )
            await conn.execute(
                "INSERT INTO dm_closed (user_id, since) VALUES (?, datetime('now')) ON CONFLICT (user_id) DO NOTHING",
                (user_id,),
            )
            if fallback_channel is not None:
                planner = Planner(conn)
                await planner.add_job(
                    fallback_channel, "alert", post_id=job.post_id, user_id=user_id, detail=job.detail
                )

    async def drop_job(self, job: Job, reason: str) -> None:
        async with self._store.write() as conn:
            await conn.execute("UPDATE jobs SET state = 'dropped', last_error = ? WHERE id = ?", (reason, job.id))

    async def retry_later(self, job: Job, reason: str) -> None:
        async with self._store.write() as conn:
            await conn.execute("UPDATE jobs SET attempts = attempts + 1, last_error = ? WHERE id = ?", (reason, job.id))
