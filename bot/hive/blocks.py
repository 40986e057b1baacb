"""Typed decoding of block_api answers: only the ops the bot acts on are decoded past their type."""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

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
    previous: Any = ""  # the id of the block before; only compared, so any value reads

    @property
    def number(self) -> int:
        # Blocks carry no number field: the id starts with it in hex.
        return int(self.block_id[:8], 16)


class BlockRange(msgspec.Struct):
    # Each block stays raw here so one malformed block cannot spoil the range (see decode_block).
    blocks: list[msgspec.Raw]


class DecodedRange(msgspec.Struct):
    """A range whose every block is well formed, read in one pass: the common case. A range that does
    not fit is read again as a BlockRange, block by block (measured: two passes cost ~50% more)."""

    blocks: list[Block]


class _LooseBlock(msgspec.Struct):
    block_id: str
    timestamp: str
    transactions: list[msgspec.Raw] = []


class _AnyBlock(msgspec.Struct):
    """The loosest reading of a block, for salvaging one every node garbles: any field may be anything."""

    block_id: Any = None
    timestamp: Any = None
    transactions: Any = None


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


class EffectiveVote(msgspec.Struct):
    voter: str
    author: str
    permlink: str
    # Read by hand (read_int, format_asset): a garbled value loses that field, not the vote's details.
    rshares: Any = None
    pending_payout: Any = None


# gc=False: tens of thousands of these come with each range; they hold no containers, so no cycles.
class VirtualOpValue(msgspec.Struct, gc=False):
    type: str
    value: msgspec.Raw


class VirtualOp(msgspec.Struct, gc=False):
    block: int
    op: VirtualOpValue


class VirtualOpsPage(msgspec.Struct):
    ops: list[VirtualOp] = []
    # hived writes 64-bit values above 2**32 as strings: operation ids always are on mainnet.
    next_block_range_begin: int | str = 0
    next_operation_begin: int | str = 0


class _LooseVirtualOp(msgspec.Struct):
    block: Any
    op: VirtualOpValue


_loose_vop = msgspec.json.Decoder(_LooseVirtualOp)


class LooseVirtualOpsPage(msgspec.Struct):
    """An enum_virtual_ops page read loosely, when a wrong type somewhere spoils the exact reading."""

    ops: list[msgspec.Raw] = []
    next_block_range_begin: Any = 0
    next_operation_begin: Any = 0

    def readable_ops(self) -> tuple[list[VirtualOp], int]:
        """The ops that can be read, and how many could not."""
        ops: list[VirtualOp] = []
        skipped = 0
        for raw_op in self.ops:
            try:
                loose = _loose_vop.decode(raw_op)
            except (msgspec.MsgspecError, RecursionError):
                skipped += 1
                continue
            block = read_int(loose.block, (0, 2**32 - 1))
            if block is None:
                skipped += 1
                continue
            ops.append(VirtualOp(block, loose.op))
        return ops, skipped


class GlobalProperties(msgspec.Struct):
    head_block_number: int | str
    last_irreversible_block_num: int | str
    time: Any = ""


@dataclass(frozen=True, slots=True)
class ChainHead:
    """Dynamic global properties, read and checked."""

    head_block_number: int
    last_irreversible_block_num: int
    time: str  # "" when the node's time was unusable: it is only shown, never needed


def read_properties(props: GlobalProperties) -> ChainHead:
    head = need_int(props.head_block_number, "head_block_number", _BLOCK_NUMS)
    irreversible = need_int(props.last_irreversible_block_num, "last_irreversible_block_num", _BLOCK_NUMS)
    if irreversible > head:
        raise MalformedAnswer(f"irreversible block {irreversible} is above the head {head}")
    return ChainHead(head, irreversible, props.time if valid_time(props.time) else "")


class MalformedAnswer(ValueError):
    """A value in an answer that cannot be read (a wrong type, a garbled number or time)."""


# A JSON number, or the decimal string hived writes for 64-bit values; ASCII digits only (int()
# would also take "1_000", " 5", Arabic-Indic digits, and thousands of digits at quadratic cost).
_DECIMAL = re.compile(r"-?[0-9]{1,20}")
INT64 = (-(2**63), 2**63 - 1)
UINT64 = (0, 2**64 - 1)
_BLOCK_NUMS = (0, 2**32 - 1)  # block numbers are 32-bit in hived


def read_int(value: object, bounds: tuple[int, int] = INT64) -> int | None:
    """An integer as hived writes it (a number, or a decimal string above 2**32); None if it is not one."""
    if type(value) is int:
        number = value
    elif isinstance(value, str) and _DECIMAL.fullmatch(value):
        number = int(value)
    else:
        return None  # bool, float, object, garbage
    return number if bounds[0] <= number <= bounds[1] else None


def need_int(value: object, what: str, bounds: tuple[int, int] = INT64) -> int:
    number = read_int(value, bounds)
    if number is None:
        raise MalformedAnswer(f"{what} is not an integer: {str(value)[:64]!r}")
    return number


_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}")


def valid_time(value: object) -> bool:
    """A chain time as hived writes it ("2026-11-23T12:00:00", UTC): the only form ever stored."""
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:  # month 13, hour 25
        return False
    return True


