"""Typed decoding of block_api answers: only the ops the bot acts on are decoded past their type."""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import msgspec


class RawOp(msgspec.Struct, gc=False):
    type: str
    value: msgspec.Raw  # left undecoded unless the type is one we act on


class Transaction(msgspec.Struct, gc=False):
    operations: list[RawOp]


class Block(msgspec.Struct, gc=False):
    block_id: str
    timestamp: str
    transactions: list[Transaction] = []

    @property
    def number(self) -> int:
        # Blocks carry no number field: the id starts with it in hex.
        return int(self.block_id[:8], 16)


class BlockRange(msgspec.Struct):
    # Each block stays raw here so one malformed block cannot spoil the range (see decode_block).
    blocks: list[msgspec.Raw]


class _LooseBlock(msgspec.Struct):
    block_id: str
    timestamp: str
    transactions: list[msgspec.Raw] = []


class _LooseTransaction(msgspec.Struct):
    operations: list[msgspec.Raw] = []


class MalformedBlock(ValueError):
    """A block without a usable id or timestamp: no number can be given to it."""


class CommentOp(msgspec.Struct):
    parent_author: str
    parent_permlink: str
    author: str
    permlink: str
    title: str = ""
    body: str = ""
    json_metadata: str = ""


class CommentHead(msgspec.Struct):
    """The routing fields of a comment: cheap to decode, the body is skipped not copied."""

    parent_author: str
    parent_permlink: str
    author: str
    permlink: str


class VoteOp(msgspec.Struct):
    voter: str
    author: str
    permlink: str
    # Percent x100, as the chain enforces; anything else is a broken answer (and 10**30 overflows SQLite).
    weight: Annotated[int, msgspec.Meta(ge=-10000, le=10000)]


class DeleteCommentOp(msgspec.Struct):
    author: str
    permlink: str


class Asset(msgspec.Struct):
    amount: str
    precision: int
    nai: str


class EffectiveVote(msgspec.Struct):
    voter: str
    author: str
    permlink: str
    rshares: int | str = 0
    pending_payout: Asset | str | None = None


class VirtualOpValue(msgspec.Struct):
    type: str
    value: msgspec.Raw


class VirtualOp(msgspec.Struct):
    block: int
    op: VirtualOpValue


class VirtualOpsPage(msgspec.Struct):
    ops: list[VirtualOp] = []
    next_block_range_begin: int = 0
    next_operation_begin: int = 0


class GlobalProperties(msgspec.Struct):
    head_block_number: int
    last_irreversible_block_num: int
    time: str = ""


_NAI_SYMBOL = {"@@000000013": "HBD", "@@000000021": "HIVE", "@@000000037": "VESTS"}


def format_asset(asset: Asset | str | None) -> str | None:
    """Both asset forms (block_api's NAI object, condenser's string) as "1.234 HBD"."""
    if asset is None:
        return None
    if isinstance(asset, str):
        return asset.strip() or None
    symbol = _NAI_SYMBOL.get(asset.nai)
    if symbol is None or not asset.amount.lstrip("-").isdigit() or not 0 <= asset.precision <= 12:
        return None
    value = int(asset.amount)
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10**asset.precision)
    if asset.precision == 0:
        return f"{sign}{whole} {symbol}"
    return f"{sign}{whole}.{frac:0{asset.precision}d} {symbol}"


_block = msgspec.json.Decoder(Block)
_loose_block = msgspec.json.Decoder(_LooseBlock)
_loose_trx = msgspec.json.Decoder(_LooseTransaction)
_op = msgspec.json.Decoder(RawOp)


# The block number in hex: exactly eight hex digits, so Block.number can never raise.
_BLOCK_ID = re.compile(r"[0-9a-fA-F]{8}")


def _check_id(block_id: str) -> None:
    if not _BLOCK_ID.match(block_id):
        raise MalformedBlock(f"unusable block_id {block_id[:64]!r}")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Decoding a range makes ~100k small objects and no cycles; the collector would only rescan
    them (measured: 5x slower decoding with it on), so it waits until the range is decoded."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def decode_block(raw: msgspec.Raw | bytes) -> tuple[Block, int]:
    """The block with every well-formed op, and how many malformed ops or transactions were dropped."""
    try:
        block = _block.decode(raw)
    except (msgspec.MsgspecError, RecursionError):  # RecursionError: JSON nested ~1000 deep
        pass
    else:
        # A well-formed block with an unusable id is no better than a malformed one.
        _check_id(block.block_id)
        return block, 0
    try:
        loose = _loose_block.decode(raw)
    except (msgspec.MsgspecError, RecursionError) as exc:
        raise MalformedBlock(str(exc)) from None
    _check_id(loose.block_id)
    dropped = 0
    transactions: list[Transaction] = []
    for raw_trx in loose.transactions:
        try:
            trx = _loose_trx.decode(raw_trx)
        except msgspec.MsgspecError:
            dropped += 1
            continue
        ops: list[RawOp] = []
        for raw_op in trx.operations:
            try:
                ops.append(_op.decode(raw_op))
            except msgspec.MsgspecError:
                dropped += 1
        transactions.append(Transaction(ops))
    return Block(loose.block_id, loose.timestamp, transactions), dropped
