"""Which stored posts pass a feed's filter: the facts FeedFilter.passes decides on, read in one place.

The planner (a new post, a badge, a subscriber's mention in a server), backfill and /feed test all come
here, so they cannot disagree.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.domain import FeedFilter
from bot.store.engine import Conn
from bot.store.moderation import NOT_MUTED

# Backfill and /feed test look this far back for posts that pass: a bounded read, however strict the filter.
FILTER_SCAN = 500


async def passing(conn: Conn, feed_filter: FeedFilter, post_ids: Sequence[int]) -> list[int]:
    """The posts of `post_ids` that pass the filter, in the order given."""
    if feed_filter.empty or not post_ids:
        return list(post_ids)
    facts: dict[int, tuple[str, tuple[str, ...], float | None]] = {}
    for start in range(0, len(post_ids), FILTER_SCAN):
        chunk = list(post_ids[start : start + FILTER_SCAN])
        marks = ", ".join("?" * len(chunk))
        async with conn.execute(
            "SELECT p.id, p.author, p.tags, a.reputation FROM posts p"
            f" LEFT JOIN account_facts a ON a.account = p.author WHERE p.id IN ({marks})",
            chunk,
        ) as cur:
            for row in await cur.fetchall():
                facts[int(row[0])] = (str(row[1]), _tags(row[2]), row[3])
    return [i for i in post_ids if i in facts and feed_filter.passes(*facts[i])]


async def badge_passes(conn: Conn, feed_filter: FeedFilter, badge_id: int) -> bool:
    """Whether a HiveBuzz badge goes to a feed: its recipient judged by the filter's account part."""
    if feed_filter.of_account.empty:
        return True
    async with conn.execute(
        "SELECT b.recipient, a.reputation FROM badges b LEFT JOIN account_facts a ON a.account = b.recipient"
        " WHERE b.id = ?",
        (badge_id,),
    ) as cur:
        row = await cur.fetchone()
    return row is not None and feed_filter.of_account.passes(str(row[0]), (), row[1])


def _tags(text: str) -> tuple[str, ...]:
    try:
        tags = json.loads(text)
    except ValueError:
        return ()
    return tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else ()


async def recent_posts(
    conn: Conn, community: str, feed_filter: FeedFilter, *, not_in_channel: int | None = None
) -> list[int]:
    """The community's live posts newest first, as far back as a filtered pick looks (FILTER_SCAN),
    none the community's moderators muted; `not_in_channel` leaves out those the channel shows or is owed."""
    sql = f"SELECT id FROM posts WHERE community = ? AND deleted = 0 AND {NOT_MUTED}"
    args: list[object] = [community]
    if not_in_channel is not None:
        sql += (
            " AND id NOT IN (SELECT post_id FROM jobs WHERE channel_id = ? AND action = 'post' AND post_id IS NOT NULL)"
            " AND id NOT IN (SELECT post_id FROM mirrors WHERE channel_id = ?)"
        )
        args += [not_in_channel, not_in_channel]
    sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
    args.append(FILTER_SCAN)
    async with conn.execute(sql, args) as cur:
        return [int(r[0]) for r in await cur.fetchall()]


async def recent_authors(conn: Conn, community: str) -> list[str]:
    """Authors of the posts a filtered pick may look at: whose reputation it may need."""
    async with conn.execute(
        "SELECT DISTINCT author FROM (SELECT author FROM posts WHERE community = ? AND deleted = 0"
        " ORDER BY created_at DESC, id DESC LIMIT ?) AS recent",  # PostgreSQL before 16 wants the alias
        (community, FILTER_SCAN),
    ) as cur:
        return [str(r[0]) for r in await cur.fetchall()]
