"""Settles each intent the bot signed (curators' votes; replies from Discord join through `kinds`) from what
the chain says, whenever woken (a press, a new block) or now and then. The rules are in settling.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Sequence
from typing import Any

from bot.domain import CastVote, VoteState
from bot.hive.broadcast import active_vote
from bot.hive.client import HiveClient
from bot.services.curation_keys import CurationKeys
from bot.services.settling import IntentKind, settle_one, settle_seen
from bot.services.vote_refusals import explain, is_authority_refusal
from bot.store.store import Store

log = logging.getLogger("hivecord.curation")

IDLE_WAIT = 30.0  # seconds between looks while intents are open and nothing wakes the settler


class VoteIntents:
    """Curation votes as the settler sees them."""

    name = "vote"

    def __init__(self, store: Store, hive: HiveClient, keys: CurationKeys) -> None:
        self._store = store
        self._hive = hive
        self._keys = keys

    async def open(self, now: float) -> Sequence[CastVote]:
        return await self._store.curation.open_votes(now)

    async def has_open(self) -> bool:
        return await self._store.curation.has_open_votes()

    async def seen_by_follower(self, intent: CastVote) -> bool:
        return await self._store.curation.chain_weight(intent.post_id, intent.voter) == intent.weight

    async def on_chain(self, intent: CastVote) -> bool:
        return await active_vote(self._hive, intent.author, intent.permlink, intent.voter) == intent.weight

    async def settle(self, intent: CastVote, state: VoteState, error: str | None = None) -> bool:
        return await self._store.curation.settle(intent.id, state, time.time(), error)

    async def check_later(self, intent: CastVote, at: float) -> None:
        await self._store.curation.check_later(intent.id, at)

    def refused(self, intent: CastVote, reason: str) -> str:
        if is_authority_refusal(reason):
            self._keys.mark(intent.voter, False)
        return explain(reason, intent.voter)


class VoteSettler:
    def __init__(self, store: Store, hive: HiveClient, keys: CurationKeys) -> None:
        self._hive = hive
        self._keys = keys
        self.kinds: list[IntentKind[Any]] = [VoteIntents(store, hive, keys)]
        self.wake = asyncio.Event()
        self._stopping = False

    def stop(self) -> None:
        self._stopping = True
        self.wake.set()

    async def run(self) -> None:
        """Settles open intents whenever woken or now and then; checks the curation keys with the chain until
        a node has answered, without holding up the intents already made."""
        keys_checked = False
        while not self._stopping:
            if not keys_checked:
                keys_checked = await self._keys.verify_all()
            await self.settle_due()
            idle = keys_checked and not any([await kind.has_open() for kind in self.kinds])
            await self._pause(3600.0 if idle else IDLE_WAIT)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), seconds)
        self.wake.clear()

    async def settle_due(self) -> int:
        """One pass over the open intents whose check is due, and over the others what the follower stored
        (a wake after new blocks lands them without waiting for their next look); returns how many settled."""
        settled = 0
        for kind in self.kinds:
            due = {intent.id for intent in await kind.open(time.time())}
            for intent in await kind.open(math.inf):
                done = await (settle_one(self._hive, kind, intent) if intent.id in due else settle_seen(kind, intent))
                settled += done
        return settled
