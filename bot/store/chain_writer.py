"""ChainWriter: the follower's writes of one batch of blocks, inside the transaction that moves the cursor."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from bot.domain import LinkChange, OutboxKind, PostContent, PostRow
from bot.store.db import write_cursor
from bot.store.engine import Db, SyncConn
from bot.store.links import ChainLinksListener, complete_on_chain
from bot.store.moderation import MUTED_REPLY, ChainModeration
from bot.store.posts import POST_COLUMNS, post_from_row

T = TypeVar("T")


class ChainWriter:
    """The statements one batch of blocks runs, inside the transaction that also moves the cursor.

    Synchronous on purpose: a whole batch runs in one worker thread, since a thread hop per
    statement cost more than the statements themselves (measured: 250 ms per 1000 blocks).
    """

    def __init__(self, conn: SyncConn) -> None:
        self._conn = conn
        # Votes and outbox rows are most of a batch: they are queued in chain order and written
        # with one executemany each at flush(); nothing in a batch reads them back before that.
        self._votes: list[tuple[Any, ...]] = []
        self._outbox: list[tuple[Any, ...]] = []
        self._refs: dict[tuple[str, str], tuple[int, str]] = {}
        self.link_changes: list[LinkChange] = []  # told to the links' listener once the batch commits
        # (reply id, root post id, community) of live replies looked up or inserted in this batch.
        self._reply_refs: dict[tuple[str, str], tuple[int, int, str]] = {}
        self.moderation = ChainModeration(conn)  # the community's roles and muted posts

    def live_post(self, author: str, permlink: str) -> PostRow | None:
        row = self._conn.execute(
            f"SELECT {POST_COLUMNS} FROM posts WHERE author = ? AND permlink = ? AND deleted = 0",
            (author, permlink),
        ).fetchone()
        return post_from_row(row) if row else None

    def live_post_ref(self, author: str, permlink: str) -> tuple[int, str] | None:
        """(id, community) of the live post: what a vote needs, without reading the body."""
        key = (author, permlink)
        ref = self._refs.get(key)
        if ref is None:
            row = self._conn.execute(
                "SELECT id, community FROM posts WHERE author = ? AND permlink = ? AND deleted = 0", key
            ).fetchone()
            if row is None:
                return None
            ref = self._refs[key] = (int(row["id"]), str(row["community"]))
        return ref

    def insert_post(
        self, *, author: str, permlink: str, community: str, content: PostContent, block_num: int, at: str
    ) -> int:
        c = content
        cur = self._conn.execute(
            "INSERT INTO posts (author, permlink, community, title, body, json_metadata, tags, series,"
            " series_key, image, created_block, created_at, updated_block, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                author, permlink, community, c.title, c.body, c.json_metadata, json.dumps(list(c.tags)),
                c.series, c.series_key, c.image, block_num, at, block_num, at,
            ),
        )  # fmt: skip
        post_id = int(cur.fetchall()[0][0])
        self._refs[(author, permlink)] = (post_id, community)
        return post_id

    def update_post(self, post_id: int, *, content: PostContent, block_num: int, at: str) -> None:
        c = content
        self._conn.execute(
            "UPDATE posts SET title = ?, body = ?, json_metadata = ?, tags = ?, series = ?, series_key = ?,"
            " image = ?, updated_block = ?, updated_at = ?, edits = edits + 1 WHERE id = ?",
            (
                c.title, c.body, c.json_metadata, json.dumps(list(c.tags)), c.series, c.series_key, c.image,
                block_num, at, post_id,
            ),
        )  # fmt: skip

    def mark_deleted(self, post_id: int, block_num: int, at: str) -> None:
        self._refs = {k: v for k, v in self._refs.items() if v[0] != post_id}
        self._conn.execute(
            "UPDATE posts SET deleted = 1, deleted_block = ?, updated_at = ? WHERE id = ?",
            (block_num, at, post_id),
        )

    def live_reply_ref(self, author: str, permlink: str) -> tuple[int, int, str] | None:
        """(reply id, root post id, community) of a live reply."""
        key = (author, permlink)
        ref = self._reply_refs.get(key)
        if ref is None:
            row = self._conn.execute(
                "SELECT r.id, r.post_id, p.community FROM replies r JOIN posts p ON p.id = r.post_id"
                " WHERE r.author = ? AND r.permlink = ? AND r.deleted = 0",
                key,
            ).fetchone()
            if row is None:
                return None
            ref = self._reply_refs[key] = (int(row[0]), int(row[1]), str(row[2]))
        return ref

    def reply_body(self, reply_id: int) -> str:
        row = self._conn.execute("SELECT body FROM replies WHERE id = ?", (reply_id,)).fetchone()
        return str(row[0]) if row else ""

    def insert_reply(
        self,
        *,
        post_id: int,
        community: str,
        author: str,
        permlink: str,
        parent_author: str,
        parent_permlink: str,
        body: str,
        block_num: int,
        at: str,
    ) -> int:
        cur = self._conn.execute(
            "INSERT INTO replies (post_id, author, permlink, parent_author, parent_permlink, body, created_block,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (post_id, author, permlink, parent_author, parent_permlink, body, block_num, at, at),
        )
        reply_id = int(cur.fetchall()[0][0])
        self._reply_refs[(author, permlink)] = (reply_id, post_id, community)
        return reply_id

    def update_reply(self, reply_id: int, body: str, at: str) -> None:
        self._conn.execute(
            "UPDATE replies SET body = ?, updated_at = ?, edits = edits + 1 WHERE id = ?", (body, at, reply_id)
        )

    def mark_reply_deleted(self, reply_id: int, block_num: int, at: str) -> None:
        self._reply_refs = {k: v for k, v in self._reply_refs.items() if v[0] != reply_id}
        self._conn.execute(
            "UPDATE replies SET deleted = 1, deleted_block = ?, updated_at = ? WHERE id = ?",
            (block_num, at, reply_id),
        )

    def mute_reply(self, reply_id: int) -> bool:
        """A reply the community's moderators muted, hidden in place (MUTED_REPLY); False when it is not live."""
        self._reply_refs = {k: v for k, v in self._reply_refs.items() if v[0] != reply_id}
        cur = self._conn.execute("UPDATE replies SET deleted = ? WHERE id = ? AND deleted = 0", (MUTED_REPLY, reply_id))
        return cur.rowcount == 1

    def record_vote(
        self,
        post_id: int,
        *,
        voter: str,
        weight: int,
        rshares: int | None,
        pending_payout: str | None,
        block_num: int,
        at: str,
    ) -> None:
        self._votes.append((post_id, voter, weight, rshares, pending_payout, block_num, at))

    def insert_badge(
        self,
        *,
        recipient: str,
        badge: str,
        image_url: str,
        achievement: str,
        next_target: str | None,
        notice: str,
        block_num: int,
        at: str,
    ) -> int | None:
        """The new badge's id, or None when this notice was already recorded (hivebuzz edited it)."""
        cur = self._conn.execute(
            "INSERT INTO badges (recipient, badge, image_url, achievement, next_target, notice, block_num, awarded_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (notice) DO NOTHING RETURNING id",
            (recipient, badge, image_url, achievement, next_target, notice, block_num, at),
        )
        rows = cur.fetchall()
        return int(rows[0][0]) if rows else None

    def complete_link(
        self, *, user_id: int, account: str, code: str, chain_time: float, block_num: int, at: str
    ) -> bool:
        """A custom_json proof: links the member when `code` is their open code for `account`."""
        change = complete_on_chain(
            self._conn, user_id=user_id, account=account, code=code, chain_time=chain_time, block_num=block_num, at=at
        )
        if change is not None:
            self.link_changes.append(change)
        return change is not None

    def add_outbox(
        self,
        kind: OutboxKind,
        *,
        block_num: int,
        at: str,
        community: str | None = None,
        post_id: int | None = None,
        badge_id: int | None = None,
        voter: str | None = None,
        weight: int | None = None,
        reply_id: int | None = None,
    ) -> None:
        self._outbox.append((kind, community, post_id, badge_id, voter, weight, block_num, at, reply_id))

    def flush(self) -> None:
        """Writes the queued votes and outbox rows, in the order they came."""
        if self._votes:
            self._conn.executemany(
                "INSERT INTO votes (post_id, voter, weight, rshares, pending_payout, block_num, voted_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (post_id, voter) DO UPDATE SET weight = excluded.weight, rshares = excluded.rshares,"
                " pending_payout = excluded.pending_payout, block_num = excluded.block_num,"
                " voted_at = excluded.voted_at",
                self._votes,
            )
            self._votes.clear()
        if self._outbox:
            self._conn.executemany(
                "INSERT INTO outbox (kind, community, post_id, badge_id, voter, weight, block_num, at, reply_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                self._outbox,
            )
            self._outbox.clear()

    def set_cursor(self, block_num: int, at: str = "", previous: int | None = None) -> None:
        """The last block stored, and its time (chain time drives the vote digests); with `previous`,
        only if the cursor is still there (db.write_cursor)."""
        write_cursor(self._conn, block_num, at, previous)


async def chain_batch(db: Db, work: Callable[[ChainWriter], T], links_listener: ChainLinksListener | None = None) -> T:
    """Runs `work` with a ChainWriter in one batch transaction: all a batch of blocks produced, and
    the cursor, or none of it (see Database.batch). Links it completed are told to `links_listener`
    once committed."""
    changes: list[LinkChange] = []

    def run(conn: SyncConn) -> T:
        writer = ChainWriter(conn)
        result = work(writer)
        writer.flush()
        changes.extend(writer.link_changes)
        return result

    result = await db.batch(run)
    if changes and links_listener is not None:
        await links_listener(changes)
    return result
