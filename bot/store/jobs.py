"""Jobs owed to each lane, the messages that mirror posts, and the lanes' health (backoff, refusal)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from typing import Any

from bot.domain import Feed, Job, JobAction, dm_lane, is_dm_lane
from bot.process.backoff import doubling
from bot.store.db import nonce_salt
from bot.store.engine import Conn, Db, Row
from bot.store.filters import passing, recent_posts

log = logging.getLogger("hivecord.delivery")

# Sends of one feed rejected in a row with the same code before the feed is marked broken.
REJECTS_TO_BREAK = 3

_JOB_COLUMNS = (
    "j.id, j.channel_id, j.feed_id, j.action, j.post_id, j.badge_id, j.user_id, j.detail, j.attempts, j.reply_id"
)


async def insert_job(
    conn: Conn,
    channel_id: int,
    action: JobAction,
    *,
    feed_id: int | None = None,
    post_id: int | None = None,
    badge_id: int | None = None,
    user_id: int | None = None,
    detail: Any = None,
    reply_id: int | None = None,
) -> int:
    """Queues one job in a lane, inside the caller's write transaction; returns its id."""
    cur = await conn.execute(
        "INSERT INTO jobs (channel_id, feed_id, action, post_id, badge_id, user_id, detail, reply_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            channel_id,
            feed_id,
            action,
            post_id,
            badge_id,
            user_id,
            None if detail is None else json.dumps(detail),
            reply_id,
        ),
    )
    return int((await cur.fetchall())[0][0])


async def lane_answered(conn: Conn, lane: int) -> None:
    """Discord answered a send in the lane: it is healthy again, unless a send racing this one
    was refused (the refusal stands until something changes)."""
    await conn.execute("DELETE FROM lanes WHERE lane_id = ? AND state != 'refused'", (lane,))


