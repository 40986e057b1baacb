"""Posts and badges as stored from the chain: reading them, and the full-text search over posts."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

from bot.domain import Badge, FeedFilter, PostRow
from bot.store.engine import Db, Row
from bot.store.filters import passing, recent_authors, recent_posts

if TYPE_CHECKING:
    from bot.store.postgres.database import PgDatabase

_NAMES_SLICE = 1024  # series names read per hop to the reader's thread
# bm25 column weights: a word in the title counts most, then series, tags, body.
_BM25 = "bm25(posts_fts, 10.0, 6.0, 3.0, 1.0)"
# How many of the newest matches a search counts and ranks (see PostTables.search_ids).
SEARCH_WINDOW = 1000


def _post_columns(alias: str) -> str:
    """The PostRow columns of posts `alias`; votes and payout come from the votes table."""
    plain = (
        "id, author, permlink, community, title, body, json_metadata, tags, series, series_key, image, "
        "created_block, created_at, updated_block, updated_at, edits, deleted"
    )
    columns = ", ".join(f"{alias}.{c.strip()}" for c in plain.split(","))
    return (
        f"{columns}, (SELECT count(*) FROM votes v WHERE v.post_id = {alias}.id AND v.weight != 0) AS vote_count,"
        f" (SELECT v.pending_payout FROM votes v WHERE v.post_id = {alias}.id AND v.pending_payout IS NOT NULL"
        " ORDER BY v.block_num DESC LIMIT 1) AS pending_payout"
    )


POST_COLUMNS = _post_columns("posts")


def post_from_row(row: Row) -> PostRow:
    """A PostRow from a row of POST_COLUMNS, by column name."""
    return PostRow(
        id=row["id"],
        author=row["author"],
        permlink=row["permlink"],
        community=row["community"],
        title=row["title"],
        body=row["body"],
        json_metadata=row["json_metadata"],
        tags=tuple(json.loads(row["tags"])),
        series=row["series"],
        series_key=row["series_key"],
        image=row["image"],
        created_block=row["created_block"],
        created_at=row["created_at"],
        updated_block=row["updated_block"],
        updated_at=row["updated_at"],
        edits=row["edits"],
        deleted=bool(row["deleted"]),
        vote_count=row["vote_count"],
        pending_payout=row["pending_payout"],
    )


class PostTables:
    """Reads of posts and badges, on the database's read connection."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def live_post_keys(self) -> set[tuple[str, str]]:
        async with self._db.reader.execute("SELECT author, permlink FROM posts WHERE deleted = 0") as cur:
            return {(r["author"], r["permlink"]) for r in await cur.fetchall()}

    async def live_post_keys_after(self, after: int) -> tuple[list[tuple[str, str]], int]:
        """(author, permlink) of the live posts stored after row `after` (another process's backfill),
        and the last row id seen, to ask from next time."""
        async with self._db.reader.execute(
            "SELECT id, author, permlink, deleted FROM posts WHERE id > ? ORDER BY id", (after,)
        ) as cur:
            rows = await cur.fetchall()
        keys = [(str(r["author"]), str(r["permlink"])) for r in rows if not r["deleted"]]
        return keys, int(rows[-1]["id"]) if rows else after

    async def last_row_ids(self) -> tuple[int, int]:
        """The newest post's and reply's row ids (0 when there is none)."""
        rows = list(
            await self._db.reader.execute_fetchall(
                "SELECT (SELECT coalesce(max(id), 0) FROM posts) AS post,"
                " (SELECT coalesce(max(id), 0) FROM replies) AS reply"
            )
        )
        return int(rows[0]["post"]), int(rows[0]["reply"])

    async def known_authors(self) -> set[str]:
        async with self._db.reader.execute("SELECT DISTINCT author FROM posts") as cur:
            return {r["author"] for r in await cur.fetchall()}

    async def post(self, post_id: int) -> PostRow | None:
        async with self._db.reader.execute(f"SELECT {POST_COLUMNS} FROM posts WHERE id = ?", (post_id,)) as cur:
            row = await cur.fetchone()
        return post_from_row(row) if row else None

    async def live_post(self, author: str, permlink: str) -> PostRow | None:
        async with self._db.reader.execute(
            f"SELECT {POST_COLUMNS} FROM posts WHERE author = ? AND permlink = ? AND deleted = 0", (author, permlink)
        ) as cur:
            row = await cur.fetchone()
        return post_from_row(row) if row else None

    async def badge(self, badge_id: int) -> Badge | None:
        async with self._db.reader.execute(
            "SELECT recipient, badge, image_url, achievement, next_target FROM badges WHERE id = ?", (badge_id,)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return Badge(
            recipient=row["recipient"],
            badge=row["badge"],
            image_url=row["image_url"],
            achievement=row["achievement"],
            next_target=row["next_target"],
        )

    async def latest_passing(self, community: str, feed_filter: FeedFilter) -> PostRow | None:
        """The community's latest stored post that passes a feed's filter (within FILTER_SCAN posts)."""
        conn = self._db.reader
        found = await passing(conn, feed_filter, await recent_posts(conn, community, feed_filter))
        return await self.post(found[0]) if found else None

    async def recent_authors(self, community: str) -> list[str]:
        return await recent_authors(self._db.reader, community)

    async def series_names(self) -> list[tuple[str, str, int]]:
        """(series_key, a display name, reviews) of every series seen, most reviewed first."""
        names: list[tuple[str, str, int]] = []
        async with self._db.reader.execute(
            "SELECT series_key, coalesce(max(series), series_key), count(*) FROM posts"
            " WHERE deleted = 0 AND series_key IS NOT NULL GROUP BY series_key ORDER BY count(*) DESC, series_key"
        ) as cur:
            # Plain tuples, a slice per hop: mapping 50,000 rows by name in one go held the event
            # loop for 25-110 ms (the rows' types are the columns' own: text, text, integer).
            cur.row_factory = None
            while rows := await cur.fetchmany(_NAMES_SLICE):
                names += cast(list[tuple[str, str, int]], rows)
        return names

    async def authors_starting(self, prefix: str, limit: int = 25) -> list[str]:
        """Authors of live posts whose name starts with `prefix`, most prolific first."""
        # Hive names are lower case; PostgreSQL's LIKE, unlike SQLite's, does not fold case.
        escaped = prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        async with self._db.reader.execute(
            "SELECT author FROM posts WHERE deleted = 0 AND author LIKE ? ESCAPE '\\'"
            " GROUP BY author ORDER BY count(*) DESC, author LIMIT ?",
            (escaped + "%", limit),
        ) as cur:
            return [str(r["author"]) for r in await cur.fetchall()]

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
        if self._db.engine == "postgresql":
            from bot.store.postgres import search  # asyncpg's engine only

            async with cast("PgDatabase", self._db).raw_read() as raw, raw.transaction(readonly=True):
                # Planned for the words searched each time: a generic plan of this reused text, made
                # without them, skips the GIN index (65-167 ms a page against 7; docs/postgresql.md).
                await raw.execute("SET LOCAL plan_cache_mode = force_custom_plan")
                return await search.search_ids(
                    raw, query, author=author, series_key=series_key, community=community,
                    newest_first=newest_first, window=window,
                )  # fmt: skip
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
            return await self._window(
                f"SELECT p.id AS id, 0 AS score FROM posts p WHERE {where} ORDER BY p.id DESC LIMIT ?",
                [*live_args, *subset_args, window + 1],
                window,
                newest_first=True,
            )
        # CROSS JOIN keeps the full-text index as the outer loop, and the unary + keeps the subset
        # a filter on its rowids: driving FTS5 from the posts instead would open one FTS5 cursor per
        # post, and expand a prefix term again in each. bm25 is computed in the same pass, for the
        # rows returned only; a second pass would expand a prefix term once more. The live check
        # reads the covering posts_search index, never the post row (its body and all).
        where = " AND ".join(["posts_fts MATCH ?", *([f"+posts_fts.rowid IN ({subset})"] if subset else []), *live])
        score = "0" if newest_first else _BM25  # bm25 reads every matching list once more
        return await self._window(
            f"SELECT posts_fts.rowid AS id, {score} AS score FROM posts_fts"
            f" CROSS JOIN posts p INDEXED BY posts_search ON p.id = posts_fts.rowid"
            f" WHERE {where} ORDER BY posts_fts.rowid DESC LIMIT ?",
            [query, *subset_args, *live_args, window + 1],
            window,
            newest_first=newest_first,
        )

    async def _window(self, newest: str, args: list[Any], window: int, *, newest_first: bool) -> tuple[list[int], bool]:
        """The ids of `newest` (rows of id and score, newest first, at most window + 1 of them) in
        order, without the extra row, and whether there was one.

        SQLite orders them and hands them over as one JSON list: a row object per match cost more
        than the ranking itself (bm25 is lower for better matches; ties go to the newer post).
        """
        order = "id DESC" if newest_first else "score, id DESC"
        # One hop to the reader's thread and back (execute, fetch and close as one call): each hop
        # waits for a thread to be scheduled, which on a busy machine costs more than small reads.
        rows = await self._db.reader.execute_fetchall(
            "SELECT json_group_array(id) AS ids, count(*) AS matches, min(id) AS oldest"
            f" FROM (SELECT id FROM ({newest}) ORDER BY {order})",
            args,
        )
        row = next(iter(rows))  # an aggregate always answers
        ids: list[int] = json.loads(row["ids"])
        more = row["matches"] > window
        if more:
            ids.remove(row["oldest"])  # the window is the newest `window` matches
        return ids, more

    async def live_posts(self, ids: list[int]) -> list[PostRow]:
        """The live posts among `ids`, in the order given."""
        args: tuple[Any, ...]
        if self._db.engine == "postgresql":
            sql, args = f"SELECT {POST_COLUMNS} FROM posts WHERE id = ANY(?) AND deleted = 0", (ids,)
        else:
            sql = f"SELECT {POST_COLUMNS} FROM posts WHERE id IN (SELECT value FROM json_each(?)) AND deleted = 0"
            args = (json.dumps(ids),)
        found = await self._db.reader.execute_fetchall(sql, args)
        rows = {int(row["id"]): post_from_row(row) for row in found}
        return [rows[i] for i in ids if i in rows]

    async def has_author(self, author: str) -> bool:
        """Whether `author` wrote any stored live post."""
        async with self._db.reader.execute(
            "SELECT 1 FROM posts WHERE author = ? AND deleted = 0 LIMIT 1", (author,)
        ) as cur:
            return await cur.fetchone() is not None
