"""Which of this process's loops run where: the leader's alone, and what every process does.

Every process answers the commands of its shards and sends the lanes it claims. One process, the leader,
also runs every loop that reads the chain or writes state the others derive from: the follower (chain
polling), the planner, vote-count refreshes and pruning (inside delivery, on `coordination.leading`),
the settler (it broadcasts signed intents again), the communities' roles from hivemind and the members'
role check against Hive facts. On SQLite there is one process and it always leads.

What a non-leader changes that the leader's follower holds in memory (a feed for a new community, posts
a backfill stored, an open /link code) the leader reads again from the database every few seconds
while other processes share it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from bot.delivery.pace import WireWindow
from bot.delivery.worker import DeliveryWorker
from bot.ingest.community_roles import CommunityRoles
from bot.ingest.follower import Follower
from bot.process.backoff import Backoff
from bot.process.retry import describe
from bot.process.supervisor import keep_running
from bot.services.roles import RoleService
from bot.services.settler import Settler
from bot.store.coordination import Coordination, SingleProcess
from bot.store.store import Store

log = logging.getLogger("hivecord")

TRY_EVERY = 1.0  # seconds between tries for the lead (and checks that the claims still hold)
SHARE_EVERY = 2.0  # seconds between counts of the processes sharing the send rates (one cheap query)
RESYNC_EVERY = 3.0  # the leader reads again when the /link codes other processes issued expire
RECONNECT_CAP = 30.0


class Wired(Protocol):
    """The running bot's parts the duties divide (bot/app.py's Hivecord)."""

    store: Store
    follower: Follower
    delivery: DeliveryWorker
    wire: WireWindow
    roles: RoleService
    settler: Settler
    community_roles: CommunityRoles


class Duties:
    """Keeps this process's share of the work in line with its place: campaigns for the lead every second,
    starts the leader's loops when it wins and cancels them at once when the claims are lost."""

    def __init__(
        self,
        coordination: Coordination,
        stopping: asyncio.Event,
        *,
        store: Store,
        follower: Follower,
        delivery: DeliveryWorker,
        wire: WireWindow,
        leader_loops: Mapping[str, Callable[[], Awaitable[None]]],
    ) -> None:
        self.coordination = coordination
        self._stopping = stopping
        self._store = store
        self._follower = follower
        self._delivery = delivery
        self._wire = wire
        self._wire_rate = wire.limit
        self._loops = dict(leader_loops)
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.processes = 1
        self._stoppers: list[Callable[[], None]] = []
        self._posts_seen = self._replies_seen = 0  # the last rows _others_changes read
        follower.before_batch = self._others_changes
        coordination.on_lost(self._lost)

    @classmethod
    def of(cls, bot: Wired, coordination: Coordination, stopping: asyncio.Event) -> Duties:
        loops = {
            "follower": bot.follower.run,
            "role check": bot.roles.run,
            "settler": bot.settler.run,
            "community roles": bot.community_roles.run,
        }
        duties = cls(
            coordination, stopping, store=bot.store, follower=bot.follower, delivery=bot.delivery, wire=bot.wire,
            leader_loops=loops,
        )  # fmt: skip
        duties._stoppers = [bot.follower.stop, bot.roles.stop, bot.settler.stop, bot.community_roles.stop]
        return duties

    @property
    def follows_here(self) -> bool:
        """Whether this process's follower is the chain's (its cursor and head in memory are current):
        always on SQLite, else while it leads."""
        return bool(self.tasks) or isinstance(self.coordination, SingleProcess)

    def _lost(self) -> None:
        """Called the moment the claims go: nothing they covered may go on, not even for a second."""
        for task in self.tasks.values():
            task.cancel()
        self._delivery.senders.abandon()

    async def run(self) -> None:
        backoff = Backoff(RECONNECT_CAP)
        share_at = resync_at = 0.0
        while not self._stopping.is_set():
            if not self.coordination.connected:
                await self._demote()
                await self._delivery.senders.settled()  # before any lane is claimed again
                try:
                    await self.coordination.connect()
                    backoff = Backoff(RECONNECT_CAP)
                    # Its share of the rates before its first lane is claimed, not at the next count.
                    self._share(await self.coordination.live_processes())
                    share_at = time.monotonic() + SHARE_EVERY
                except Exception as exc:
                    delay = backoff.next()
                    log.warning("cannot reach the database to coordinate: %s; again in %g s", describe(exc), delay)
                    await self._pause(delay)
                    continue
            if await self.coordination.try_lead():
                if not self.tasks:
                    await self._promote()
                    resync_at = time.monotonic() + RESYNC_EVERY
            elif self.tasks:
                await self._demote()
            now = time.monotonic()
            if now >= share_at:
                share_at = now + SHARE_EVERY
                self._share(await self.coordination.live_processes())
            if self.tasks and self.processes > 1 and now >= resync_at:
                resync_at = now + RESYNC_EVERY
                with contextlib.suppress(Exception):  # read again at the next pass
                    await self._store.links.load()
            await self._pause(TRY_EVERY)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    def _share(self, processes: int) -> None:
        """Each of the processes sending at once paces at its share of the configured rates."""
        if processes != self.processes:
            log.info("%d process(es) share the database: each sends at 1/%d of the rates", processes, processes)
        self.processes = processes
        self._delivery.share(processes)
        self._wire.limit = max(1, math.floor(self._wire_rate / processes))

    async def _promote(self) -> None:
        if not isinstance(self.coordination, SingleProcess):
            # The follower reads every stored post and reply as it starts; from here on, only newer rows.
            self._posts_seen, self._replies_seen = await self._store.posts.last_row_ids()
            await self._others_changes()  # a community another process started following meanwhile
        log.info("leading: following the chain, planning delivery, settling intents, reading community roles")
        self.tasks = {
            name: asyncio.create_task(keep_running(name, loop, self._stopping)) for name, loop in self._loops.items()
        }
        self._delivery.wake()

    async def _demote(self) -> None:
        """Ends the leader's loops; a batch of blocks being written ends whole or not at all (its transaction)."""
        tasks, self.tasks = self.tasks, {}
        if not tasks:
            return
        log.warning("no longer leading: the follower and the other leader's loops stop")
        for task in tasks.values():
            task.cancel()
        for task in tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _others_changes(self) -> None:
        """Before each batch the leader's follower decodes (and as it starts): with other processes on
        the database, the communities their /feed add followed and the posts and replies their backfills
        stored since the last look, so no op on them in this batch is dropped as unknown. Small reads
        by row id, whatever the count of processes says (a process that just started is not counted
        yet); none on SQLite, where this process is the only one."""
        if isinstance(self.coordination, SingleProcess):
            return
        for community in await self._store.feeds.followed_communities() - self._follower.communities:
            self._follower.follow(community)
        posts, self._posts_seen = await self._store.posts.live_post_keys_after(self._posts_seen)
        for author, permlink in posts:
            self._follower.adopt(author, permlink)
        replies, self._replies_seen = await self._store.replies.live_reply_keys_after(self._replies_seen)
        for author, permlink in replies:
            self._follower.adopt(author, permlink, reply=True)

    def stop(self) -> None:
        """At the process's stop: the leader's loops end now (each is safe to cancel at any await)."""
        for stop in self._stoppers:
            stop()
        for task in self.tasks.values():
            task.cancel()
