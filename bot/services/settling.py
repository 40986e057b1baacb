"""Settling one signed intent (a vote, a reply) from what the chain says: on chain, expired, or still to send.

An intent found after a restart is never signed again. The follower's stored rows answer first (no node
asked), then transaction_status_api where a node serves it, else the kind's own look at the chain. A
transaction no node has and that has not expired is sent as it was signed: the chain applies one id
once, so this cannot act twice. One that expired without landing is failed.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Literal, Protocol, TypeVar

from bot.domain import VoteState
from bot.hive.broadcast import broadcast, find_transaction, head_reference
from bot.hive.client import HiveClient
from bot.hive.rpc import HiveUnavailable, RpcError
from bot.hive.transactions import SignedTransaction, read_chain_time
from bot.process.backoff import doubling

log = logging.getLogger("hivecord.settler")

MAX_CHECK_WAIT = 120.0
EXPIRED = "no Hive node took it before it expired (a minute after it was signed), so it was never posted; try again."


class InFlight:
    """Intents whose first broadcast is under way in this process: the settler leaves each to the command
    that signed it, so one signed transaction is never broadcast by both at once (the node would refuse the
    second as a duplicate, and the intent would be failed though it landed). After a crash the set is empty
    and the settler takes them over; a mark the command never released lapses after HOLD seconds."""

    HOLD = 90.0  # past the transaction's 60 s expiration: by then the settler can only find it landed or expired

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._until: dict[tuple[str, int], float] = {}
        self._clock = clock

    def hold(self, kind: str, intent_id: int) -> None:
        self._until[(kind, intent_id)] = self._clock() + self.HOLD

    def release(self, kind: str, intent_id: int) -> None:
        self._until.pop((kind, intent_id), None)

    def held(self, kind: str, intent_id: int) -> bool:
        until = self._until.get((kind, intent_id))
        if until is not None and until <= self._clock():
            self.release(kind, intent_id)
            return False
        return until is not None


class Intent(Protocol):
    """What every signed intent stores: its transaction as signed, and where it is."""

    @property
    def id(self) -> int: ...
    @property
    def trx_id(self) -> str: ...
    @property
    def trx(self) -> str: ...
    @property
    def expiration(self) -> str: ...
    @property
    def state(self) -> VoteState: ...
    @property
    def checks(self) -> int: ...
    @property
    def created_at(self) -> float: ...


I = TypeVar("I", bound=Intent)  # noqa: E741


class IntentKind(Protocol[I]):
    """One table of intents (curation votes, replies from Discord) as the settler sees it."""

    name: str

    async def open(self, now: float) -> Sequence[I]: ...
    async def has_open(self) -> bool: ...
    async def seen_by_follower(self, intent: I) -> bool: ...
    async def on_chain(self, intent: I) -> bool:
        """Asked of a node when none serves transaction_status_api."""
        ...
    async def settle(self, intent: I, state: VoteState, error: str | None = None, why: str | None = None) -> bool:
        """`error` is kept with the intent; `why` is a failure in words for the member who asked for it."""
        ...
    async def check_later(self, intent: I, at: float) -> None: ...
    def refused(self, intent: I, reason: str) -> str:
        """The node's refusal in words (and what it means for the bot, e.g. a key marked unusable)."""
        ...


async def settle_seen(kind: IntentKind[I], intent: I) -> bool:
    """Lands an open intent the follower has stored from a block (no node asked); True when it did."""
    return await kind.seen_by_follower(intent) and await _final(kind, intent, "landed")


async def settle_one(hive: HiveClient, kind: IntentKind[I], intent: I) -> bool:
    """One look at the chain for one open intent; True when it is final now."""
    now = time.time()
    if await settle_seen(kind, intent):
        return True
    try:
        status = await find_transaction(hive, intent.trx_id, intent.expiration)
        if status == "in_block":
            return await _final(kind, intent, "landed")
        head = await head_reference(hive)
        expired = head.head_time >= read_chain_time(intent.expiration)
        if status is None:
            if await kind.on_chain(intent):
                return await _final(kind, intent, "landed")
            status = "expired" if expired else "unknown"
        if status == "expired" or (status == "unknown" and expired):
            return await _final(kind, intent, "failed", "the transaction expired before it reached a block", EXPIRED)
        if status == "unknown" and intent.state == "signed":
            return await _send_again(hive, kind, intent)
    except (HiveUnavailable, RpcError) as exc:
        log.warning("%s %d: cannot ask the chain yet: %s", kind.name, intent.id, exc)
    await kind.check_later(intent, now + doubling(2.0, MAX_CHECK_WAIT, intent.checks))
    return False


async def _send_again(hive: HiveClient, kind: IntentKind[I], intent: I) -> bool:
    """An intent no node has and that has not expired: the same signed transaction, sent once more."""
    signed = SignedTransaction(json.loads(intent.trx), intent.trx_id, read_chain_time(intent.expiration))
    log.info("%s %d: no node has its transaction %s; sending it as signed", kind.name, intent.id, intent.trx_id)
    sent = await broadcast(hive, signed)
    if sent.outcome == "accepted":
        await kind.settle(intent, "sent")
    elif sent.outcome == "refused":
        log.warning("%s %d refused by the node: %s", kind.name, intent.id, sent.reason[:300])
        words = kind.refused(intent, sent.reason)
        return await _final(kind, intent, "failed", f"{words} ({sent.reason[:300]})", words)
    await kind.check_later(intent, time.time() + 2.0)
    return False


async def _final(
    kind: IntentKind[I], intent: I, state: Literal["landed", "failed"], error: str | None = None, why: str | None = None
) -> bool:
    done = await kind.settle(intent, state, error, why)
    if done:
        log.info("%s %d: %s%s", kind.name, intent.id, state, f": {error}" if error else "")
    return done
