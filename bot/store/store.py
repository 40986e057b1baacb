"""The one SQLite file: every SQL statement of hivecord lives in this package."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.store.delivery import DeliveryTables
from bot.store.migrate import migrate
from bot.store.subscriptions import SubscriptionTables

T = TypeVar("T")

_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    # NORMAL in WAL mode survives a killed process; only a power cut may lose the last commits,
    # and those carry their cursor with them, so the chain is simply read again.
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 10000",
)


@dataclass(frozen=True, slots=True)
class PostRow:
    id: int
    author: str
    permlink: str
    community: str
    title: str
    body: str
    json_metadata: str
    tags: tuple[str, ...]
    series: str | None
    series_key: str | None
    image: str | None
    created_block: int
    created_at: str
    updated_block: int
    updated_at: str
    edits: int
    deleted: bool
    vote_count: int
    pending_payout: str | None

    @property
    def url(self) -> str:
        return f"https://hive.blog/{self.community}/@{self.author}/{self.permlink}"


# bm25 column weights: a word in the title counts most, then series, tags, body.
_BM25 = "bm25(posts_fts, 10.0, 6.0, 3.0, 1.0)"
# How many of the newest matches a search counts and ranks (see Store.search_ids).
SEARCH_WINDOW = 1000


def _post_columns(alias: str) -> str:
    """The PostRow columns of posts `alias`; votes and payout come from the votes table."""
    plain = (
        "id, author, permlink, community, title, body, json_metadata, tags, series, series_key, image, "
        "created_block, created_at, updated_block, updated_at, edits, deleted"
    )
    columns = ", ".join(f"{alias}.{c.strip()}" for c in plain.split(","))
    return (
        f"{columns}, (SELECT count(*) FROM votes v WHERE v.post_id = {alias}.id AND v.weight != 0),"
        f" (SELECT v.pending_payout FROM votes v WHERE v.post_id = {alias}.id AND v.pending_payout IS NOT NULL"
        " ORDER BY v.block_num DESC LIMIT 1)"
    )


_POST_COLUMNS = _post_columns("posts")


# Anything but word characters, white space and combining accents: symbols, punctuation, emoji.
_NOT_WORD = re.compile(r"[^\w\s\u0300-\u036f]+")


def search_text(text: str | None) -> str:
    """Text as the full-text index sees it: symbols, punctuation and emoji become spaces."""
    return _NOT_WORD.sub(" ", text) if text else ""


def _post(row: aiosqlite.Row | tuple[Any, ...]) -> PostRow:
    values = list(row)
    values[7] = tuple(json.loads(values[7]))
    values[16] = bool(values[16])
    return PostRow(*values)


@dataclass(frozen=True, slots=True)
class PostContent:
    """What a post says, as stored: its fields and what was read from them."""

    title: str
    body: str
    json_metadata: str
    tags: tuple[str, ...]
    series: str | None
    series_key: str | None
    image: str | None


class ChainWriter:
    """The statements one batch of blocks runs, inside the transaction that also moves the cursor.

    Synchronous on purpose: a whole batch runs in one worker thread, since a thread hop per
    statement cost more than the statements themselves (measured: 250 ms per 1000 blocks).
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        # Votes and outbox rows are most of a batch: they are queued in chain order and written
        # with one executemany each at flush(); nothing in a batch reads them back before that.
        self._votes: list[tuple[Any, ...]] = []
        self._outbox: list[tuple[Any, ...]] = []
        self._refs: dict[tuple[str, str], tuple[int, str]] = {}

    def live_post(self, author: str, permlink: str) -> PostRow | None:
        row = self._conn.execute(
            f"SELECT {_POST_COLUMNS} FROM posts WHERE author = ? AND permlink = ? AND deleted = 0",
            (author, permlink),
        ).fetchone()
        return _post(row) if row else None

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
            ref = self._refs[key] = (int(row[0]), str(row[1]))
        return ref

    def insert_post(
        self, *, author: str, permlink: str, community: str, content: PostContent, block_num: int, at: str
    ) -> int:
        c = content
        cur = self._conn.execute(
            "INSERT INTO posts (author, permlink, community, title, body, json_metadata, tags, series,"
            " series_key, image, created_block, created_at, updated_block, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                author, permlink, community, c.title, c.body, c.json_metadata, json.dumps(list(c.tags)),
                c.series, c.series_key, c.image, block_num, at, block_num, at,
            ),
        )  # fmt: skip
        assert cur.lastrowid is not None
        self._refs[(author, permlink)] = (cur.lastrowid, community)
        return cur.lastrowid

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
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (notice) DO NOTHING",
            (recipient, badge, image_url, achievement, next_target, notice, block_num, at),
        )
        return cur.lastrowid if cur.rowcount == 1 else None

    def add_outbox(
        self,
        kind: str,
        *,
        block_num: int,
        at: str,
        community: str | None = None,
        post_id: int | None = None,
        badge_id: int | None = None,
        voter: str | None = None,
        weight: int | None = None,
    ) -> None:
        self._outbox.append((kind, community, post_id, badge_id, voter, weight, block_num, at))

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
                "INSERT INTO outbox (kind, community, post_id, badge_id, voter, weight, block_num, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                self._outbox,
            )
            self._outbox.clear()

    def set_cursor(self, block_num: int, at: str = "") -> None:
        """The last block stored, and its time (chain time drives the vote digests)."""
        self._conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [("cursor", str(block_num)), ("cursor_time", at)],
        )


