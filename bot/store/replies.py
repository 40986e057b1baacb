"""Replies in the trees of stored posts, the threads that hold them in Discord, and their messages."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any, Literal

from bot.domain import Job, ReplyRow
from bot.store.engine import Db, Row
from bot.store.jobs import insert_job, lane_answered
from bot.store.moderation import MUTED_REPLY

ThreadState = Literal["ok", "locked", "gone"]

_RECORD_THREAD = (
    "INSERT INTO threads (channel_id, post_id, thread_id, forum) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (channel_id, post_id) DO UPDATE SET thread_id = excluded.thread_id, forum = excluded.forum"
)

REPLY_COLUMNS = (
    "id, post_id, author, permlink, parent_author, parent_permlink, body, created_block, created_at, updated_at,"
    " edits, deleted"
)


def reply_from_row(row: Row) -> ReplyRow:
    return ReplyRow(
        id=row["id"],
        post_id=row["post_id"],
        author=row["author"],
        permlink=row["permlink"],
        parent_author=row["parent_author"],
        parent_permlink=row["parent_permlink"],
        body=row["body"],
        created_block=row["created_block"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        edits=row["edits"],
        deleted=row["deleted"] == 1,
        muted=row["deleted"] == MUTED_REPLY,
    )


class ReplyTables:
    """Reads and delivery-side writes of replies, threads and reply messages."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def live_reply_keys(self) -> set[tuple[str, str]]:
        """The replies the follower watches: live, and muted ones (an unmutePost brings them back)."""
        sql = "SELECT author, permlink FROM replies WHERE deleted IN (0, ?)"
        async with self._db.reader.execute(sql, (MUTED_REPLY,)) as cur:
            return {(r["author"], r["permlink"]) for r in await cur.fetchall()}

    async def live_reply_keys_after(self, after: int) -> tuple[list[tuple[str, str]], int]:
        """As live_reply_keys, of the replies stored after row `after`; and the last row id seen."""
        async with self._db.reader.execute(
            "SELECT id, author, permlink, deleted FROM replies WHERE id > ? ORDER BY id", (after,)
        ) as cur:
            rows = await cur.fetchall()
        keys = [(str(r["author"]), str(r["permlink"])) for r in rows if r["deleted"] in (0, MUTED_REPLY)]
        return keys, int(rows[-1]["id"]) if rows else after

    async def reply(self, reply_id: int) -> ReplyRow | None:
        async with self._db.reader.execute(f"SELECT {REPLY_COLUMNS} FROM replies WHERE id = ?", (reply_id,)) as cur:
            row = await cur.fetchone()
        return reply_from_row(row) if row else None

    async def parent_author_of(self, reply: ReplyRow) -> str | None:
        """For a nested reply, the author it answers (None for a reply to the post itself)."""
        async with self._db.reader.execute(
            "SELECT 1 FROM posts WHERE id = ? AND author = ? AND permlink = ?",
            (reply.post_id, reply.parent_author, reply.parent_permlink),
        ) as cur:
            top = await cur.fetchone() is not None
        return None if top else reply.parent_author

    # Threads -----------------------------------------------------------------------------------

    async def thread(self, channel_id: int, post_id: int) -> tuple[int, bool, ThreadState] | None:
        """(thread id, is a forum post, state) of the post's thread in a feed's channel."""
        async with self._db.reader.execute(
            "SELECT thread_id, forum, state FROM threads WHERE channel_id = ? AND post_id = ?", (channel_id, post_id)
        ) as cur:
            row = await cur.fetchone()
        return (int(row["thread_id"]), bool(row["forum"]), row["state"]) if row else None

    async def thread_links(self, post_ids: Sequence[int], guild_id: int | None) -> dict[int, str]:
        """The link to each post's usable thread in a server (a forum post or a thread on its message)."""
        if not post_ids or guild_id is None:
            return {}
        marks = ", ".join("?" * len(post_ids))
        async with self._db.reader.execute(
            "SELECT t.post_id, t.thread_id FROM threads t JOIN feeds f ON f.channel_id = t.channel_id"
            f" WHERE t.post_id IN ({marks}) AND f.guild_id = ? AND t.state = 'ok' AND t.thread_id != 0"
            " ORDER BY t.channel_id DESC",
            (*post_ids, guild_id),
        ) as cur:
            rows = await cur.fetchall()
        # The first channel's thread wins (rows come last-first, so it is written last).
        return {int(r["post_id"]): f"https://discord.com/channels/{guild_id}/{int(r['thread_id'])}" for r in rows}

    async def record_thread(self, channel_id: int, post_id: int, thread_id: int, *, forum: bool) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                _RECORD_THREAD,
                (channel_id, post_id, thread_id, int(forum)),
            )

    async def set_thread_state(self, channel_id: int, thread_id: int, state: ThreadState) -> str:
        """Marks a post's thread locked or gone; returns the post as "author/permlink", for the log."""
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE threads SET state = ? WHERE channel_id = ? AND thread_id = ?", (state, channel_id, thread_id)
            )
            async with conn.execute(
                "SELECT p.author, p.permlink FROM threads t JOIN posts p ON p.id = t.post_id"
                " WHERE t.channel_id = ? AND t.thread_id = ?",
                (channel_id, thread_id),
            ) as cur:
                row = await cur.fetchone()
        return f"{row['author']}/{row['permlink']}" if row else f"thread {thread_id}"

    # Reply messages ----------------------------------------------------------------------------

    async def reply_message(self, channel_id: int, reply_id: int) -> int | None:
        async with self._db.reader.execute(
            "SELECT message_id FROM reply_messages WHERE channel_id = ? AND reply_id = ?", (channel_id, reply_id)
        ) as cur:
            row = await cur.fetchone()
        return int(row["message_id"]) if row else None

    async def finish_reply_job(self, job: Job, channel_id: int, message_id: int | None) -> None:
        """A reply job answered: the job done and, for a new reply, its message recorded, in one transaction."""
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE jobs SET state = 'done', message_id = ?, finished_at = ? WHERE id = ?",
                (message_id, time.time(), job.id),
            )
            if job.action == "reply" and message_id is not None and job.reply_id is not None:
                await conn.execute(
                    "INSERT INTO reply_messages (channel_id, reply_id, message_id) VALUES (?, ?, ?)"
                    " ON CONFLICT (channel_id, reply_id) DO UPDATE SET message_id = excluded.message_id",
                    (channel_id, job.reply_id, message_id),
                )
            await lane_answered(conn, job.channel_id)

    async def latest_thread_of_author(self, channel_id: int, author: str) -> int | None:
        """The usable thread of the author's newest post in a feed's channel (where a forum feed's badge goes)."""
        async with self._db.reader.execute(
            "SELECT t.thread_id FROM threads t JOIN posts p ON p.id = t.post_id WHERE t.channel_id = ?"
            " AND p.author = ? AND t.state = 'ok' AND t.thread_id != 0 ORDER BY p.created_block DESC, p.id DESC"
            " LIMIT 1",
            (channel_id, author),
        ) as cur:
            row = await cur.fetchone()
        return int(row["thread_id"]) if row else None

    async def thread_made(
        self, channel_id: int, post_id: int, thread_id: int, *, forum: bool, lane: int, feed_id: int,
        mute: Sequence[str], at_most: int,
    ) -> int:  # fmt: skip
        """Records a post's new thread and, in the same transaction, its late start: the live replies
        of the post it does not show yet are queued in `lane`, in chain order, replacing the reply jobs
        of the post still waiting (so the older replies cannot come after them); past `at_most`, one
        "more replies" line counts the rest. Returns how many replies are queued."""
        muted = [m.lower() for m in mute]
        async with self._db.write() as conn:
            await conn.execute(
                _RECORD_THREAD,
                (channel_id, post_id, thread_id, int(forum)),
            )
            await conn.execute(
                "UPDATE jobs SET state = 'dropped', last_error = 'queued again by the thread''s late start',"
                " finished_at = ? WHERE feed_id = ? AND post_id = ? AND reply_id IS NOT NULL AND state = 'pending'",
                (time.time(), feed_id, post_id),
            )
            async with conn.execute(
                "SELECT r.id, r.author FROM replies r WHERE r.post_id = ? AND r.deleted = 0 AND NOT EXISTS"
                " (SELECT 1 FROM reply_messages m WHERE m.channel_id = ? AND m.reply_id = r.id)"
                # A reply the moderators muted is not live (deleted = MUTED_REPLY); nor is a muted author's.
                " AND r.author NOT IN (SELECT c.account FROM community_roles c JOIN posts p ON p.community ="
                " c.community WHERE p.id = r.post_id AND c.role = 'muted') ORDER BY r.created_at, r.id",
                (post_id, channel_id),
            ) as cur:
                owed = [int(r["id"]) for r in await cur.fetchall() if str(r["author"]).lower() not in muted]
            await conn.execute(
                "UPDATE jobs SET state = 'dropped', last_error = 'counted again by the thread''s late start',"
                " finished_at = ? WHERE feed_id = ? AND post_id = ? AND action = 'replies_more' AND state = 'pending'",
                (time.time(), feed_id, post_id),
            )
            for reply_id in owed[:at_most]:
                await insert_job(conn, lane, "reply", feed_id=feed_id, post_id=post_id, reply_id=reply_id)
            if len(owed) > at_most:
                more = {"window": "", "count": len(owed) - at_most}
                await insert_job(conn, lane, "replies_more", feed_id=feed_id, post_id=post_id, detail=more)
        return min(len(owed), at_most)

    async def claim_more_replies(self, job_id: int) -> dict[str, Any]:
        """Marks a "more replies" line as being sent and returns its count as of now: from here the
        planner counts later replies in a new line, so none is added to a line already on its way."""
        async with self._db.write() as conn:
            await conn.execute("UPDATE jobs SET sent_at = ? WHERE id = ?", (time.time(), job_id))
            async with conn.execute("SELECT detail FROM jobs WHERE id = ?", (job_id,)) as cur:
                row = await cur.fetchone()
        detail = json.loads(row["detail"]) if row is not None and row["detail"] else {}
        return detail if isinstance(detail, dict) else {}

    async def more_replies_shown(self, feed_id: int, post_id: int, window: str) -> tuple[int, int] | None:
        """(message id, count) of the "more replies" line a feed's thread shows for a window, if any."""
        async with self._db.reader.execute(
            "SELECT message_id, detail FROM jobs WHERE feed_id = ? AND post_id = ? AND action = 'replies_more'"
            " AND state = 'done' AND message_id IS NOT NULL ORDER BY id DESC LIMIT 1",
            (feed_id, post_id),
        ) as cur:
            row = await cur.fetchone()
        detail = json.loads(row["detail"]) if row and row["detail"] else {}
        if row is None or not isinstance(detail, dict) or detail.get("window") != window:
            return None
        return int(row["message_id"]), int(detail.get("count", 0))

    async def finish_more_replies(self, job: Job, window: str, message_id: int | None, count: int) -> None:
        """A "more replies" line shown: the job done with the line's message and the count it shows."""
        detail = {"window": window, "count": count}
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE jobs SET state = 'done', message_id = ?, finished_at = ?, detail = ? WHERE id = ?",
                (message_id, time.time(), json.dumps(detail), job.id),
            )
            await lane_answered(conn, job.channel_id)
