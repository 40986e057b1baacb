"""One server's delivery as /status shows it: its pending jobs and its lanes by state, nothing of others."""

from __future__ import annotations

from typing import Literal

from bot.domain import LaneCounts, LaneState
from bot.store.engine import Db

# The lanes that are this server's, from its own rows only: its feeds' channels and their threads,
# the roles its rules give, its curation audit channels, the channels its members subscribed in. A
# member's DM lane is theirs, not a server's.
_HERE = (
    "WITH here_feeds (id) AS (SELECT id FROM feeds WHERE guild_id = :guild),"
    " here (lane) AS (SELECT channel_id FROM feeds WHERE guild_id = :guild"
    " UNION SELECT t.thread_id FROM threads t JOIN feeds f ON f.channel_id = t.channel_id"
    " WHERE f.guild_id = :guild AND t.thread_id != 0"
    " UNION SELECT role_id FROM role_rules WHERE guild_id = :guild"
    " UNION SELECT role_id FROM role_grants WHERE guild_id = :guild"
    " UNION SELECT audit_channel FROM curation_rules WHERE guild_id = :guild AND audit_channel IS NOT NULL"
    " UNION SELECT channel_id FROM subscriptions WHERE guild_id = :guild AND channel_id IS NOT NULL)"
)
_OURS = "(j.feed_id IN (SELECT id FROM here_feeds) OR j.channel_id IN (SELECT lane FROM here))"


class BacklogQueries:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def pending_count(self, guild_id: int) -> int:
        """Jobs waiting to be sent in the server's lanes."""
        async with self._db.reader.execute(
            f"{_HERE} SELECT count(*) AS n FROM jobs j WHERE j.state = 'pending' AND {_OURS}", {"guild": guild_id}
        ) as cur:
            row = await cur.fetchone()
        return int(row["n"]) if row else 0

    async def lane_counts(self, guild_id: int, now: float, rejected_since: float) -> LaneCounts:
        """The server's lanes in use (a feed's channel, pending work, or a known state) by state, and
        its sends Discord rejected (400) since `rejected_since`."""
        params = {"guild": guild_id, "now": now, "since": rejected_since}
        async with self._db.reader.execute(
            f"{_HERE}, used (lane) AS (SELECT lane FROM here UNION SELECT j.channel_id FROM jobs j"
            f" WHERE j.state = 'pending' AND {_OURS})"
            " SELECT CASE WHEN l.state = 'refused' THEN 'refused'"
            " WHEN l.state = 'backoff' AND l.retry_at > :now THEN 'backoff' ELSE 'ok' END AS state, count(*) AS n"
            " FROM used u LEFT JOIN lanes l ON l.lane_id = u.lane GROUP BY 1",
            params,
        ) as cur:
            counts: dict[LaneState | Literal["ok"], int] = {r["state"]: int(r["n"]) for r in await cur.fetchall()}
        async with self._db.reader.execute(
            f"{_HERE} SELECT count(*) AS n FROM jobs j"
            f" WHERE j.error_status IS NOT NULL AND j.finished_at >= :since AND {_OURS}",
            params,
        ) as cur:
            row = await cur.fetchone()
        return LaneCounts(
            ok=counts.get("ok", 0),
            backoff=counts.get("backoff", 0),
            refused=counts.get("refused", 0),
            rejected=int(row["n"]) if row else 0,
        )
