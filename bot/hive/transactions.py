"""Signed Hive transactions: TaPoS from the head, a vote or a reply signed offline with beem for Hive's chain id.

beem builds, serialises and signs; nothing here encodes a transaction or touches a key by hand.
Signing is synchronous and takes tens of milliseconds: callers run it in a thread.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

# beem's chain table names Hive's current chain id (beeab0de...) "HIVE2"; its "HIVE" is the all-zero id
# from before the chain id changed, and hived refuses a signature over that as missing authority.
HIVE_CHAIN = "HIVE2"
HIVE_CHAIN_ID = "beeab0de00000000000000000000000000000000000000000000000000000000"
# Nodes refuse an expiration more than an hour ahead; a minute leaves room for a slow node and
# keeps a transaction that never landed from lingering long after a crash.
LIFETIME = timedelta(seconds=60)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


class SigningKey(Protocol):
    """A posting key held for an account (bot.hive.posting_key.PostingKey)."""

    def wif_for_signing(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Tapos:
    """Transaction as Proof of Stake: which recent block a transaction refers to, and the chain time."""

    ref_block_num: int
    ref_block_prefix: int
    head_time: datetime


def tapos(head_block_number: int, head_block_id: str, head_time: str) -> Tapos:
    """The reference to the head block: its number's low 16 bits and bytes 4-8 of its id, little-endian."""
    block_id = bytes.fromhex(head_block_id)
    if len(block_id) != 20:
        raise ValueError(f"a block id is 20 bytes, not {len(block_id)}")
    prefix = struct.unpack_from("<I", block_id, 4)[0]
    return Tapos(head_block_number & 0xFFFF, prefix, read_chain_time(head_time))


def read_chain_time(text: str) -> datetime:
    """A chain time ("2026-12-06T20:41:25", UTC) as an aware datetime; ValueError when it is not one."""
    return datetime.strptime(text.removesuffix("Z"), TIME_FORMAT).replace(tzinfo=UTC)


def chain_time_text(when: datetime) -> str:
    return when.astimezone(UTC).strftime(TIME_FORMAT)


@dataclass(frozen=True, slots=True)
class SignedTransaction:
    """A transaction ready to broadcast: its JSON as nodes take it, its id and when it expires."""

    trx: dict[str, Any]
    id: str
    expiration: datetime


def sign_vote(key: SigningKey, voter: str, author: str, permlink: str, weight: int, ref: Tapos) -> SignedTransaction:
    """One `vote` operation (weight in basis points, -10000..10000) signed with `key` for Hive."""
    if not -10000 <= weight <= 10000:
        raise ValueError(f"a vote's weight is -10000..10000 basis points, not {weight}")
    from beembase import operations  # beem loads a good deal at import: only this path needs it

    op = operations.Vote(voter=voter, author=author, permlink=permlink, weight=weight)
    return _sign(key, [op], ref)


MAX_BODY_BYTES = 65536  # hived refuses a comment body over 64 KB


def sign_comment(
    key: SigningKey,
    *,
    author: str,
    permlink: str,
    parent_author: str,
    parent_permlink: str,
    body: str,
    json_metadata: str,
    ref: Tapos,
) -> SignedTransaction:
    """One `comment` operation (a reply: no title) signed with `key` for Hive; `key` may be another
    account's that `author` granted posting authority to (its posting account_auths)."""
    if len(body.encode()) > MAX_BODY_BYTES:
        raise ValueError(f"a comment body is at most {MAX_BODY_BYTES} bytes")
    from beembase import operations

    op = operations.Comment(
        parent_author=parent_author,
        parent_permlink=parent_permlink,
        author=author,
        permlink=permlink,
        title="",
        body=body,
        json_metadata=json_metadata,
    )
    return _sign(key, [op], ref)


def _sign(key: SigningKey, ops: list[Any], ref: Tapos) -> SignedTransaction:
    from beembase.signedtransactions import Signed_Transaction

    expiration = ref.head_time + LIFETIME
    trx = Signed_Transaction(
        ref_block_num=ref.ref_block_num,
        ref_block_prefix=ref.ref_block_prefix,
        expiration=chain_time_text(expiration),
        operations=ops,
    )
    trx.sign([key.wif_for_signing()], chain=HIVE_CHAIN)
    return SignedTransaction(trx.json(), trx.id, expiration)


def comment_body(trx_json: str) -> str:
    """The body of the first `comment` op in a stored signed transaction (JSON, as `sign_comment` made it);
    "" when it holds none or cannot be read."""
    try:
        trx = json.loads(trx_json)
        for op in trx.get("operations", []):
            name, value = (op[0], op[1]) if isinstance(op, list) else (op.get("type"), op.get("value"))
            if name in ("comment", "comment_operation") and isinstance(value, dict):
                return str(value.get("body", ""))
    except (ValueError, TypeError, AttributeError, IndexError):
        pass
    return ""
