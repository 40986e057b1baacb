"""Series subscriptions as members manage them, and the one-time notice that their DMs refused an alert."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain import DeliveryMode, SubscribeOutcome, Subscription
from bot.services import Refused
from bot.store.store import Store

MAX_SUBSCRIPTIONS = 50

CLOSED_DM_NOTICE = (
    "A review alert could not reach your DMs, so you were mentioned in the server instead. "
    "Allow DMs from this server's members and run `/subscribe` again with `where:dm`, "
    "or choose `where:here`."
)


class SubscriptionService:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def subscribe(
        self,
        *,
        user_id: int,
        series_key: str,
        series: str,
        delivery: DeliveryMode,
        guild_id: int | None,
        channel_id: int | None,
    ) -> SubscribeOutcome:
        outcome = await self._store.subscriptions.subscribe(
            user_id=user_id,
            series_key=series_key,
            series=series,
            delivery=delivery,
            guild_id=guild_id,
            channel_id=channel_id,
            at=datetime.now(UTC).isoformat(timespec="seconds"),
            cap=MAX_SUBSCRIPTIONS,
        )
        if outcome == "full":
            raise Refused(
                f"You already follow {MAX_SUBSCRIPTIONS} series, the most one member can. "
                "`/unsubscribe` from one first."
            )
        return outcome

    async def unsubscribe(self, user_id: int, series_key: str) -> bool:
        return await self._store.subscriptions.unsubscribe(user_id, series_key)

    async def of_user(self, user_id: int) -> list[Subscription]:
        return await self._store.subscriptions.of_user(user_id)

    async def closed_dm_notice(self, user_id: int) -> str | None:
        """The notice owed to a member whose DMs refused an alert, told once (see `told`)."""
        return CLOSED_DM_NOTICE if await self._store.subscriptions.untold_closed_dm(user_id) else None

    async def told(self, user_id: int) -> None:
        await self._store.subscriptions.mark_told(user_id)