class JobTables:
    """Named operations on jobs, mirrors and lanes."""

    def __init__(self, db: Db) -> None:
        self._db = db
        self._salt = ""

    async def _salt_for_nonces(self) -> str:
        async with self._db.write() as conn:
            self._salt = await nonce_salt(conn)
        return self._salt

    async def backfill(self, feed: Feed, count: int) -> int:
        """Queues the feed's community's latest `count` stored posts that pass its filter, oldest first.
        Returns how many."""
        async with self._db.write() as conn:
            recent = await recent_posts(conn, feed.community, feed.filter, not_in_channel=feed.channel_id)
            post_ids = (await passing(conn, feed.filter, recent))[:count]
            for post_id in reversed(post_ids):
                await insert_job(conn, feed.channel_id, "post", feed_id=feed.id, post_id=post_id)
        return len(post_ids)

    # Jobs --------------------------------------------------------------------------------------

    async def channels_with_work(self, now: float) -> list[int]:
        """Lanes with pending jobs that may be sent now: not refused, not backing off, and not
        only jobs of broken feeds (DM and alert jobs have no feed)."""
        async with self._db.reader.execute(
            "SELECT DISTINCT j.channel_id AS lane FROM jobs j LEFT JOIN feeds f ON f.id = j.feed_id"
            " LEFT JOIN lanes l ON l.lane_id = j.channel_id"
            " WHERE j.state = 'pending' AND (f.id IS NULL OR f.broken IS NULL)"
            " AND (l.lane_id IS NULL OR (l.state != 'refused' AND l.retry_at <= ?))",
            (now,),
        ) as cur:
            return [int(r["lane"]) for r in await cur.fetchall()]

    async def next_job(self, channel_id: int) -> Job | None:
        """The lane's oldest pending job, passing over those of a broken feed (they wait for it)."""
        async with self._db.reader.execute(
            f"SELECT {_JOB_COLUMNS} FROM jobs j LEFT JOIN feeds f ON f.id = j.feed_id"
            " WHERE j.channel_id = ? AND j.state = 'pending' AND (f.id IS NULL OR f.broken IS NULL)"
            " ORDER BY j.id LIMIT 1",
            (channel_id,),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return await self._job(row)

    async def _job(self, row: Row) -> Job:
        salt = self._salt or await self._salt_for_nonces()
        # Discord keeps a nonce for a few minutes and caps it at 25 characters.
        nonce = f"hc{salt}{row['id']}"
        return Job(
            id=row["id"],
            channel_id=row["channel_id"],
            feed_id=row["feed_id"],
            action=row["action"],
            post_id=row["post_id"],
            badge_id=row["badge_id"],
            user_id=row["user_id"],
            detail=json.loads(row["detail"]) if row["detail"] else None,
            nonce=nonce,
            attempts=row["attempts"],
            reply_id=row["reply_id"],
        )

    async def pending_jobs(self, channel_id: int) -> list[Job]:
        """Every pending job of a lane, in order (a refused DM lane hands them all to the fallback)."""
        async with self._db.reader.execute(
            f"SELECT {_JOB_COLUMNS} FROM jobs j WHERE j.channel_id = ? AND j.state = 'pending' ORDER BY j.id",
            (channel_id,),
        ) as cur:
            rows = await cur.fetchall()
        return [await self._job(r) for r in rows]

    async def stale_mirrors(self, refreshed_before: float, now: float, limit: int = 20) -> list[tuple[int, int, int]]:
        """(channel_id, post_id, message_id) of mirrors whose vote count is stale and due a refresh,
        in lanes that may be sent to now."""
        async with self._db.reader.execute(
            "SELECT m.channel_id, m.post_id, m.message_id FROM mirrors m"
            " WHERE m.stale = 1 AND m.refreshed_at < ?"
            " AND NOT EXISTS (SELECT 1 FROM feeds f WHERE f.channel_id = m.channel_id AND f.broken IS NOT NULL)"
            " AND NOT EXISTS (SELECT 1 FROM lanes l WHERE l.lane_id = m.channel_id"
            " AND (l.state = 'refused' OR l.retry_at > ?))"
            " ORDER BY m.refreshed_at LIMIT ?",
            (refreshed_before, now, limit),
        ) as cur:
            return [(int(r["channel_id"]), int(r["post_id"]), int(r["message_id"])) for r in await cur.fetchall()]

    async def mirror_refreshed(self, channel_id: int, post_id: int, at: float) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE mirrors SET stale = 0, refreshed_at = ? WHERE channel_id = ? AND post_id = ?",
                (at, channel_id, post_id),
            )
            await lane_answered(conn, channel_id)

    async def mirror(self, channel_id: int, post_id: int) -> int | None:
        async with self._db.reader.execute(
            "SELECT message_id FROM mirrors WHERE channel_id = ? AND post_id = ?", (channel_id, post_id)
        ) as cur:
            row = await cur.fetchone()
        return int(row["message_id"]) if row else None

    async def finish_job(self, job: Job, message_id: int | None, *, mirrors_post: bool = False) -> None:
        """Records what Discord answered, in one transaction with the mirror it creates; an answer
        also says the lane is healthy again."""
        async with self._db.write() as conn:
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
            await lane_answered(conn, job.channel_id)
            if job.feed_id is not None:
                await conn.execute(
                    "UPDATE feeds SET error_streak = 0 WHERE id = ? AND error_streak > 0", (job.feed_id,)
                )

    async def dm_refused(self, job: Job, fallback_channel: int | None, user_id: int) -> None:
        """DMs closed: this alert becomes one mention in the server instead, and the member is marked."""
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE jobs SET state = 'dropped', last_error = 'DMs closed (50007)', finished_at = ? WHERE id = ?",
                (time.time(), job.id),
            )
            await conn.execute(
                "INSERT INTO dm_closed (user_id, since) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING",
                (user_id, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())),
            )
            if fallback_channel is not None:
                await insert_job(
                    conn, fallback_channel, "alert", post_id=job.post_id, user_id=user_id, detail=job.detail
                )

    async def drop_job(self, job: Job, reason: str) -> None:
        """The job will not be sent: recorded with its reason, and said in one log line (nothing goes silently)."""
        about = "".join(
            f", {name} {value}"
            for name, value in (("post", job.post_id), ("reply", job.reply_id), ("user", job.user_id))
            if value is not None
        )
        log.info("lane %d: job %d (%s%s) dropped: %s", job.channel_id, job.id, job.action, about, reason)
        async with self._db.write() as conn:
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
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE jobs SET state = 'dropped', last_error = ?, error_status = ?, error_code = ?, finished_at = ?"
                " WHERE id = ?",
                (error, status, code, time.time(), job.id),
            )
            # Discord answered: the lane itself is fine.
            await lane_answered(conn, job.channel_id)
            if job.feed_id is None:
                return None
            async with conn.execute("SELECT error_code, error_streak FROM feeds WHERE id = ?", (job.feed_id,)) as cur:
                row = await cur.fetchone()
            if row is None:
                return None
            streak = int(row["error_streak"]) + 1 if row["error_code"] == code else 1
            if streak >= REJECTS_TO_BREAK:
                broken = f"Discord rejected {streak} sends in a row ({error})"[:300]
            await conn.execute(
                "UPDATE feeds SET last_error = ?, error_code = ?, error_streak = ?, broken = coalesce(?, broken)"
                " WHERE id = ?",
                (error, code, streak, broken, job.feed_id),
            )
        return broken

    # Lanes -------------------------------------------------------------------------------------

    async def lane_may_send(self, lane: int, now: float) -> bool:
        async with self._db.reader.execute(
            "SELECT 1 FROM lanes WHERE lane_id = ? AND (state = 'refused' OR retry_at > ?)", (lane, now)
        ) as cur:
            return await cur.fetchone() is None

    async def lane_failed(
        self, lane: int, reason: str, *, base: float, cap: float, now: float, job: Job | None = None
    ) -> float:
        """A failure worth another try: the lane backs off (doubling, capped). Returns the delay."""
        async with self._db.write() as conn:
            async with conn.execute("SELECT failures FROM lanes WHERE lane_id = ?", (lane,)) as cur:
                row = await cur.fetchone()
            failures = (int(row["failures"]) if row else 0) + 1
            delay = doubling(base, cap, failures - 1)
            await conn.execute(
                "INSERT INTO lanes (lane_id, state, failures, retry_at, reason) VALUES (?, 'backoff', ?, ?, ?)"
                " ON CONFLICT (lane_id) DO UPDATE SET state = 'backoff', failures = excluded.failures,"
                " retry_at = excluded.retry_at, reason = excluded.reason",
                (lane, failures, now + delay, reason[:300]),
            )
            if job is not None:
                await conn.execute(
                    "UPDATE jobs SET attempts = attempts + 1, last_error = ? WHERE id = ?", (reason[:300], job.id)
                )
        return delay

    async def lane_refused(self, lane: int, reason: str, now: float) -> None:
        """Discord refused the lane (403/404): nothing goes there until something changes. Its feeds
        show why; their jobs stay pending.

        `refused_at` stays through a later backoff, until Discord answers a send (the row goes): so
        a lane's first refusal since then starts `failures` at 1, whatever 429s or 5xx came before
        it, and only a refusal after that counts on (release_lanes paces from the second).
        """
        async with self._db.write() as conn:
            await conn.execute(
                "INSERT INTO lanes (lane_id, state, failures, retry_at, reason, refused_at)"
                " VALUES (?, 'refused', 1, 0, ?, ?)"
                " ON CONFLICT (lane_id) DO UPDATE SET state = 'refused', retry_at = 0,"
                " failures = CASE WHEN lanes.refused_at IS NULL THEN 1 ELSE lanes.failures + 1 END,"
                " reason = excluded.reason, refused_at = excluded.refused_at",
                (lane, reason[:300], now),
            )
            if not is_dm_lane(lane):
                await conn.execute("UPDATE feeds SET broken = ? WHERE channel_id = ?", (reason[:300], lane))

    async def retries_due(self, lanes: Sequence[int], now: float) -> dict[int, float]:
        """When each of `lanes` that waits for a retry (backing off, or released after a refusal)
        may send again."""
        marks = ",".join("?" * len(lanes))
        async with self._db.reader.execute(
            f"SELECT lane_id, retry_at FROM lanes WHERE state = 'backoff' AND retry_at > ? AND lane_id IN ({marks})",
            (now, *lanes),
        ) as cur:
            return {int(r["lane_id"]): float(r["retry_at"]) for r in await cur.fetchall()}

    async def refused_lanes(self) -> list[int]:
        async with self._db.reader.execute("SELECT lane_id FROM lanes WHERE state = 'refused'") as cur:
            return [int(r["lane_id"]) for r in await cur.fetchall()]

    async def release_lanes(self, lanes: Sequence[int], *, now: float, every: float) -> int:
        """Something changed (permissions, the member came back, `/feed add`): each refused lane of
        `lanes` gets one more try, and its feeds are unbroken (/feed list shows when the try is due).

        The first try after a lane's first refusal goes at once; a lane refused again is tried at
        most once per `every` seconds after its last refusal, however many changes arrive (each is
        one probe Discord answers 403/404, and those count towards its ban of the IP). Persisted with
        the lane, so neither a restart nor a `/feed add` resets the pace. Returns how many lanes may
        try now.
        """
        refused = set(await self.refused_lanes()) & set(lanes)
        if not refused:
            return 0
        at_once = 0
        async with self._db.write() as conn:
            for lane in refused:
                async with conn.execute(
                    "UPDATE lanes SET state = 'backoff', retry_at = CASE WHEN failures <= 1 THEN 0"
                    " WHEN coalesce(refused_at, 0) + ? > ? THEN coalesce(refused_at, 0) + ? ELSE ? END"
                    " WHERE lane_id = ? AND state = 'refused' RETURNING retry_at",
                    (every, now, every, now, lane),
                ) as cur:
                    row = await cur.fetchone()
                if row is None:
                    continue
                at_once += float(row["retry_at"]) <= now
                if not is_dm_lane(lane):
                    # A broken feed's jobs are not listed for sending: the probe needs it unbroken.
                    await conn.execute("UPDATE feeds SET broken = NULL WHERE channel_id = ?", (lane,))
        return at_once

    async def member_lanes(self, user_id: int) -> list[int]:
        """The lanes that reach a member directly: their DM lane, their DM channel, and the channels
        they subscribed from outside a server (a DM channel)."""
        async with self._db.reader.execute(
            "SELECT channel_id AS lane FROM dm_channels WHERE user_id = ?"
            " UNION SELECT channel_id FROM subscriptions WHERE user_id = ? AND guild_id IS NULL"
            " AND channel_id IS NOT NULL",
            (user_id, user_id),
        ) as cur:
            return [dm_lane(user_id), *(int(r["lane"]) for r in await cur.fetchall())]

    # Housekeeping ------------------------------------------------------------------------------

    async def prune(self, finished_before: float, chain_time_before: str) -> tuple[int, int]:
        """Deletes finished jobs and delivered outbox rows older than the retention. Returns counts.

        Outbox rows go only once every feed cursor and the alerts cursor have passed them, and the
        newest row always stays: SQLite would otherwise hand out its id again. Mirrors stay (edits
        and vote counts find their message through them).
        """
        async with self._db.write() as conn:
            cur = await conn.execute(
                "DELETE FROM jobs WHERE state != 'pending' AND finished_at < ?", (finished_before,)
            )
            jobs = cur.rowcount
            async with conn.execute(
                "SELECT min(c) AS passed FROM (SELECT outbox_cursor AS c FROM feeds"
                " UNION ALL SELECT CAST(value AS BIGINT) FROM meta WHERE key IN ('alerts_cursor', 'notices_cursor')"
                " UNION ALL SELECT max(id) FROM outbox) AS cursors"  # PostgreSQL before 16 wants the alias
            ) as c:
                row = await c.fetchone()
            passed = int(row["passed"]) if row and row["passed"] is not None else 0
            cur = await conn.execute("DELETE FROM outbox WHERE id < ? AND at < ?", (passed, chain_time_before))
            outbox = cur.rowcount
        return jobs, outbox
