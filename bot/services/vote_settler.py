"""Settles each vote the bot signed from what the chain says: on chain, expired, or still to be sent.

An intent found after a restart is never signed again. The follower's stored votes answer first (no node
asked), then transaction_status_api where a node serves it, else the post's active votes. A transaction
no node has and that has not expired is sent as it was signed: the chain applies one id once, so this
cannot make a second vote. One that expired without landing is failed, in the audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Literal

from bot.domain import CastVote
from bot.hive.broadcast import active_vote, broadcast, find_transaction, head_reference
from bot.hive.client import HiveClient
from bot.hive.rpc import HiveUnavailable, RpcError
from bot.hive.transactions import SignedTransaction, read_chain_time
from bot.process.backoff import doubling
from bot.services.curation_keys import CurationKeys
from bot.services.vote_refusals import explain, is_authority_refusal
from bot.store.store import Store

log = logging.getLogger("hivecord.curation")

IDLE_WAIT = 30.0  # seconds between looks while votes are open and nothing wakes the settler
MAX_CHECK_WAIT = 120.0


class VoteSettler:
    def __init__(self, store: Store, hive: HiveClient, keys: CurationKeys) -> None:
        self._store = store
        self._hive = hive
        self._keys = keys
        self.wake = asyncio.Event()
        self._stopping = False

    def stop(self) -> None:
        self._stopping = True
        self.wake.set()

    async def run(self) -> None:
        """Settles open votes whenever woken (a press, a new block) or now and then; checks the keys with the
        chain until a node has answered, without holding up the votes already made."""
        keys_checked = False
        while not self._stopping:
            if not keys_checked:
                keys_checked = await self._keys.verify_all()
            await self.settle_due()
            idle = keys_checked and not await self._store.curation.has_open_votes()
            await self._pause(3600.0 if idle else IDLE_WAIT)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), seconds)
        self.wake.clear()

    async def settle_due(self) -> int:
        """One pass over the open votes whose check is due; returns how many were settled."""
        votes = await self._store.curation.open_votes(time.time())
        if not votes:
            return 0
        settled = 0
        for vote in votes:
            if await self._settle(vote):
                settled += 1
        return settled

    async def _settle(self, vote: CastVote) -> bool:
        now = time.time()
        if await self._store.curation.chain_weight(vote.post_id, vote.voter) == vote.weight:
            return await self._final(vote, "landed")
        try:
            status = await find_transaction(self._hive, vote.trx_id, vote.expiration)
            if status == "in_block":
                return await self._final(vote, "landed")
            head = await head_reference(self._hive)
            expired = head.head_time >= read_chain_time(vote.expiration)
            if status is None:
                # No transaction_status_api on these nodes: the post's votes on chain say whether it landed.
                weight = await active_vote(self._hive, vote.author, vote.permlink, vote.voter)
                if weight == vote.weight:
                    return await self._final(vote, "landed")
                status = "expired" if expired else "unknown"
            if status == "expired" or (status == "unknown" and expired):
                return await self._final(vote, "failed", "the transaction expired before it reached a block")
            if status == "unknown" and vote.state == "signed":
                return await self._send_again(vote)
        except (HiveUnavailable, RpcError) as exc:
            log.warning("vote %d: cannot ask the chain yet: %s", vote.id, exc)
        await self._store.curation.check_later(vote.id, now + doubling(2.0, MAX_CHECK_WAIT, vote.checks))
        return False

    async def _send_again(self, vote: CastVote) -> bool:
        """An intent no node has and that has not expired: the same signed transaction, sent once more."""
        signed = SignedTransaction(json.loads(vote.trx), vote.trx_id, read_chain_time(vote.expiration))
        log.info("vote %d: no node has its transaction %s; sending it as signed", vote.id, vote.trx_id)
        sent = await broadcast(self._hive, signed)
        if sent.outcome == "accepted":
            await self._store.curation.settle(vote.id, "sent", time.time())
        elif sent.outcome == "refused":
            if is_authority_refusal(sent.reason):
                self._keys.mark(vote.voter, False)
            log.warning("vote %d refused by the node: %s", vote.id, sent.reason[:300])
            return await self._final(vote, "failed", f"{explain(sent.reason, vote.voter)} ({sent.reason[:300]})")
        await self._store.curation.check_later(vote.id, time.time() + 2.0)
        return False

    async def _final(self, vote: CastVote, state: Literal["landed", "failed"], error: str | None = None) -> bool:
        done = await self._store.curation.settle(vote.id, state, time.time(), error)
        if done:
            log.info("vote %d (@%s on @%s/%s): %s%s", vote.id, vote.voter, vote.author, vote.permlink, state,
                     f": {error}" if error else "")
        return done
