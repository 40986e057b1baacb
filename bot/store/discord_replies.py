"""Replies from Discord: who lets the bot post for them, and every reply the bot signed, from intent to chain."""

from __future__ import annotations

import time
from typing import Any, Literal

from bot.domain import Job, SentReply, VoteState
from bot.store.db import nonce_salt
from bot.store.engine import Conn, Db, Row
from bot.store.intents import insert_signed
from bot.store.jobs import insert_job, lane_answered

_COLUMNS = (
    "id, guild_id, channel_id, thread_id, post_id, user_id, author, permlink, parent_author, parent_permlink,"
    " message_id, own_message, trx_id, trx, expiration, state, error, created_at, checks"
)


def _sent(row: Row) -> SentReply:
    values = {key: row[key] for key in row.keys()}  # noqa: SIM118  (a Row is not a mapping)
    values["own_message"] = bool(values["own_message"])
    return SentReply(**values)


Echo = Literal["shown", "owed"]


def copy_nonce(salt: str, reply_id: int) -> str:
    """The nonce of the message that shows a reply posted with /reply post (`reply_id` is its intent's) in its
    thread: the cog's copy and the mirror sent in its place carry the same one (apart from jobs' "hc")."""
    return f"hr{salt}{reply_id}"


async def echo_of(conn: Conn, channel_id: int, reply_id: int) -> Echo | None:
    """Whether a reply on chain is one a member posted from the thread of this feed's channel. "shown": Discord
    shows it already; a copy the bot sent becomes the reply's message there (its edits and deletion edit it),
    and the member's own message cannot be edited by the bot, so it stays as written. "owed": the copy's
    message id was never recorded (a kill, or a failed request), so the mirror is sent in its place with the
    copy's nonce: Discord answers with the copy if it was made. Planning's transaction."""
    async with conn.execute(
        "SELECT d.message_id, d.own_message FROM discord_replies d JOIN replies r"
        " ON r.author = d.author AND r.permlink = d.permlink"
        " WHERE r.id = ? AND d.channel_id = ? AND d.state != 'failed'",
        (reply_id, channel_id),
    ) as cur:
        row = await cur.fetchone()
    if row is None:
        return None
    if row["message_id"] is None:
        return "owed"
    if not row["own_message"]:
        await conn.execute(
            "INSERT INTO reply_messages (channel_id, reply_id, message_id) VALUES (?, ?, ?)"
            " ON CONFLICT (channel_id, reply_id) DO NOTHING",
            (channel_id, reply_id, int(row["message_id"])),
        )
    return "shown"


async def own_message_of(conn: Conn, channel_id: int, reply_id: int) -> tuple[int, int] | None:
    """(thread, message) of the member's own message a reply on chain was posted from with Post to Hive, in
    this feed's channel: the bot cannot edit it, so what becomes of the reply shows as its reactions there.
    Planning's transaction."""
    async with conn.execute(
        "SELECT d.thread_id, d.message_id FROM discord_replies d JOIN replies r"
        " ON r.author = d.author AND r.permlink = d.permlink WHERE r.id = ? AND d.channel_id = ?"
        " AND d.own_message = 1 AND d.message_id IS NOT NULL AND d.state != 'failed'",
        (reply_id, channel_id),
    ) as cur:
        row = await cur.fetchone()
    return (int(row[0]), int(row[1])) if row else None


async def _plan_failed_copy(conn: Conn, reply_id: int, why: str) -> None:
    """Queues the job that marks a failed reply's copy in its thread's lane. /reply post always sends a copy
    (or may have, before a kill): the job finds it by its recorded id, else by its nonce. A reply posted from
    the member's own message has no copy of the bot's."""
    async with conn.execute(
        "SELECT thread_id FROM discord_replies WHERE id = ? AND own_message = 0", (reply_id,)
    ) as cur:
        row = await cur.fetchone()
    if row is not None:
        await insert_job(conn, int(row["thread_id"]), "reply_failed", detail={"reply": reply_id, "why": why[:500]})


