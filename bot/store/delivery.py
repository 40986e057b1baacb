"""Feeds, the jobs owed to each channel, and the messages that mirror posts: the Discord side's SQL."""

from __future__ import annotations

import json
import secrets
import time
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
    last_error: str | None = None  # the last send Discord rejected (400), as Discord put it


_FEED_COLUMNS = (
    "id, guild_id, channel_id, community, posts, votes, curators, badges, role_id, outbox_cursor, broken, last_error"
)
# Sends of one feed rejected in a row with the same code before the feed is marked broken.
REJECTS_TO_BREAK = 3


def _feed(row: Any) -> Feed:
    r = tuple(row)
    return Feed(r[0], r[1], r[2], r[3], bool(r[4]), r[5], tuple(json.loads(r[6])), bool(r[7]), r[8], r[9], r[10], r[11])


@dataclass(frozen=True, slots=True)
class LaneCounts:
    """Delivery lanes in use by state, and sends Discord rejected (400) recently: for /status."""

    ok: int
    backoff: int
    refused: int
    rejected: int


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
        """Whether the channel shows (or will show) the post. Mirrors are kept and finished jobs are
        pruned, so a delivered post is known by its mirror, one still owed by its pending job."""
        async with self._conn.execute(
            "SELECT 1 FROM mirrors WHERE channel_id = ? AND post_id = ?"
            " UNION ALL SELECT 1 FROM jobs WHERE channel_id = ? AND post_id = ? AND action = 'post'"
            " AND state = 'pending' LIMIT 1",
            (channel_id, post_id, channel_id, post_id),
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
                    "UPDATE feeds SET posts = ?, votes = ?, curators = ?, badges = ?, role_id = ?, broken = NULL,"
                    " error_streak = 0 WHERE id = ?",
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
            # Adding a feed (again) says the channel was fixed: its lane may try again now.
            await conn.execute("DELETE FROM lanes WHERE lane_id = ?", (channel_id,))
            async with conn.execute(f"SELECT {_FEED_COLUMNS} FROM feeds WHERE id = ?", (feed_id,)) as cur:
                row = await cur.fetchone()
        return _feed(row), not existing

    async def backfill(self, feed: Feed, count: int) -> int:
        """Queues the feed's community's latest `count` stored posts, oldest first. Returns how many."""
        async with self._store.write() as conn:
            async with conn.execute(
                "SELECT id FROM posts WHERE community = ? AND deleted = 0 AND id NOT IN"
                " (SELECT post_id FROM jobs WHERE channel_id = ? AND action = 'post' AND post_id IS NOT NULL)"
                " AND id NOT IN (SELECT post_id FROM mirrors WHERE channel_id = ?)"
                " ORDER BY created_at DESC, id DESC LIMIT ?",
                (feed.community, feed.channel_id, feed.channel_id, count),
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

    async def channels_with_work(self, now: float) -> list[int]:
        """Lanes with pending jobs that may be sent now: not refused, not backing off, and not
        only jobs of broken feeds (DM and alert jobs have no feed)."""
        async with self._reader.execute(
            "SELECT DISTINCT j.channel_id FROM jobs j LEFT JOIN feeds f ON f.id = j.feed_id"
            " LEFT JOIN lanes l ON l.lane_id = j.channel_id"
            " WHERE j.state = 'pending' AND (f.id IS NULL OR f.broken IS NULL)"
            " AND (l.lane_id IS NULL OR (l.state != 'refused' AND l.retry_at <= ?))",
            (now,),
        ) as cur:
            return [int(r[0]) for r in await cur.fetchall()]

    async def next_job(self, channel_id: int) -> Job | None:
        """The lane's oldest pending job, passing over those of a broken feed (they wait for it)."""
        async with self._reader.execute(
            "SELECT j.id, j.channel_id, j.feed_id, j.action, j.post_id, j.badge_id, j.user_id, j.detail, j.attempts"
            " FROM jobs j LEFT JOIN feeds f ON f.id = j.feed_id"
            " WHERE j.channel_id = ? AND j.state = 'pending' AND (f.id IS NULL OR f.broken IS NULL)"
            " ORDER BY j.id LIMIT 1",
            (channel_id,),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return await self._job(row)

    async def _job(self, row: Any) -> Job:
        r = tuple(row)
        salt = self._salt or await self._salt_for_nonces()
        # Discord keeps a nonce for a few minutes and caps it at 25 characters.
        nonce = f"hc{salt}{r[0]}"
        return Job(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]) if r[7] else None, nonce, r[8])

    async def pending_jobs(self, channel_id: int) -> list[Job]:
        """Every pending job of a lane, in order (a refused DM lane hands them all to the fallback)."""
        async with self._reader.execute(
            "SELECT id, channel_id, feed_id, action, post_id, badge_id, user_id, detail, attempts FROM jobs"
            " WHERE channel_id = ? AND state = 'pending' ORDER BY id",
            (channel_id,),
        ) as cur:
            rows = await cur.fetchall()
        return [await self._job(r) for r in rows]

    async def stale_mirrors(self, refreshed_before: float, now: float, limit: int = 20) -> list[tuple[int, int, int]]:
        """(channel_id, post_id, message_id) of mirrors whose vote count is stale and due a refresh,
        in lanes that may be sent to now."""
        async with self._reader.execute(
            "SELECT m.channel_id, m.post_id, m.message_id FROM mirrors m"
            " WHERE m.stale = 1 AND m.refreshed_at < ?"
            " AND NOT EXISTS (SELECT 1 FROM feeds f WHERE f.channel_id = m.channel_id AND f.broken IS NOT NULL)"
            " AND NOT EXISTS (SELECT 1 FROM lanes l WHERE l.lane_id = m.channel_id"
            " AND (l.state = 'refused' OR l.retry_at > ?))"
            " ORDER BY m.refreshed_at LIMIT ?",
            (refreshed_before, now, limit),
        ) as cur:
            return [(int(r[0]), int(r[1]), int(r[2])) for r in await cur.fetchall()]

    async def mirror_refreshed(self, channel_id: int, post_id: int, at: float) -> None:
        async with self._store.write() as conn:
            await conn.execute(
                "UPDATE mirrors SET stale = 0, refreshed_at = ? WHERE channel_id = ? AND post_id = ?",
                (at, channel_id, post_id),
            )
            await self._lane_answered(conn, channel_id)

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
        """Records what Discord answered, in one transaction with the mirror it creates; an answer
        also says the lane is healthy again."""
        async with self._store.write() as conn:
            await conn.execute(
                "UPDATE jobs SET state = 'done', message_id = ?, finished_at = ? WHERE id = ?",
                (message_id, time.time(), job.id),
            )
            if mirrors_post and message_id is not None and job.post_id is not None:
                await conn.execute(
                    "INSERT INTO mirrors (channel_id, post_id, message_id) VALUES (?, ?, ?)"
                    " ON CONFLICT (channel_id, post_id) DO UPDATE SET message_id = excluded.message_id",
                    (job.channel_id, job.post_id, message_id),
                )
            await self._lane_answered(conn, job.channel_id)
            if job.feed_id is not None:
                await conn.execute(
                    "UPDATE feeds SET error_streak = 0 WHERE id = ? AND error_streak > 0", (job.feed_id,)
                )

    async def dm_refused(self, job: Job, fallback_channel: int | None, user_id: int) -> None:
        """DMs closed: this alert becomes one mention in the server instead, and the member is marked."""
        async with self._store.write() as conn:
            await conn.execute(
                "UPDATE jobs SET state = 'dropped', last_error = 'DMs closed (50007)', finished_at = ? WHERE id = ?",
                (time.time(), job.id),
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
            await conn.execute(
                "UPDATE jobs SET state = 'dropped', last_error = ?, finished_at = ? WHERE id = ?",
                (reason, time.time(), job.id),
            )

    async def reject_job(self, job: Job, status: int, code: int, message: str) -> str | None:
        """Discord rejected this message (400): dropped with Discord's error, shown on its feed.

        Returns the reason the feed is now broken for, when its sends keep being rejected the same way.
        """
        error = f"{status} {code}: {message}"[:300]
        broken = None
        async with self._store.write() as conn:
            await conn.execute(
                "UPDATE jobs SET state = 'dropped', last_error = ?, error_status = ?, error_code = ?, finished_at = ?"
                " WHERE id = ?",
                (error, status, code, time.time(), job.id),
            )
            # Discord answered: the lane itself is fine.
            await self._lane_answered(conn, job.channel_id)
            if job.feed_id is None:
                return None
            async with conn.execute("SELECT error_code, error_streak FROM feeds WHERE id = ?", (job.feed_id,)) as cur:
                row = await cur.fetchone()
            if row is None:
                return None
            streak = int(row[1]) + 1 if row[0] == code else 1
            if streak >= REJECTS_TO_BREAK:
                broken = f"Discord rejected {streak} sends in a row ({error})"[:300]
            await conn.execute(
                "UPDATE feeds SET last_error = ?, error_code = ?, error_streak = ?, broken = coalesce(?, broken)"
                " WHERE id = ?",
                (error, code, streak, broken, job.feed_id),
            )
        return broken

    # Lanes -------------------------------------------------------------------------------------

    @staticmethod
    async def _lane_answered(conn: aiosqlite.Connection, lane: int) -> None:
        """Discord answered a send in the lane: it is healthy again, unless a send racing this one
        was refused (the refusal stands until something changes)."""
        await conn.execute("DELETE FROM lanes WHERE lane_id = ? AND state != 'refused'", (lane,))

    async def lane_may_send(self, lane: int, now: float) -> bool:
        async with self._reader.execute(
            "SELECT 1 FROM lanes WHERE lane_id = ? AND (state = 'refused' OR retry_at > ?)", (lane, now)
        ) as cur:
            return await cur.fetchone() is None

    async def lane_failed(
        self, lane: int, reason: str, *, base: float, cap: float, now: float, job: Job | None = None
    ) -> float:
        """A failure worth another try: the lane backs off (doubling, capped). Returns the delay."""
        async with self._store.write() as conn:
            async with conn.execute("SELECT failures FROM lanes WHERE lane_id = ?", (lane,)) as cur:
                row = await cur.fetchone()
            failures = (int(row[0]) if row else 0) + 1
            delay = min(cap, base * 2.0 ** min(failures - 1, 30))
            await conn.execute(
                "INSERT INTO lanes (lane_id, state, failures, retry_at, reason) VALUES (?, 'backoff', ?, ?, ?)"
                " ON CONFLICT (lane_id) DO UPDATE SET state = 'backoff', failures = excluded.failures,"
                " retry_at = excluded.retry_at, reason = excluded.reason, refused_at = NULL",
                (lane, failures, now + delay, reason[:300]),
            )
            if job is not None:
                await conn.execute(
                    "UPDATE jobs SET attempts = attempts + 1, last_error = ? WHERE id = ?", (reason[:300], job.id)
                )
        return delay

    async def lane_refused(self, lane: int, reason: str, now: float) -> None:
        """Discord refused the lane (403/404): nothing goes there until something changes. Its feeds
        show why; their jobs stay pending."""
        async with self._store.write() as conn:
            await conn.execute(
                "INSERT INTO lanes (lane_id, state, failures, retry_at, reason, refused_at)"
                " VALUES (?, 'refused', 1, 0, ?, ?)"
                " ON CONFLICT (lane_id) DO UPDATE SET state = 'refused', failures = failures + 1, retry_at = 0,"
                " reason = excluded.reason, refused_at = excluded.refused_at",
                (lane, reason[:300], now),
            )
            if lane >= 0:
                await conn.execute("UPDATE feeds SET broken = ? WHERE channel_id = ?", (reason[:300], lane))

    async def refused_lanes(self) -> list[int]:
        async with self._reader.execute("SELECT lane_id FROM lanes WHERE state = 'refused'") as cur:
            return [int(r[0]) for r in await cur.fetchall()]

    async def release_lanes(self, lanes: Sequence[int]) -> int:
        """Something changed (permissions, the member came back): each refused lane of `lanes` gets
        one more try, and its feeds are shown healthy until that try says otherwise. Returns how many."""
        refused = set(await self.refused_lanes()) & set(lanes)
        if not refused:
            return 0
        async with self._store.write() as conn:
            for lane in refused:
                await conn.execute(
                    "UPDATE lanes SET state = 'backoff', retry_at = 0 WHERE lane_id = ? AND state = 'refused'", (lane,)
                )
                if lane >= 0:
                    await conn.execute("UPDATE feeds SET broken = NULL WHERE channel_id = ?", (lane,))
        return len(refused)

    async def member_lanes(self, user_id: int) -> list[int]:
        """The lanes that reach a member directly: their DM lane, their DM channel, and the channels
        they subscribed from outside a server (a DM channel)."""
        async with self._reader.execute(
            "SELECT channel_id FROM dm_channels WHERE user_id = ?"
            " UNION SELECT channel_id FROM subscriptions WHERE user_id = ? AND guild_id IS NULL"
            " AND channel_id IS NOT NULL",
            (user_id, user_id),
        ) as cur:
            return [-user_id, *(int(r[0]) for r in await cur.fetchall())]

    async def lane_counts(self, now: float, rejected_since: float) -> LaneCounts:
        """Lanes in use (a feed's channel, pending work, or a known state) by state."""
        async with self._reader.execute(
            "WITH used (lane) AS (SELECT channel_id FROM feeds UNION SELECT channel_id FROM jobs"
            " WHERE state = 'pending' UNION SELECT lane_id FROM lanes)"
            " SELECT CASE WHEN l.state = 'refused' THEN 'refused'"
            " WHEN l.state = 'backoff' AND l.retry_at > ? THEN 'backoff' ELSE 'ok' END, count(*)"
            " FROM used u LEFT JOIN lanes l ON l.lane_id = u.lane GROUP BY 1",
            (now,),
        ) as cur:
            counts = {str(r[0]): int(r[1]) for r in await cur.fetchall()}
        async with self._reader.execute(
            "SELECT count(*) FROM jobs WHERE error_status IS NOT NULL AND finished_at >= ?", (rejected_since,)
        ) as cur:
            row = await cur.fetchone()
        rejected = int(row[0]) if row else 0
        return LaneCounts(counts.get("ok", 0), counts.get("backoff", 0), counts.get("refused", 0), rejected)

    # Housekeeping ------------------------------------------------------------------------------

    async def prune(self, finished_before: float, chain_time_before: str) -> tuple[int, int]:
        """Deletes finished jobs and delivered outbox rows older than the retention. Returns counts.

        Outbox rows go only once every feed cursor and the alerts cursor have passed them, and the
        newest row always stays: SQLite would otherwise hand out its id again. Mirrors stay (edits
        and vote counts find their message through them).
        """
        async with self._store.write() as conn:
            cur = await conn.execute(
                "DELETE FROM jobs WHERE state != 'pending' AND finished_at < ?", (finished_before,)
            )
            jobs = cur.rowcount
            async with conn.execute(
                "SELECT min(c) FROM (SELECT outbox_cursor AS c FROM feeds"
                " UNION ALL SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'alerts_cursor'"
                " UNION ALL SELECT max(id) FROM outbox)"
            ) as c:
                row = await c.fetchone()
            passed = int(row[0]) if row and row[0] is not None else 0
            cur = await conn.execute("DELETE FROM outbox WHERE id < ? AND at < ?", (passed, chain_time_before))
            outbox = cur.rowcount
        return jobs, outbox
