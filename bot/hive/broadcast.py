"""Putting a signed transaction on chain, and asking the chain what became of one.

A transaction is sent as it was signed, never signed again here: the chain applies a transaction id
once, so the same signed transaction sent to a second node after the first one failed to answer
cannot act twice. What a node refuses is not sent anywhere else: every node applies the same rules.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
import msgspec

from bot.hive.client import HiveClient
from bot.hive.names import node_label
from bot.hive.rpc import VOTE_DEADLINE, Envelope, HiveUnavailable, RpcError
from bot.hive.rpc import describe as describe_fault
from bot.hive.transactions import SignedTransaction, Tapos, tapos

log = logging.getLogger("hivecord.hive")

# hived's answer to a transaction it already has: it was sent before, so it is on its way.
_DUPLICATE = "duplicate transaction"
# A node without the API asked for: ask it the other way (condenser_api), not another node.
_NO_API = ("could not find api", "could not find method", "method not found")

Outcome = Literal["accepted", "refused", "unknown", "unreachable"]
Status = Literal["in_block", "pending", "expired", "unknown"]


@dataclass(frozen=True, slots=True)
class Broadcast:
    """What became of a broadcast: accepted into a node's pool; refused (`reason` is the node's message);
    unknown (a node may have taken it: a timeout, a dropped connection); unreachable (sent nowhere)."""

    outcome: Outcome
    reason: str = ""


class _Head(msgspec.Struct):
    head_block_number: int
    head_block_id: str
    time: str


_envelope = msgspec.json.Decoder(Envelope[Any])
_head = msgspec.json.Decoder(Envelope[_Head])


async def head_reference(client: HiveClient) -> Tapos:
    """TaPoS from the head block a node reports now; HiveUnavailable when no node answers in time."""
    head = await client.call("database_api.get_dynamic_global_properties", {}, _Head, deadline=VOTE_DEADLINE)
    try:
        return tapos(head.head_block_number, head.head_block_id, head.time)
    except ValueError as exc:
        raise HiveUnavailable(f"the node's head cannot be used to sign ({exc})") from None


async def broadcast(client: HiveClient, signed: SignedTransaction) -> Broadcast:
    """Sends `signed` to the nodes in turn until one answers; a node that cannot be reached is passed over."""
    maybe_sent = ""
    for node in list(client.nodes):
        for method, params in (
            ("network_broadcast_api.broadcast_transaction", {"trx": signed.trx, "max_block_age": -1}),
            ("condenser_api.broadcast_transaction", [signed.trx]),
        ):
            payload = msgspec.json.encode({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
            try:
                envelope = _envelope.decode(await client.post_raw(node, payload))
            except aiohttp.ClientConnectorError as exc:
                log.warning("broadcast: Hive node %s cannot be reached: %s", node_label(node.url), describe_fault(exc))
                break  # nothing reached this node: the next one
            except (aiohttp.ClientError, TimeoutError, msgspec.MsgspecError) as exc:
                # The node may have taken it before the answer was lost: the next node gets the same
                # signed transaction, which the chain applies once.
                maybe_sent = describe_fault(exc) if isinstance(exc, aiohttp.ClientError | TimeoutError) else str(exc)
                log.warning("broadcast: no answer from Hive node %s: %s", node_label(node.url), maybe_sent)
                break
            if envelope.error is None:
                return Broadcast("accepted")
            message = envelope.error.message
            if _DUPLICATE in message.lower():
                return Broadcast("accepted")
            if any(hint in message.lower() for hint in _NO_API):
                continue
            return Broadcast("refused", message)
    if maybe_sent:
        return Broadcast("unknown", maybe_sent)
    return Broadcast("unreachable", "no Hive node could be reached")


class _Found(msgspec.Struct):
    status: str


async def find_transaction(client: HiveClient, signed_id: str, expiration: str) -> Status | None:
    """Where the chain has transaction `signed_id`: None when no node serves transaction_status_api."""
    try:
        found = await client.call(
            "transaction_status_api.find_transaction",
            {"transaction_id": signed_id, "expiration": expiration},
            _Found,
            deadline=VOTE_DEADLINE,
        )
    except RpcError:
        return None
    status = found.status
    if status in ("within_reversible_block", "within_irreversible_block"):
        return "in_block"
    if status == "within_mempool":
        return "pending"
    if status in ("expired_reversible", "expired_irreversible", "too_old"):
        return "expired"
    return "unknown"


class _Vote(msgspec.Struct):
    voter: str
    percent: int | str = 0


async def active_vote(client: HiveClient, author: str, permlink: str, voter: str) -> int | None:
    """The weight (basis points) of `voter`'s current vote on the post, None when there is none."""
    votes = await client.call(
        "condenser_api.get_active_votes", [author, permlink], list[_Vote], deadline=VOTE_DEADLINE
    )
    for vote in votes:
        if vote.voter == voter:
            try:
                return int(vote.percent)
            except ValueError:
                return None
    return None

