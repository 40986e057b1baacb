"""The statements of one delivery planning pass (outbox -> jobs), all inside one write transaction."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bot.domain import Feed, JobAction, OutboxRow, Subscription
from bot.store.communities import community_team
from bot.store.db import nonce_salt, read_meta, write_meta
from bot.store.discord_replies import Echo, echo_of, own_message_of
from bot.store.engine import Conn, Db, Row
from bot.store.feeds import FEED_COLUMNS, alert_lane, feed_from_row
from bot.store.filters import badge_passes, passing
from bot.store.jobs import insert_job
from bot.store.moderation import MUTED_REPLY, muted_notes
from bot.store.notices import NOTICES_CURSOR, notice_events
from bot.store.subscriptions import closed_dms, subscribers


class PlanningTx:
    """The statements of one planning pass, inside one transaction (see bot/delivery/planner.py)."""

    def __init__(self, conn: Conn) -> None:
        self._conn = conn
        self._discord_voters: set[str] | None = None
        self._muted: dict[int, str] | None = None
        self._muted_replies: set[int] | None = None
        self._muted_authors: dict[str, set[str]] = {}

    async def feeds(self) -> list[Feed]:
        async with self._conn.execute(f"SELECT {FEED_COLUMNS} FROM feeds ORDER BY id") as cur:
            return [feed_from_row(r) for r in await cur.fetchall()]

    async def outbox_after(self, after: int, community: str, limit: int) -> list[OutboxRow]:
        """Rows of one community (badges carry none and are read for every feed) past a feed's cursor."""
        async with self._conn.execute(
            "SELECT id, kind, community, post_id, badge_id, voter, weight, block_num, at, reply_id FROM outbox"
            " WHERE id > ? AND (community = ? OR kind = 'badge') ORDER BY id LIMIT ?",
            (after, community, limit),
        ) as cur:
            return [
                OutboxRow(
                    id=r["id"],
                    kind=r["kind"],
                    community=r["community"],
                    post_id=r["post_id"],
                    badge_id=r["badge_id"],
                    voter=r["voter"],
                    weight=r["weight"],
                    block_num=r["block_num"],
                    at=r["at"],
                    reply_id=r["reply_id"],
                )
                for r in await cur.fetchall()
            ]

    async def last_outbox_id(self) -> int:
        async with self._conn.execute("SELECT coalesce(max(id), 0) AS last FROM outbox") as cur:
            row = await cur.fetchone()
        return int(row["last"]) if row else 0

    async def set_feed_cursor(self, feed_id: int, outbox_id: int) -> None:
        await self._conn.execute("UPDATE feeds SET outbox_cursor = ? WHERE id = ?", (outbox_id, feed_id))

    async def curated_from_discord(self, voter: str, post_id: int) -> bool:
        """Whether `voter`'s vote on the post was pressed in Discord (a curation account's vote)."""
        if self._discord_voters is None:
            # The few curation accounts, once a pass: most votes are by nobody's account and cost no query.
            async with self._conn.execute("SELECT DISTINCT voter FROM curation_votes") as cur:
                self._discord_voters = {r[0] for r in await cur.fetchall()}
        if voter not in self._discord_voters:
            return False
        async with self._conn.execute(
            "SELECT 1 FROM curation_votes WHERE voter = ? AND post_id = ? AND state != 'failed' LIMIT 1",
            (voter, post_id),
        ) as cur:
            return await cur.fetchone() is not None

    async def muted(self) -> dict[int, str]:
        """The posts the community's moderators muted, with their notes: read once a pass (no writer of
        them runs while a pass holds the write lock)."""
        if self._muted is None:
            self._muted = await muted_notes(self._conn)
        return self._muted

    async def muted_replies(self) -> set[int]:
        """The replies the community's moderators muted: a handful, read once a pass."""
        if self._muted_replies is None:
            async with self._conn.execute("SELECT id FROM replies WHERE deleted = ?", (MUTED_REPLY,)) as cur:
                self._muted_replies = {int(r[0]) for r in await cur.fetchall()}
        return self._muted_replies

    async def muted_authors(self, community: str) -> set[str]:
        """The accounts the community muted (its roles as stored): read once a pass per community."""
        if community not in self._muted_authors:
            async with self._conn.execute(
                "SELECT account FROM community_roles WHERE community = ? AND role = 'muted'", (community,)
            ) as cur:
                self._muted_authors[community] = {str(r[0]) for r in await cur.fetchall()}
        return self._muted_authors[community]

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

    async def passes_filter(self, feed: Feed, post_id: int) -> bool:
        """Whether the post passes the feed's filter (bot/store/filters.py, shared with backfill and /feed test)."""
        return bool(await passing(self._conn, feed.filter, [post_id]))

    async def post_not_delivered(self, channel_id: int, post_id: int) -> str | None:
        """Why the channel's post job for the post was dropped (a rejected send, a deleted post), if it was."""
        async with self._conn.execute(
            "SELECT last_error FROM jobs WHERE channel_id = ? AND post_id = ? AND action = 'post' AND state = 'dropped'"
            " ORDER BY id DESC LIMIT 1",
            (channel_id, post_id),
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else str(row[0] or "dropped")

    async def badge_passes_filter(self, feed: Feed, badge_id: int) -> bool:
        """Whether the badge's recipient passes the feed's filter (bot/store/filters.py)."""
        return await badge_passes(self._conn, feed.filter, badge_id)

    async def badge_recipient_posted_in(self, badge_id: int, community: str) -> bool:
        async with self._conn.execute(
            "SELECT 1 FROM badges b JOIN posts p ON p.author = b.recipient WHERE b.id = ? AND p.community = ? LIMIT 1",
            (badge_id, community),
        ) as cur:
            return await cur.fetchone() is not None

    async def community_team(self, community: str) -> tuple[str, ...]:
        return await community_team(self._conn, community)

    async def add_job(
        self,
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
        return await insert_job(
            self._conn, channel_id, action, feed_id=feed_id, post_id=post_id, badge_id=badge_id, user_id=user_id,
            detail=detail, reply_id=reply_id,
        )  # fmt: skip

    async def reply_author(self, reply_id: int) -> str | None:
        async with self._conn.execute("SELECT author FROM replies WHERE id = ?", (reply_id,)) as cur:
            row = await cur.fetchone()
        return str(row["author"]) if row else None

    async def reply_owed(self, feed_id: int, channel_id: int, reply_id: int) -> bool:
        """Whether a reply is shown or queued already (a thread's late start may have queued it)."""
        async with self._conn.execute(
            "SELECT 1 FROM jobs WHERE feed_id = ? AND reply_id = ? AND action = 'reply' AND state != 'dropped'"
            " UNION ALL SELECT 1 FROM reply_messages WHERE channel_id = ? AND reply_id = ? LIMIT 1",
            (feed_id, reply_id, channel_id, reply_id),
        ) as cur:
            return await cur.fetchone() is not None

    async def echo_of(self, channel_id: int, reply_id: int) -> Echo | None:
        """A reply a member posted from this channel's thread: shown there already, or its copy owed (see
        discord_replies)."""
        return await echo_of(self._conn, channel_id, reply_id)

    async def own_message_of(self, channel_id: int, reply_id: int) -> tuple[int, int] | None:
        """(thread, message) of the member's own message a reply was posted from with Post to Hive (see
        discord_replies)."""
        return await own_message_of(self._conn, channel_id, reply_id)

    async def thread_usable(self, channel_id: int, post_id: int) -> bool:
        """False once the post's thread in the channel is locked or deleted: its replies are dropped."""
        async with self._conn.execute(
            "SELECT 1 FROM threads WHERE channel_id = ? AND post_id = ? AND state != 'ok'", (channel_id, post_id)
        ) as cur:
            return await cur.fetchone() is None

    async def replies_in_window_before(self, post_id: int, start: str, reply_id: int) -> int:
        """How many replies of the post, created since `start` (chain time), came before this one."""
        async with self._conn.execute(
            "SELECT COUNT(*) FROM replies WHERE post_id = ? AND created_at >= ? AND id < ?", (post_id, start, reply_id)
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def pending_more_replies(self, lane: int, feed_id: int, post_id: int) -> tuple[int, dict[str, Any]] | None:
        """The "more replies" line of a feed's post still waiting in its lane, not yet being sent: (job id,
        detail)."""
        async with self._conn.execute(
            "SELECT id, detail FROM jobs WHERE channel_id = ? AND state = 'pending' AND action = 'replies_more'"
            " AND feed_id = ? AND post_id = ? AND sent_at IS NULL ORDER BY id DESC LIMIT 1",
            (lane, feed_id, post_id),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        detail = json.loads(row["detail"]) if row["detail"] else {}
        return int(row["id"]), detail if isinstance(detail, dict) else {}

    async def set_job_detail(self, job_id: int, detail: Any) -> None:
        await self._conn.execute("UPDATE jobs SET detail = ? WHERE id = ?", (json.dumps(detail), job_id))

    async def reply_lane(self, channel_id: int, post_id: int) -> int:
        """The lane of a post's conversation: its thread, whose id is the mirrored message's (a thread
        started on a message, or a forum post and its starter message, share the id). Until the post
        is mirrored, and while replies planned then still wait there, the channel's lane: chain order
        is kept either way."""
        async with self._conn.execute(
            "SELECT message_id FROM mirrors WHERE channel_id = ? AND post_id = ?", (channel_id, post_id)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return channel_id
        async with self._conn.execute(
            "SELECT 1 FROM jobs WHERE channel_id = ? AND post_id = ? AND reply_id IS NOT NULL AND state = 'pending'"
            " LIMIT 1",
            (channel_id, post_id),
        ) as cur:
            waiting = await cur.fetchone() is not None
        return channel_id if waiting else int(row["message_id"])

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
        return (row["opens_at"], json.loads(row["voters"])) if row else None

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
            return [(r["feed_id"], r["post_id"], r["opens_at"], json.loads(r["voters"])) for r in await cur.fetchall()]

    async def alerts_cursor(self) -> int | None:
        value = await read_meta(self._conn, "alerts_cursor")
        return int(value) if value is not None else None

    async def set_alerts_cursor(self, outbox_id: int) -> None:
        await write_meta(self._conn, "alerts_cursor", str(outbox_id))

    async def new_reviews_after(self, after: int, limit: int) -> list[tuple[int, int, str, str]]:
        """(outbox id, post id, series key, community) of new posts with a series, past `after`."""
        async with self._conn.execute(
            "SELECT o.id AS outbox_id, p.id AS post_id, p.series_key, p.community"
            " FROM outbox o JOIN posts p ON p.id = o.post_id"
            " WHERE o.id > ? AND o.kind = 'post_created' AND p.series_key IS NOT NULL ORDER BY o.id LIMIT ?",
            (after, limit),
        ) as cur:
            rows = await cur.fetchall()
        return [(int(r["outbox_id"]), int(r["post_id"]), str(r["series_key"]), str(r["community"])) for r in rows]

    async def subscribers(self, series_key: str) -> list[Subscription]:
        return await subscribers(self._conn, series_key)

    async def closed_dms(self) -> set[int]:
        return await closed_dms(self._conn)

    async def alert_lane(self, guild_id: int | None, community: str, post_id: int, fallback: int | None) -> int | None:
        """A subscriber's mention in their server: its lane, None when the feed it goes through filters the post out."""
        return await alert_lane(self._conn, guild_id, community, post_id, fallback)

    async def notices_cursor(self) -> int | None:
        value = await read_meta(self._conn, NOTICES_CURSOR)
        return int(value) if value is not None else None

    async def set_notices_cursor(self, outbox_id: int) -> None:
        await write_meta(self._conn, NOTICES_CURSOR, str(outbox_id))

    async def notice_events(self, after: int, limit: int) -> list[Row]:
        return await notice_events(self._conn, after, limit)

    async def chain_time(self) -> str:
        return await read_meta(self._conn, "cursor_time") or ""


class Planning:
    """Opens planning passes: each one a write transaction handing out a PlanningTx."""

    def __init__(self, db: Db) -> None:
        self._db = db

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PlanningTx]:
        async with self._db.write() as conn:
            await nonce_salt(conn)
            yield PlanningTx(conn)
