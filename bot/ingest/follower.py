"""Follows the chain into the store: catch-up by block ranges, then live on irreversible blocks."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bot.hive.client import HiveClient, HiveUnavailable
from bot.hive.events import ChainEvent, EventDecoder, PostCreated
from bot.ingest.fetch import MAX_RANGE, BlockFetcher, Fetched, with_vote_details
from bot.ingest.ledger import apply_events
from bot.ingest.newposts import judge_new_post
from bot.ingest.reputations import learn_new_authors
from bot.store.chain_writer import ChainWriter
from bot.store.links import ChainLinksListener
from bot.store.moderation import RoleOp
from bot.store.store import Store

if TYPE_CHECKING:
    from bot.config.settings import HiveConfig

log = logging.getLogger("hivecord.follower")

BLOCK_INTERVAL = 3.0  # seconds between two Hive blocks


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

    @classmethod
    def from_config(
        cls,
        client: HiveClient,
        store: Store,
        hive: HiveConfig,
        communities: Iterable[str],
        *,
        start_block: int | None = None,
        stop_at: int | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        on_links: ChainLinksListener | None = None,
    ) -> Follower:
        """The follower `run` and `ingest` both use, paced by the [hive] settings; `start_block`
        (ingest's --from-block) wins over hive.start_block."""
        return cls(
            client,
            store,
            communities,
            batch_size=hive.batch_size,
            poll_interval=hive.poll_interval,
            start_block=hive.start_block if start_block is None else start_block,
            stop_at=stop_at,
            on_progress=on_progress,
            on_links=on_links,
        )

    def __init__(
        self,
        client: HiveClient,
        store: Store,
        communities: Iterable[str],
        *,
        batch_size: int = MAX_RANGE,
        poll_interval: float = 0.5,
        start_block: int | Literal["head"] = "head",
        stop_at: int | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        reprobe_every: float = 30.0,
        bridge_deadline: float = 10.0,
        on_links: ChainLinksListener | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.communities = set(communities)
        self.batch_size = max(1, min(MAX_RANGE, batch_size))
        self.fetcher = BlockFetcher(client, batch_size=batch_size, time_hint=lambda: self._last_time or self.head_time)
        self.poll_interval = poll_interval
        self.start_block = start_block
        self.stop_at = stop_at
        self.on_progress = on_progress
        self.on_links = on_links  # told of the links each batch completed, once it is committed
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
        self._last_id = ""  # the id of the last block stored ("" until one is), to check the next links to it
        self._head_seen = -math.inf  # when the current head was first seen (monotonic)
        # Told the setRole ops a committed batch applied: hivemind's list is read again, and kept to them.
        self.on_role_ops: Callable[[Sequence[RoleOp]], None] | None = None
        # Awaited with the followed communities before the first batch (their roles, read once).
        self.prepare: Callable[[set[str]], Awaitable[None]] | None = None
        # Called before each batch is decoded: with other processes on the database, what they stored
        # that this follower must know (a community followed, a backfilled post) is read here.
        self.before_batch: Callable[[], Awaitable[None]] | None = None

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
        if self.prepare is not None:
            await self.prepare(set(self.communities))
        stored = (await self.store.posts.live_post_keys(), await self.store.posts.known_authors())
        # custom_json ops are read only in blocks where an open /link code could still be used.
        replies, claims_until = await self.store.replies.live_reply_keys(), self.store.links.claims_until
        self._decoder = EventDecoder(self.communities, *stored, live_replies=replies, claims_until=claims_until)
        log.info("following %s from block %d", ", ".join(sorted(self.communities)) or "no community", self.cursor + 1)
        last_probe = time.monotonic()
        live = False  # caught up at the last poll: the next block is asked for with the head
        final_now = False  # the last poll said the next block is final, without bringing it
        while not self._stopping.is_set():
            if self.stop_at is not None and self.cursor >= self.stop_at:
                return
            asked_ahead = live and (final_now or self._next_block_due())
            if asked_ahead:
                props, ahead = await self.fetcher.poll_ahead(self.cursor, self._last_id)
            else:
                props, ahead = await self.client.properties(), None
            final_now = False
            if props.head_block_number != self.head:
                self._head_seen = time.monotonic()
            self.head, self.irreversible, self.head_time = (
                props.head_block_number,
                props.last_irreversible_block_num,
                props.time,
            )
            target = props.last_irreversible_block_num
            if self.stop_at is not None:
                target = min(target, self.stop_at)
            if self.cursor < target:
                if ahead is not None:
                    await self._store_batch(ahead)
                    if self.cursor >= target:
                        live = True  # caught up again: wait for the next block, do not ask at once
                        await self._idle_wait()
                        continue
                elif live and not asked_ahead and target == self.cursor + 1:
                    final_now = True  # the head moved early: ask again at once, the block with it
                    continue
                live = False
                await self._catch_up(target)
                continue
            live = True
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
            await self._idle_wait()

    def _next_block_due(self) -> bool:
        """Whether the block after the cursor may be irreversible by now, so worth asking for with the
        head. It becomes so when the block after the head is made, BLOCK_INTERVAL after the head was;
        asked for before, it would come (~24 KB on mainnet) only to be dropped, poll after poll. A
        head that moves sooner costs one request more: the head is asked for again at once, with it."""
        return time.monotonic() - self._head_seen >= BLOCK_INTERVAL - self.poll_interval

    async def _idle_wait(self) -> None:
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
        fetch: asyncio.Task[Fetched] | None = asyncio.create_task(self.fetcher.fetch(self.cursor + 1, target))
        try:
            while fetch is not None:
                fetched = await fetch
                last = fetched.blocks[-1].number
                # The next range travels while this one is decoded and written.
                fetch = None
                if last < target and not self._stopping.is_set():
                    fetch = asyncio.create_task(self.fetcher.fetch(last + 1, target))
                await self._store_batch(fetched)
        finally:
            if fetch is not None:
                fetch.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await fetch

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
        if self.before_batch is not None:
            await self.before_batch()  # what other processes stored that decoding must know
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
        await learn_new_authors(self.client, self.store, events)  # before the planner can see the posts
        last = blocks[-1].number
        at = blocks[-1].timestamp

        roles_set: list[RoleOp] = []

        def write(tx: ChainWriter) -> int:
            written = apply_events(tx, events)
            tx.set_cursor(last, at, previous=self.cursor)
            roles_set[:] = tx.moderation.roles_set  # the setRoles applied, told once committed
            return written

        self.events_written += await self.store.chain_batch(write, self.on_links)
        if roles_set and self.on_role_ops is not None:
            self.on_role_ops(roles_set)
        self.cursor = last
        self._last_time = at
        self._last_id = blocks[-1].block_id
        self._blocks += len(blocks)
        if self.on_progress is not None:
            target = self.stop_at or self.irreversible or last
            self.on_progress(Progress(last, target, self._blocks, time.monotonic() - self._started))
