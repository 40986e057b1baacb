"""Reads blocks from the nodes: ranges while catching up, the next block with the head while live."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import msgspec

from bot.hive.blocks import (
    INT64,
    UINT64,
    Block,
    BlockRange,
    ChainHead,
    DecodedRange,
    EffectiveVote,
    LooseVirtualOpsPage,
    MalformedAnswer,
    MalformedBlock,
    VirtualOp,
    VirtualOpsPage,
    check_block,
    decode_block,
    format_asset,
    gc_paused,
    need_int,
    read_int,
    salvage_block,
)
from bot.hive.client import BadAnswer, HiveClient, RpcError
from bot.hive.events import ChainEvent, VoteCast

log = logging.getLogger("hivecord.follower")

MAX_RANGE = 1000  # block_api.get_block_range refuses more
EFFECTIVE_COMMENT_VOTE = 0x400000
# HAfAH serves up to 150,000 ops a page; 10,000 keeps a page near the size of a block range.
VOPS_PAGE = 10_000
_effective_vote = msgspec.json.Decoder(EffectiveVote)
_block_range = msgspec.json.Decoder(BlockRange)
_vops_page = msgspec.json.Decoder(VirtualOpsPage)
# Used only when a block is unusable everywhere and no neighbour's time is known.
_NO_TIME = "1970-01-01T00:00:00"


@dataclass
class Fetched:
    blocks: list[Block]
    vote_ops: list[VirtualOp]  # the range's effective_comment_vote ops, values undecoded


class BlockFetcher:
    """Fetches blocks with their vote details from the client's nodes, checking what comes back.

    `time_hint` gives a time for a block every node garbles (the last stored block's, or the head's).
    """

    def __init__(self, client: HiveClient, *, batch_size: int, time_hint: Callable[[], str]) -> None:
        self.client = client
        self.batch_size = max(1, min(MAX_RANGE, batch_size))
        self.time_hint = time_hint

    async def fetch(self, start: int, target: int) -> Fetched:
        """A range of blocks and, at the same time, the vote details of that range."""
        count = min(self.batch_size, target - start + 1)
        blocks, vote_ops = await asyncio.gather(
            self._fetch_blocks(start, count, target), self._fetch_vote_ops(start, start + count)
        )
        return Fetched(blocks, vote_ops)

    @property
    def _bad_answer_limit(self) -> int:
        # Enough for every node to be asked twice before a block every node garbles is salvaged.
        return max(3, 2 * len(self.client.nodes))

    async def _fetch_blocks(self, start: int, count: int, target: int) -> list[Block]:
        decoded: list[Block] = []

        def check(answer: DecodedRange | BlockRange) -> None:
            decoded.clear()
            decoded.extend(read_range(answer, start, count, target))

        def salvage(answer: BlockRange) -> None:
            # Every node garbled block `start`: keep what can be read of it, so the chain goes on.
            decoded.clear()
            if not answer.blocks:
                raise BadAnswer(f"no block {start} yet although the chain is past {target}")
            block, problem = salvage_block(answer.blocks[0], start, self.time_hint() or _NO_TIME)
            if problem:
                log.error("block %d: every answer was malformed; kept what could be read (%s)", start, problem)
            decoded.append(block)

        params = {"starting_block_num": start, "count": count}
        try:
            # Read in one pass; a range with a malformed block is read again block by block.
            await self.client.call(
                "block_api.get_block_range",
                params,
                DecodedRange,
                check=check,
                fallback_type=BlockRange,
                bad_answer_limit=self._bad_answer_limit,
            )
        except BadAnswer as exc:
            log.error("blocks from %d: %s", start, exc)
            await self.client.call("block_api.get_block_range", {**params, "count": 1}, BlockRange, check=salvage)
        return list(decoded)

    async def _fetch_vote_ops(self, begin: int, end: int) -> list[VirtualOp]:
        """effective_comment_vote ops of blocks [begin, end), values undecoded; [] where nodes lack them."""
        found: list[VirtualOp] = []
        operation_begin = 0
        first = begin
        page: list[tuple[list[VirtualOp], int, int]] = []

        def check(answer: VirtualOpsPage | LooseVirtualOpsPage) -> None:
            page.clear()
            if isinstance(answer, VirtualOpsPage):
                ops = answer.ops
            else:
                # A wrong type somewhere: the ops that can be read are kept, one by one.
                ops, skipped = answer.readable_ops()
                if skipped:
                    log.warning("vote details of blocks %d-%d: skipped %d malformed op(s)", first, end - 1, skipped)
            # hived writes 64-bit values above 2**32 as strings.
            next_block = need_int(answer.next_block_range_begin, "next_block_range_begin", UINT64)
            next_op = need_int(answer.next_operation_begin, "next_operation_begin", UINT64)
            page.append((ops, next_block, next_op))

        try:
            while begin < end:
                params = _vops_params(begin, end, operation_begin)
                # Only a node that has the whole range may answer: a lagging one would leave gaps.
                await self.client.call(
                    "account_history_api.enum_virtual_ops",
                    params,
                    VirtualOpsPage,
                    check=check,
                    fallback_type=LooseVirtualOpsPage,
                    min_head=end - 1,
                    bad_answer_limit=self._bad_answer_limit,
                )
                ops, next_block, next_op = page[0]
                found.extend(ops)
                # Done when the node says so, or when it makes no progress.
                position = (next_block, next_op)
                if not ops or not next_op or next_block >= end:
                    break
                if position <= (begin, operation_begin):
                    break
                begin, operation_begin = position
        except RpcError as exc:
            log.warning("vote details unavailable for blocks %d-%d: %s", first, end - 1, exc)
            return []
        except BadAnswer as exc:
            # Every node garbles them: the votes are still stored, without rshares and payout.
            log.error("vote details of blocks %d-%d skipped: %s", begin, end - 1, exc)
        return found

    async def poll_ahead(self, cursor: int, last_id: str) -> tuple[ChainHead, Fetched | None]:
        """The head and, in the same round trip, the block after the cursor with its vote details.

        The node serves that block before it is irreversible (it is usually its head): it is kept
        only if the same answer says it is irreversible, and only if it links to the last block
        stored (`last_id`). None when the node could not give it whole; the caller then fetches as usual.
        """
        nxt = cursor + 1
        props, (blocks_raw, vops_raw) = await self.client.properties_with(
            [
                ("block_api.get_block_range", {"starting_block_num": nxt, "count": 1}),
                ("account_history_api.enum_virtual_ops", _vops_params(nxt, nxt + 1, 0)),
            ]
        )
        if blocks_raw is None or vops_raw is None or props.last_irreversible_block_num < nxt:
            return props, None
        try:
            answer = _block_range.decode(blocks_raw)
            page = _vops_page.decode(vops_raw)
            blocks = read_range(answer, nxt, 1, nxt)
        except (BadAnswer, MalformedAnswer, msgspec.MsgspecError, RecursionError):
            return props, None
        if not blocks or (last_id and blocks[0].previous and blocks[0].previous != last_id):
            return props, None
        if read_int(page.next_operation_begin, UINT64) and (read_int(page.next_block_range_begin, UINT64) or 0) <= nxt:
            return props, None  # more than one page of votes in one block: fetched as usual
        return props, Fetched(blocks, page.ops)


def read_range(answer: DecodedRange | BlockRange, start: int, count: int, target: int) -> list[Block]:
    """The blocks of a range answer from `start` on, up to the first malformed one (BadAnswer if
    that is the first)."""
    if not answer.blocks:
        raise BadAnswer(f"no block {start} yet although the chain is past {target}")
    decoded: list[Block] = []
    items: Sequence[Block | msgspec.Raw] = answer.blocks[:count]
    with gc_paused():
        for offset, raw in enumerate(items):
            try:
                if isinstance(raw, Block):
                    block, dropped = raw, 0
                    check_block(block)
                else:
                    block, dropped = decode_block(raw)
                if block.number != start + offset:
                    raise MalformedBlock(f"expected block {start + offset}, got {block.number}")
            except MalformedBlock as exc:
                if offset:
                    # The good blocks before it are kept; the next range starts at this one.
                    log.warning("block %d is malformed (%s); asking again", start + offset, exc)
                    break
                raise BadAnswer(f"block {start} is malformed: {exc}") from None
            if dropped:
                log.warning("block %d: skipped %d malformed op(s) or transaction(s)", block.number, dropped)
            decoded.append(block)
    return decoded


def _vops_params(begin: int, end: int, operation_begin: int) -> dict[str, int | bool]:
    params: dict[str, int | bool] = {
        "block_range_begin": begin,
        "block_range_end": end,
        "include_reversible": True,
        "filter": EFFECTIVE_COMMENT_VOTE,
        "limit": VOPS_PAGE,
    }
    if operation_begin:
        params["operation_begin"] = operation_begin
    return params


def with_vote_details(events: list[ChainEvent], vote_ops: list[VirtualOp]) -> list[ChainEvent]:
    """Adds rshares and pending payout from effective_comment_vote to the votes that have one."""
    votes = {(e.block_num, e.voter, e.author, e.permlink) for e in events if isinstance(e, VoteCast)}
    if not votes or not vote_ops:
        return events
    blocks = {key[0] for key in votes}
    details: dict[tuple[int, str, str, str], tuple[int | None, str | None]] = {}
    for vop in vote_ops:
        if vop.block not in blocks or vop.op.type != "effective_comment_vote_operation":
            continue  # most votes are on posts we do not keep: their values are never decoded
        try:
            value = _effective_vote.decode(vop.op.value)
        except (msgspec.MsgspecError, RecursionError):
            continue
        key = (vop.block, value.voter, value.author, value.permlink)
        if key not in votes:
            continue
        # An int, or a string above 2**32; a garbled one loses that field only. SQLite integers are
        # 64-bit and no real vote comes near.
        details[key] = (read_int(value.rshares, INT64), format_asset(value.pending_payout))
    enriched: list[ChainEvent] = []
    for event in events:
        if isinstance(event, VoteCast):
            found = details.get((event.block_num, event.voter, event.author, event.permlink))
            if found is not None:
                event = replace(event, rshares=found[0], pending_payout=found[1])
        enriched.append(event)
    return enriched