_NAI_SYMBOL = {"@@000000013": "HBD", "@@000000021": "HIVE", "@@000000037": "VESTS"}
_ASSET_TEXT = re.compile(r"-?[0-9]{1,20}(?:\.[0-9]{1,12})? (?:HBD|HIVE|VESTS|TBD|TESTS)")


def format_asset(asset: object) -> str | None:
    """Both asset forms (block_api's NAI object, condenser's string) as "1.234 HBD"; None if garbled."""
    if isinstance(asset, str):
        text = asset.strip()
        return text if _ASSET_TEXT.fullmatch(text) else None
    if not isinstance(asset, dict):
        return None
    symbol = _NAI_SYMBOL.get(asset.get("nai"))  # type: ignore[arg-type]
    amount = read_int(asset.get("amount"))
    precision = asset.get("precision")
    if symbol is None or amount is None or type(precision) is not int or not 0 <= precision <= 12:
        return None
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 10**precision)
    if precision == 0:
        return f"{sign}{whole} {symbol}"
    return f"{sign}{whole}.{frac:0{precision}d} {symbol}"


_block = msgspec.json.Decoder(Block)
_loose_block = msgspec.json.Decoder(_LooseBlock)
_any_block = msgspec.json.Decoder(_AnyBlock)
_loose_trx = msgspec.json.Decoder(_LooseTransaction)
_op = msgspec.json.Decoder(RawOp)


# The block number in hex: exactly eight hex digits, so Block.number can never raise.
_BLOCK_ID = re.compile(r"[0-9a-fA-F]{8}")


def _check_id(block_id: str) -> None:
    if not _BLOCK_ID.match(block_id):
        raise MalformedBlock(f"unusable block_id {block_id[:64]!r}")


def _check_time(timestamp: str) -> None:
    # Stored with every event and parsed by the planner: a bad one must never reach the store.
    if not valid_time(timestamp):
        raise MalformedBlock(f"unusable timestamp {timestamp[:64]!r}")


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


def check_block(block: Block) -> None:
    """MalformedBlock if a well-formed block has an unusable id or time: no better than a malformed one."""
    _check_id(block.block_id)
    _check_time(block.timestamp)


def decode_block(raw: msgspec.Raw | bytes) -> tuple[Block, int]:
    """The block with every well-formed op, and how many malformed ops or transactions were dropped."""
    try:
        block = _block.decode(raw)
    except (msgspec.MsgspecError, RecursionError):  # RecursionError: JSON nested ~1000 deep
        pass
    else:
        check_block(block)
        return block, 0
    try:
        loose = _loose_block.decode(raw)
    except (msgspec.MsgspecError, RecursionError) as exc:
        raise MalformedBlock(str(exc)) from None
    _check_id(loose.block_id)
    _check_time(loose.timestamp)
    transactions, dropped = _salvage_transactions(loose.transactions)
    return Block(loose.block_id, loose.timestamp, transactions), dropped


def _salvage_transactions(raw_transactions: list[msgspec.Raw]) -> tuple[list[Transaction], int]:
    dropped = 0
    transactions: list[Transaction] = []
    for raw_trx in raw_transactions:
        try:
            trx = _loose_trx.decode(raw_trx)
        except (msgspec.MsgspecError, RecursionError):
            dropped += 1
            continue
        ops: list[RawOp] = []
        for raw_op in trx.operations:
            try:
                ops.append(_op.decode(raw_op))
            except (msgspec.MsgspecError, RecursionError):
                dropped += 1
        transactions.append(Transaction(ops))
    return transactions, dropped


def salvage_block(raw: msgspec.Raw | bytes, number: int, fallback_time: str) -> tuple[Block, str]:
    """Block `number` from an answer every node garbled: what can be read of it, and what was not.

    The chain must go on, so an unusable time becomes `fallback_time` (a neighbour's); a block that
    is not one at all, or names another number, is kept as an empty block.
    """
    try:
        block, dropped = decode_block(raw)
    except MalformedBlock:
        pass
    else:
        if block.number == number:
            return block, f"{dropped} op(s) dropped" if dropped else ""
        return _empty(number, fallback_time), f"it is block {block.number}, kept as empty"
    try:
        loose = _any_block.decode(raw)
    except (msgspec.MsgspecError, RecursionError):
        return _empty(number, fallback_time), "not a block, kept as empty"
    block_id = loose.block_id
    if isinstance(block_id, str) and _BLOCK_ID.match(block_id) and int(block_id[:8], 16) != number:
        return _empty(number, fallback_time), "it names another block, kept as empty"
    problems = []
    timestamp = loose.timestamp
    if not valid_time(timestamp):
        problems.append(f"time {str(timestamp)[:40]!r} replaced")
        timestamp = fallback_time
    transactions: list[Transaction] = []
    if loose.transactions is not None:
        try:
            raws = msgspec.json.decode(msgspec.json.encode(loose.transactions), type=list[msgspec.Raw])
        except (msgspec.MsgspecError, RecursionError):
            problems.append("transactions unreadable")
        else:
            transactions, dropped = _salvage_transactions(raws)
            if dropped:
                problems.append(f"{dropped} op(s) dropped")
    return Block(_synthetic_id(number), timestamp, transactions), ", ".join(problems) or "block id unusable"


def _synthetic_id(number: int) -> str:
    return f"{number:08x}" + "0" * 32


def _empty(number: int, timestamp: str) -> Block:
    return Block(_synthetic_id(number), timestamp, [])
