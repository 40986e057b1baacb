"""Curators' votes as the settler sees them."""

from __future__ import annotations

import time
from collections.abc import Sequence

from bot.domain import CastVote, VoteState
from bot.hive.broadcast import active_vote
from bot.hive.client import HiveClient
from bot.services.curation_keys import CurationKeys
from bot.services.vote_refusals import explain, is_authority_refusal
from bot.store.store import Store


class VoteIntents:
    """Curation votes: open ones, and how to see one on chain."""

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

    async def settle(
        self, intent: CastVote, state: VoteState, error: str | None = None, why: str | None = None
    ) -> bool:
        return await self._store.curation.settle(intent.id, state, time.time(), error)  # the audit shows `error`

    async def check_later(self, intent: CastVote, at: float) -> None:
        await self._store.curation.check_later(intent.id, at)

    def refused(self, intent: CastVote, reason: str) -> str:
        if is_authority_refusal(reason):
            self._keys.mark(intent.voter, False)
        return explain(reason, intent.voter)
