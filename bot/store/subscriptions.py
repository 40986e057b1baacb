"""Series subscriptions, DM channels and closed DMs: the SQL behind /subscribe and the alerts."""

from __future__ import annotations

from bot.domain import DeliveryMode, SubscribeOutcome, Subscription
from bot.store.engine import Conn, Db, Row

_COLUMNS = "user_id, series_key, series, delivery, guild_id, channel_id, created_at"


def subscription_from_row(row: Row) -> Subscription:
    """A Subscription from a row of its columns, by name."""
    return Subscription(
        user_id=row["user_id"],
        series_key=row["series_key"],
        series=row["series"],
        delivery=row["delivery"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        created_at=row["created_at"],
    )


async def subscribers(conn: Conn, series_key: str) -> list[Subscription]:
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM subscriptions WHERE series_key = ? ORDER BY created_at, user_id", (series_key,)
    ) as cur:
        return [subscription_from_row(r) for r in await cur.fetchall()]


async def closed_dms(conn: Conn) -> set[int]:
    """Members whose DMs are known closed."""
    async with conn.execute("SELECT user_id FROM dm_closed") as cur:
        return {int(r["user_id"]) for r in await cur.fetchall()}


class SubscriptionTables:
    """Named operations on subscriptions, members' DM channels and closed DMs."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def subscribe(
        self,
        *,
        user_id: int,
        series_key: str,
        series: str,
        delivery: DeliveryMode,
        guild_id: int | None,
        channel_id: int | None,
        at: str,
        cap: int,
    ) -> SubscribeOutcome:
        """Adds or updates one subscription unless the member already has `cap` others."""
        async with self._db.write() as conn:
            async with conn.execute(
                "SELECT count(*) AS total, sum(CASE WHEN series_key = ? THEN 1 ELSE 0 END) AS existing"
                " FROM subscriptions WHERE user_id = ?",
                (series_key, user_id),
            ) as cur:
                row = await cur.fetchone()
            count, existing = (int(row["total"]), int(row["existing"] or 0)) if row else (0, 0)
            if not existing and count >= cap:
                return "full"
            await conn.execute(
                f"INSERT INTO subscriptions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (user_id, series_key) DO UPDATE SET series = excluded.series,"
                " delivery = excluded.delivery, guild_id = excluded.guild_id, channel_id = excluded.channel_id",
                (user_id, series_key, series, delivery, guild_id, channel_id, at),
            )
            if delivery == "dm":
                # Asking for DMs again says they are open again.
                await conn.execute("DELETE FROM dm_closed WHERE user_id = ?", (user_id,))
        return "updated" if existing else "added"

    async def unsubscribe(self, user_id: int, series_key: str) -> bool:
        async with self._db.write() as conn:
            cur = await conn.execute(
                "DELETE FROM subscriptions WHERE user_id = ? AND series_key = ?", (user_id, series_key)
            )
            return bool(cur.rowcount > 0)

    async def of_user(self, user_id: int) -> list[Subscription]:
        async with self._db.reader.execute(
            f"SELECT {_COLUMNS} FROM subscriptions WHERE user_id = ? ORDER BY series", (user_id,)
        ) as cur:
            return [subscription_from_row(r) for r in await cur.fetchall()]

    async def get(self, user_id: int, series_key: str) -> Subscription | None:
        async with self._db.reader.execute(
            f"SELECT {_COLUMNS} FROM subscriptions WHERE user_id = ? AND series_key = ?", (user_id, series_key)
        ) as cur:
            row = await cur.fetchone()
        return subscription_from_row(row) if row else None

    async def dm_channel(self, user_id: int) -> int | None:
        async with self._db.reader.execute("SELECT channel_id FROM dm_channels WHERE user_id = ?", (user_id,)) as cur:
            row = await cur.fetchone()
        return int(row["channel_id"]) if row else None

    async def remember_dm_channel(self, user_id: int, channel_id: int) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "INSERT INTO dm_channels (user_id, channel_id) VALUES (?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET channel_id = excluded.channel_id",
                (user_id, channel_id),
            )

    async def untold_closed_dm(self, user_id: int) -> bool:
        async with self._db.reader.execute("SELECT 1 FROM dm_closed WHERE user_id = ? AND told = 0", (user_id,)) as cur:
            return await cur.fetchone() is not None

    async def mark_told(self, user_id: int) -> None:
        async with self._db.write() as conn:
            await conn.execute("UPDATE dm_closed SET told = 1 WHERE user_id = ?", (user_id,))