class DiscordReplyTables:
    def __init__(self, db: Db) -> None:
        self._db = db
        self._salt = ""

    # Opting in -----------------------------------------------------------------------------------

    async def set_enabled(self, user_id: int, enabled: bool, at: float) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "INSERT INTO reply_optins (user_id, enabled, changed_at) VALUES (?, ?, ?) ON CONFLICT (user_id)"
                " DO UPDATE SET enabled = excluded.enabled, changed_at = excluded.changed_at",
                (user_id, int(enabled), at),
            )

    async def enabled(self, user_id: int) -> bool:
        async with self._db.reader.execute("SELECT enabled FROM reply_optins WHERE user_id = ?", (user_id,)) as cur:
            row = await cur.fetchone()
        return bool(row and row["enabled"])

    # Where a reply goes ---------------------------------------------------------------------------

    async def thread_post(self, thread_id: int) -> tuple[int, int] | None:
        """(feed channel, post id) of the mirrored post whose usable thread (or forum post) this is."""
        async with self._db.reader.execute(
            "SELECT t.channel_id, t.post_id FROM threads t JOIN posts p ON p.id = t.post_id"
            " WHERE t.thread_id = ? AND t.state = 'ok' AND p.deleted = 0 LIMIT 1",
            (thread_id,),
        ) as cur:
            row = await cur.fetchone()
        return (int(row["channel_id"]), int(row["post_id"])) if row else None

    async def member_thread_post(self, thread_id: int) -> tuple[int, int] | None:
        """(feed channel, post id) when `thread_id` is a thread a member started on a live post's mirrored
        message in a text channel whose feed keeps threads, before the bot made one: a thread on a message
        has the message's id, so it can only be that post's. None when the post has a thread recorded."""
        async with self._db.reader.execute(
            "SELECT m.channel_id, m.post_id FROM mirrors m JOIN posts p ON p.id = m.post_id"
            " WHERE m.message_id = ? AND p.deleted = 0"
            " AND EXISTS (SELECT 1 FROM feeds f WHERE f.channel_id = m.channel_id AND f.threads = 'on')"
            " AND NOT EXISTS (SELECT 1 FROM threads t WHERE t.channel_id = m.channel_id AND t.post_id = m.post_id)"
            " LIMIT 1",
            (thread_id,),
        ) as cur:
            row = await cur.fetchone()
        return (int(row["channel_id"]), int(row["post_id"])) if row else None

    async def reply_shown_by(self, channel_id: int, message_id: int) -> tuple[str, str, bool] | None:
        """(author, permlink, deleted on chain since) of the reply a Discord message in the channel's thread
        shows: a mirrored reply, or one posted from Discord."""
        async with self._db.reader.execute(
            "SELECT r.author, r.permlink, r.deleted FROM reply_messages m JOIN replies r ON r.id = m.reply_id"
            " WHERE m.channel_id = ? AND m.message_id = ?"
            " UNION ALL SELECT d.author, d.permlink, r.deleted FROM discord_replies d JOIN replies r"
            " ON r.author = d.author AND r.permlink = d.permlink"
            " WHERE d.channel_id = ? AND d.message_id = ? AND d.state != 'failed' LIMIT 1",
            (channel_id, message_id, channel_id, message_id),
        ) as cur:
            row = await cur.fetchone()
        return (str(row[0]), str(row[1]), bool(row[2])) if row else None

    async def last_by_member(self, user_id: int, *, thread_id: int | None = None) -> float | None:
        """When the member's last reply was signed (in `thread_id`, if given)."""
        async with self._db.reader.execute(
            "SELECT max(created_at) FROM discord_replies"
            " WHERE user_id = ? AND (CAST(? AS BIGINT) IS NULL OR thread_id = ?)",
            (user_id, thread_id, thread_id),
        ) as cur:
            row = await cur.fetchone()
        return float(row[0]) if row and row[0] is not None else None

    async def of_message(self, message_id: int) -> SentReply | None:
        """The reply (not failed) posted from a member's own message."""
        async with self._db.reader.execute(
            f"SELECT {_COLUMNS} FROM discord_replies WHERE message_id = ? AND own_message = 1 AND state != 'failed'",
            (message_id,),
        ) as cur:
            row = await cur.fetchone()
        return _sent(row) if row else None

    # The intent, and its life ---------------------------------------------------------------------

    async def record_intent(
        self, fields: dict[str, Any], created_at: float, *, interval: float = 0.0
    ) -> SentReply | Literal["too soon", "posted"]:
        """Stores a signed reply before it is broadcast, unless the member or the account has another one from
        the last `interval` seconds ("too soon": checked in the same write transaction, so replies sent at once
        cannot all pass), or the same permlink (or own message) was posted already ("posted")."""
        async with self._db.write() as conn:
            async with conn.execute(
                "SELECT 1 FROM discord_replies WHERE (user_id = ? OR author = ?) AND created_at > ? LIMIT 1",
                (fields["user_id"], fields["author"], created_at - interval),
            ) as cur:
                if interval > 0 and await cur.fetchone() is not None:
                    return "too soon"
            reply_id = await insert_signed(conn, "discord_replies", fields, created_at)
            if reply_id is None:
                return "posted"
            async with conn.execute(f"SELECT {_COLUMNS} FROM discord_replies WHERE id = ?", (reply_id,)) as got:
                row = await got.fetchone()
        assert row is not None
        return _sent(row)

    async def copy_nonce(self, reply_id: int) -> str:
        """The nonce /reply post sends its copy of the reply with (see `copy_nonce`)."""
        if not self._salt:
            async with self._db.write() as conn:
                self._salt = await nonce_salt(conn)
        return copy_nonce(self._salt, reply_id)

    async def mirror_nonce(self, channel_id: int, reply_id: int) -> str | None:
        """The nonce the message showing reply `reply_id` (the replies row) in the channel's thread is sent
        with when a member posted it there with /reply post: its copy's, whether or not the copy was made."""
        async with self._db.reader.execute(
            "SELECT d.id FROM discord_replies d JOIN replies r ON r.author = d.author AND r.permlink = d.permlink"
            " WHERE r.id = ? AND d.channel_id = ? AND d.own_message = 0 AND d.state != 'failed'",
            (reply_id, channel_id),
        ) as cur:
            row = await cur.fetchone()
        return await self.copy_nonce(int(row["id"])) if row else None

    async def failed_copy_marked(self, job: Job, reply_id: int, message_id: int | None) -> None:
        """The job marking a failed reply's copy answered: done, with the copy's id recorded (a retry after a
        kill edits it by id, past Discord's nonce window), in one transaction."""
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE jobs SET state = 'done', message_id = ?, finished_at = ? WHERE id = ?",
                (message_id, time.time(), job.id),
            )
            if message_id is not None:
                await conn.execute(
                    "UPDATE discord_replies SET message_id = ? WHERE id = ? AND state = 'failed'",
                    (message_id, reply_id),
                )
            await lane_answered(conn, job.channel_id)

    async def shown_as(self, reply_id: int, message_id: int) -> None:
        """The bot's copy of a reply in its thread: the message the reply's edits and deletion will edit."""
        async with self._db.write() as conn:
            await conn.execute("UPDATE discord_replies SET message_id = ? WHERE id = ?", (message_id, reply_id))

    async def get(self, reply_id: int) -> SentReply | None:
        """One reply as stored (the job that marks a failed reply's copy reads it)."""
        async with self._db.reader.execute(f"SELECT {_COLUMNS} FROM discord_replies WHERE id = ?", (reply_id,)) as cur:
            row = await cur.fetchone()
        return _sent(row) if row else None

    async def settle(
        self, reply_id: int, state: VoteState, at: float, error: str | None = None, *, why: str | None = None
    ) -> bool:
        """Moves an open reply on; False when it was final already. A reply that fails gets, in the same
        transaction, the job that marks its copy in the thread (`why`: the failure in words), so a kill at any
        moment still ends with the copy marked, once."""
        final = state in ("landed", "failed")
        async with self._db.write() as conn:
            cur = await conn.execute(
                "UPDATE discord_replies SET state = ?, error = coalesce(?, error), settled_at = ?"
                " WHERE id = ? AND state IN ('signed', 'sent')",
                (state, error, at if final else None, reply_id),
            )
            if cur.rowcount == 0:
                return False
            if state == "failed":
                await _plan_failed_copy(conn, reply_id, why or error or "it did not reach a block")
            return True

    async def open_replies(self, now: float) -> list[SentReply]:
        async with self._db.reader.execute(
            f"SELECT {_COLUMNS} FROM discord_replies WHERE state IN ('signed', 'sent') AND next_check <= ? ORDER BY id",
            (now,),
        ) as cur:
            return [_sent(r) for r in await cur.fetchall()]

    async def has_open(self) -> bool:
        async with self._db.reader.execute(
            "SELECT 1 FROM discord_replies WHERE state IN ('signed', 'sent') LIMIT 1"
        ) as cur:
            return await cur.fetchone() is not None

    async def check_later(self, reply_id: int, at: float) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE discord_replies SET next_check = ?, checks = checks + 1 WHERE id = ?", (at, reply_id)
            )

    async def seen_on_chain(self, author: str, permlink: str) -> bool:
        """Whether the follower stored the reply (it reached a block)."""
        async with self._db.reader.execute(
            "SELECT 1 FROM replies WHERE author = ? AND permlink = ? LIMIT 1", (author, permlink)
        ) as cur:
            return await cur.fetchone() is not None