class Store:
    """Opens the database, applies migrations, and hands out named operations.

    Writes go through one connection under a lock (the follower and delivery take turns);
    reads use a second connection so a slow query never waits on a batch of blocks.
    """

    def __init__(
        self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection, chain: sqlite3.Connection
    ) -> None:
        self.path = path
        self._writer = writer
        self._reader = reader
        self._chain = chain
        self._write_lock = asyncio.Lock()
        self.delivery = DeliveryTables(self)
        self.subscriptions = SubscriptionTables(self)

    @classmethod
    async def open(cls, path: Path | str) -> Store:
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        writer = await aiosqlite.connect(path, isolation_level=None)
        try:
            await writer.create_function("search_text", 1, search_text, deterministic=True)
            for pragma in _PRAGMAS:
                await writer.execute(pragma)
            await migrate(writer)
            reader = await aiosqlite.connect(path, isolation_level=None)
            for pragma in _PRAGMAS[1:]:
                await reader.execute(pragma)
            await reader.execute("PRAGMA query_only = ON")
            # Searches read many index pages: mapped, they skip a copy per page (p95 18 -> 14 ms
            # at 100,000 reviews). Writes still go through the writer's ordinary I/O.
            await reader.execute("PRAGMA mmap_size = 268435456")
            chain = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            chain.create_function("search_text", 1, search_text, deterministic=True)
            for pragma in _PRAGMAS[1:]:
                chain.execute(pragma)
        except BaseException:
            await writer.close()
            raise
        return cls(path, writer, reader, chain)

    async def close(self) -> None:
        async with self._write_lock:
            await self._reader.close()
            await self._writer.close()
            self._chain.close()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction on the writer connection; rolled back if anything in it fails."""
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            await self._writer.execute("COMMIT")

    async def chain_batch(self, work: Callable[[ChainWriter], T]) -> T:
        """Runs `work` in one transaction in a worker thread: all a batch of blocks produced, and the
        cursor, or none of it. Holds the write lock, so delivery's writes wait their turn.

        A caller cancelled meanwhile (a stop) leaves the transaction to finish in its thread, still
        holding the lock, so close() waits for it instead of closing the connection under it."""
        return await asyncio.shield(self._chain_batch(work))

    async def _chain_batch(self, work: Callable[[ChainWriter], T]) -> T:
        async with self._write_lock:
            return await asyncio.to_thread(self._in_transaction, work)

    def _in_transaction(self, work: Callable[[ChainWriter], T]) -> T:
        self._chain.execute("BEGIN IMMEDIATE")
        try:
            writer = ChainWriter(self._chain)
            result = work(writer)
            writer.flush()
        except BaseException:
            self._chain.execute("ROLLBACK")
            raise
        self._chain.execute("COMMIT")
        return result

    async def cursor(self) -> int | None:
        async with self._reader.execute("SELECT value FROM meta WHERE key = 'cursor'") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else None

    async def live_post_keys(self) -> set[tuple[str, str]]:
        async with self._reader.execute("SELECT author, permlink FROM posts WHERE deleted = 0") as cur:
            return {(r[0], r[1]) for r in await cur.fetchall()}

    async def known_authors(self) -> set[str]:
        async with self._reader.execute("SELECT DISTINCT author FROM posts") as cur:
            return {r[0] for r in await cur.fetchall()}

    async def post(self, post_id: int) -> PostRow | None:
        async with self._reader.execute(f"SELECT {_POST_COLUMNS} FROM posts WHERE id = ?", (post_id,)) as cur:
            row = await cur.fetchone()
        return _post(row) if row else None

    async def badge(self, badge_id: int) -> tuple[str, str, str, str, str | None] | None:
        """(recipient, badge, image_url, achievement, next_target)."""
        async with self._reader.execute(
            "SELECT recipient, badge, image_url, achievement, next_target FROM badges WHERE id = ?", (badge_id,)
        ) as cur:
            row = await cur.fetchone()
        return tuple(row) if row else None

    async def get_meta(self, key: str) -> str | None:
        async with self._reader.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cur:
            row = await cur.fetchone()
        return str(row[0]) if row else None

    async def set_meta(self, key: str, value: str) -> None:
        async with self.write() as conn:
            await conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    async def latest_post(self, community: str) -> PostRow | None:
        async with self._reader.execute(
            f"SELECT {_POST_COLUMNS} FROM posts WHERE community = ? AND deleted = 0"
            " ORDER BY created_at DESC, id DESC LIMIT 1",
            (community,),
        ) as cur:
            row = await cur.fetchone()
        return _post(row) if row else None

    async def series_names(self) -> list[tuple[str, str, int]]:
        """(series_key, a display name, reviews) of every series seen, most reviewed first."""
        async with self._reader.execute(
            "SELECT series_key, max(series), count(*) FROM posts WHERE deleted = 0 AND series_key IS NOT NULL"
            " GROUP BY series_key ORDER BY count(*) DESC, series_key"
        ) as cur:
            return [(str(r[0]), str(r[1]), int(r[2])) for r in await cur.fetchall()]

    async def authors_starting(self, prefix: str, limit: int = 25) -> list[str]:
        """Authors of live posts whose name starts with `prefix`, most prolific first."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        async with self._reader.execute(
            "SELECT author FROM posts WHERE deleted = 0 AND author LIKE ? ESCAPE '\\'"
            " GROUP BY author ORDER BY count(*) DESC, author LIMIT ?",
            (escaped + "%", limit),
        ) as cur:
            return [str(r[0]) for r in await cur.fetchall()]

    async def search_ids(
        self,
        query: str | None,
        *,
        author: str | None = None,
        series_key: str | None = None,
        community: str | None = None,
        newest_first: bool = False,
        window: int = SEARCH_WINDOW,
    ) -> tuple[list[int], bool]:
        """Ids of the live posts matching an FTS5 expression (None: every post) and the filters, best
        match first (bm25: title > series > tags > body) or newest first; at most `window` of them,
        and whether more matched.

        The work stays bounded whatever is typed: post ids grow with the chain and FTS5 streams
        rowids in order, so the newest `window` matches come cheaply, and bm25 ranks only those.
        A common word's 80,000 matches are never all scored to show five.
        """
        live = ["p.deleted = 0"]
        live_args: list[Any] = []
        if community:
            live.append("p.community = ?")
            live_args.append(community)
        # Author and series narrow the search through their indexes (the series column itself sits
        # after the body, in overflow pages: reading it per row would read every body).
        subsets: list[str] = []
        subset_args: list[Any] = []
        for column, value in (("author", author), ("series_key", series_key)):
            if value:
                subsets.append(f"SELECT id FROM posts WHERE {column} = ?")
                subset_args.append(value)
        subset = " INTERSECT ".join(subsets)
        if query is None:
            where = " AND ".join([*live, *([f"p.id IN ({subset})"] if subset else [])])
            ids = await self._ids(
                f"SELECT p.id FROM posts p WHERE {where} ORDER BY p.id DESC LIMIT ?",
                [*live_args, *subset_args, window + 1],
            )
            return ids[:window], len(ids) > window
        # CROSS JOIN keeps the full-text index as the outer loop, and the unary + keeps the subset
        # a filter on its rowids: driving FTS5 from the posts instead would open one FTS5 cursor per
        # post, and expand a prefix term again in each. bm25 is computed in the same pass, for the
        # rows returned only; a second pass would expand a prefix term once more.
        where = " AND ".join(["posts_fts MATCH ?", *([f"+posts_fts.rowid IN ({subset})"] if subset else []), *live])
        score = "0" if newest_first else _BM25  # bm25 reads every matching list once more
        async with self._reader.execute(
            f"SELECT posts_fts.rowid, {score} FROM posts_fts CROSS JOIN posts p ON p.id = posts_fts.rowid"
            f" WHERE {where} ORDER BY posts_fts.rowid DESC LIMIT ?",
            [query, *subset_args, *live_args, window + 1],
        ) as cur:
            rows = [(int(r[0]), float(r[1])) for r in await cur.fetchall()]
        more = len(rows) > window
        rows = rows[:window]
        if not newest_first:
            # bm25 is lower for better matches; ties go to the newer post.
            rows.sort(key=lambda row: (row[1], -row[0]))
        return [row[0] for row in rows], more

    async def _ids(self, sql: str, args: list[Any]) -> list[int]:
        async with self._reader.execute(sql, args) as cur:
            return [int(r[0]) for r in await cur.fetchall()]

    async def live_posts(self, ids: list[int]) -> list[PostRow]:
        """The live posts among `ids`, in the order given."""
        async with self._reader.execute(
            f"SELECT {_POST_COLUMNS} FROM posts WHERE id IN (SELECT value FROM json_each(?)) AND deleted = 0",
            (json.dumps(ids),),
        ) as cur:
            rows = {int(row[0]): _post(row) for row in await cur.fetchall()}
        return [rows[i] for i in ids if i in rows]

    async def has_author(self, author: str) -> bool:
        """Whether `author` wrote any stored live post."""
        async with self._reader.execute(
            "SELECT 1 FROM posts WHERE author = ? AND deleted = 0 LIMIT 1", (author,)
        ) as cur:
            return await cur.fetchone() is not None
