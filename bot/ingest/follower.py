"""Follows the chain into the store: catch-up by block ranges, then live on irreversible blocks."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Literal

import msgspec

from bot.hive.blocks import (
    INT64,
    UINT64,
    Block,
    BlockRange,
    EffectiveVote,
    LooseVirtualOpsPage,
    MalformedBlock,
    VirtualOp,
    VirtualOpsPage,
    decode_block,
    format_asset,
    gc_paused,
    need_int,
    read_int,
    salvage_block,
)
from bot.hive.client import BadAnswer, HiveClient, HiveUnavailable, RpcError
from bot.hive.events import ChainEvent, EventDecoder, PostCreated, VoteCast
from bot.ingest.ledger import apply_events
from bot.ingest.newposts import judge_new_post
from bot.store.chain_writer import ChainWriter
from bot.store.store import Store

log = logging.getLogger("hivecord.follower")

MAX_RANGE = 1000  # block_api.get_block_range refuses more
EFFECTIVE_COMMENT_VOTE = 0x400000
# HAfAH serves up to 150,000 ops a page; 10,000 keeps a page near the size of a block range.
VOPS_PAGE = 10_000
_effective_vote = msgspec.json.Decoder(EffectiveVote)
# Used only when a block is unusable everywhere and no neighbour's time is known.
_NO_TIME = "1970-01-01T00:00:00"


@dataclass
class Fetched:
    blocks: list[Block]
    vote_ops: list[VirtualOp]  # the range's effective_comment_vote ops, values undecoded


@dataclass
class Progress:
    cursor: int  # last block stored
    target: int  # block the follower is heading for (irreversible head, or --to-block)
    blocks: int  # blocks stored since start
    elapsed: float


class Follower:
    """Reads blocks, keeps the events that matter, writes them and the cursor in one transaction.

    A crash at any point leaves the store at the end of some whole batch; the next start resumes
    from the cursor, so nothing is lost and nothing repeats.
    """

    def __init__(
        self,
        client: HiveClient,
        store: Store,
        communities: Iterable[str],
        *,
        batch_size: int = MAX_RANGE,
        poll_interval: float = 1.0,
        start_block: int | Literal["head"] = "head",
        stop_at: int | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        reprobe_every: float = 30.0,
        bridge_deadline: float = 10.0,
    ) -> None:
        self.client = client
        self.store = store
        self.communities = set(communities)
        self.batch_size = max(1, min(MAX_RANGE, batch_size))
        self.poll_interval = poll_interval
        self.start_block = start_block
        self.stop_at = stop_at
        self.on_progress = on_progress
        self.reprobe_every = reprobe_every
        self.bridge_deadline = bridge_deadline
        self.cursor: int | None = None
        self.head: int | None = None
        self.irreversible: int | None = None
        self.head_time: str = ""
        self.events_written = 0
        self._stopping = asyncio.Event()
        self._decoder: EventDecoder | None = None
        self._started = 0.0
        self._blocks = 0
        self._told_waiting = -math.inf  # when "waiting for block N" was last logged
        self._last_time = ""  # the time of the last block stored, for a block whose own is unusable

    def follow(self, community: str) -> None:
        """Starts keeping a community's posts from the next batch on (a feed was added for it)."""
        self.communities.add(community)
        if self._decoder is not None:
            self._decoder.communities.add(community)

    def adopt(self, author: str, permlink: str, *, reply: bool = False) -> None:
        """A post (a backfill) or a reply (a thread's late start) stored from elsewhere: its later edits,
        votes and deletes are kept."""
        if self._decoder is not None and reply:
            self._decoder.live_replies.add((author, permlink))
        elif self._decoder is not None:
            self._decoder.live_posts.add((author, permlink))
            self._decoder.authors.add(author)

    def stop(self) -> None:
        """Ends run() after the batch in hand is committed."""
        self._stopping.set()

    async def run(self) -> None:
        # What start-up built lives for the whole run; frozen, the collector stops rescanning it
        # on every pass over the many short-lived objects a batch makes.
        gc.freeze()
        self._started = time.monotonic()
        await self.client.probe()
        self.cursor = await self._initial_cursor()
        stored = (await self.store.posts.live_post_keys(), await self.store.posts.known_authors())
        # custom_json ops are read only in blocks where an open /link code could still be used.
        replies, claims_until = await self.store.replies.live_reply_keys(), self.store.links.claims_until
        self._decoder = EventDecoder(self.communities, *stored, live_replies=replies, claims_until=claims_until)
        log.info("following %s from block %d", ", ".join(sorted(self.communities)) or "no community", self.cursor + 1)
        last_probe = time.monotonic()
        while not self._stopping.is_set():
            if self.stop_at is not None and self.cursor >= self.stop_at:
                return
            props = await self.client.properties()
            self.head, self.irreversible, self.head_time = (
                props.head_block_number,
                props.last_irreversible_block_num,
                props.time,
            )
            target = props.last_irreversible_block_num
            if self.stop_at is not None:
                target = min(target, self.stop_at)
            if self.cursor < target:
                await self._catch_up(target)
                continue
            # Idle: every node is asked for its head now and then, so a node stuck behind is left.
            # An ingest waiting for a --to-block the current node has not reached asks sooner.
            every = self.reprobe_every if self.stop_at is None or self.stop_at <= target else 2.0
            if self.stop_at is not None and self.stop_at > target and time.monotonic() - self._told_waiting > 60:
                log.info(
                    "waiting for block %d to become irreversible (last irreversible block %d, head %d)",
                    self.stop_at,
                    self.irreversible,
                    self.head,
                )
                self._told_waiting = time.monotonic()
            if time.monotonic() - last_probe > every:
                await self.client.probe()
                last_probe = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.poll_interval)

    async def _initial_cursor(self) -> int:
        cursor = await self.store.db.cursor()
        if cursor is not None:
            return cursor
        if self.start_block == "head":
            props = await self.client.properties()
            cursor = props.last_irreversible_block_num
        else:
            cursor = self.start_block - 1
        # Recorded at once, so a restart before the first batch resumes here rather than at a newer head.
        await self.store.chain_batch(lambda tx: tx.set_cursor(cursor))
        return cursor

    async def _catch_up(self, target: int) -> None:
        assert self.cursor is not None
        fetch: asyncio.Task[Fetched] | None = asyncio.create_task(self._fetch(self.cursor + 1, target))
        try:
            while fetch is not None:
                fetched = await fetch
                last = fetched.blocks[-1].number
                # The next range travels while this one is decoded and written.
                fetch = None
                if last < target and not self._stopping.is_set():
                    fetch = asyncio.create_task(self._fetch(last + 1, target))
                await self._store_batch(fetched)
        finally:
            if fetch is not None:
                fetch.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await fetch

    async def _fetch(self, start: int, target: int) -> Fetched:
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

        def check(answer: BlockRange) -> None:
            decoded.clear()
            if not answer.blocks:
                raise BadAnswer(f"no block {start} yet although the chain is past {target}")
            with gc_paused():
                for offset, raw in enumerate(answer.blocks[:count]):
                    try:
                        block, dropped = decode_block(raw)
                        if block.number != start + offset:
                            raise MalformedBlock(f"expected block {start + offset}, got {block.number}")
                    except MalformedBlock as exc:
                        if offset:
                            # The good blocks before it are kept; the next range starts at this one.
                            log.warning("block %d is malformed (%s); asking again", start + offset, exc)
                            return
                        raise BadAnswer(f"block {start} is malformed: {exc}") from None
                    if dropped:
                        log.warning("block %d: skipped %d malformed op(s) or transaction(s)", block.number, dropped)
                    decoded.append(block)

        def salvage(answer: BlockRange) -> None:
            # Every node garbled block `start`: keep what can be read of it, so the chain goes on.
            decoded.clear()
            if not answer.blocks:
                raise BadAnswer(f"no block {start} yet although the chain is past {target}")
            block, problem = salvage_block(answer.blocks[0], start, self._last_time or self.head_time or _NO_TIME)
            if problem:
                log.error("block %d: every answer was malformed; kept what could be read (%s)", start, problem)
            decoded.append(block)

        params = {"starting_block_num": start, "count": count}
        try:
            await self.client.call(
                "block_api.get_block_range", params, BlockRange, check=check, bad_answer_limit=self._bad_answer_limit
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
                params: dict[str, int | bool] = {
                    "block_range_begin": begin,
                    "block_range_end": end,
                    "include_reversible": True,
                    "filter": EFFECTIVE_COMMENT_VOTE,
                    "limit": VOPS_PAGE,
                }
                if operation_begin:
                    params["operation_begin"] = operation_begin
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

    async def _judge_new_posts(self, events: list[ChainEvent]) -> list[ChainEvent]:
        """A post first seen here may be an old one edited or re-sent: bridge says which (see newposts)."""
        created = [e for e in events if isinstance(e, PostCreated)]
        if not created:
            return events
        keys = [{"author": e.author, "permlink": e.permlink} for e in created]
        try:
            answers = await self.client.call_batch("bridge.get_post", keys, deadline=self.bridge_deadline)
        except HiveUnavailable as exc:
            log.warning("bridge.get_post unanswered (%s): posts first seen as edits are skipped", exc)
            answers = [None] * len(created)
        verdicts = {id(e): judge_new_post(e, answer) for e, answer in zip(created, answers, strict=True)}
        judged: list[ChainEvent] = []
        for event in events:
            if isinstance(event, PostCreated):
                verdict = verdicts[id(event)]
                if verdict is None:
                    log.info("skipped %s/%s: an edit of a post bridge cannot show", event.author, event.permlink)
                    assert self._decoder is not None
                    self._decoder.live_posts.discard((event.author, event.permlink))
                    continue
                event = verdict
            judged.append(event)
        return judged

    async def _store_batch(self, fetched: Fetched) -> None:
        assert self._decoder is not None
        blocks = fetched.blocks
        events = self._decoder.decode(blocks)
        if self._decoder.skipped_ops:
            log.warning(
                "skipped %d malformed operation(s) in blocks %d-%d",
                self._decoder.skipped_ops,
                blocks[0].number,
                blocks[-1].number,
            )
            self._decoder.skipped_ops = 0
        events = await self._judge_new_posts(with_vote_details(events, fetched.vote_ops))
        last = blocks[-1].number
        at = blocks[-1].timestamp

        def write(tx: ChainWriter) -> int:
            written = apply_events(tx, events)
            tx.set_cursor(last, at)
            return written

        self.events_written += await self.store.chain_batch(write)
        self.cursor = last
        self._last_time = at
        self._blocks += len(blocks)
        if self.on_progress is not None:
            target = self.stop_at or self.irreversible or last
            self.on_progress(Progress(last, target, self._blocks, time.monotonic() - self._started))


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
