"""The Bot subclass: opens nothing itself, only wires the store, the follower and delivery to Discord."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import TypeVar

import aiohttp
import discord
import yarl
from discord.ext import commands

from bot.command_tree import GuardedTree
from bot.config.load import Config
from bot.delivery.pace import WireWindow
from bot.delivery.planner import ReplyPace
from bot.delivery.worker import DeliveryWorker
from bot.hive.client import HiveClient
from bot.hive.posting_key import PostingKey
from bot.ingest.community_roles import CommunityRoles
from bot.ingest.discussion import fetch_discussion
from bot.ingest.follower import Follower, Progress
from bot.process.backoff import Backoff
from bot.process.duties import Duties
from bot.process.gateway import UnreadableEvents
from bot.process.retry import describe, unreachable
from bot.process.shards import Shards, intents
from bot.process.supervisor import keep_running
from bot.search.catalog import SeriesCatalog
from bot.services.curation import CurationService
from bot.services.curation_keys import CurationKeys
from bot.services.delivery_status import DeliveryStatus
from bot.services.feeds import FeedService
from bot.services.lanes import LaneService
from bot.services.links import LinkService
from bot.services.notices import NoticeService
from bot.services.replies_from_discord import ReplyService
from bot.services.reply_intents import ReplyIntents
from bot.services.reviews import ReviewService
from bot.services.roles import RoleService
from bot.services.settler import Settler
from bot.services.subscriptions import SubscriptionService
from bot.store.coordination import Coordination, SingleProcess
from bot.store.store import Store

log = logging.getLogger("hivecord")

T = TypeVar("T")

EXTENSIONS = (
    "cogs.feeds",
    "cogs.status",
    "cogs.subscriptions",
    "cogs.search",
    "cogs.lanes",
    "cogs.roles",
    "cogs.notify",
    "cogs.links",
    "cogs.curation",
    "cogs.reply",
)


class Hivecord(commands.AutoShardedBot):
    def __init__(
        self,
        config: Config,
        store: Store,
        hive: HiveClient,
        communities: set[str],
        *,
        posting_keys: Mapping[str, PostingKey] | None = None,
        stop_grace: float = 3.0,
        coordination: Coordination | None = None,
        shards: Shards | None = None,
    ) -> None:
        self.served = shards = shards or Shards()
        # Every request to Discord (but interaction answers) counts against one window as it leaves.
        self.wire = WireWindow(math.floor(config.delivery.requests_per_second))
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=GuardedTree,
            http_trace=self.wire.trace(),
            **shards.client_options(),
        )
        # An event discord.py cannot read is dropped with one log line, never the shard or the process.
        self.unreadable = UnreadableEvents()
        self.unreadable.guard(self._connection.parsers)
        self.config = config
        self.store = store
        self.hive = hive
        self.started_at = time.monotonic()
        self._stop = asyncio.Event()
        self.links = LinkService(store, hive)
        self.follower = Follower.from_config(
            hive, store, config.hive, communities, on_progress=self._on_blocks, on_links=self.links.linked_on_chain
        )
        # The communities' own moderation: their roles read from hivemind, again soon after a setRole.
        self.community_roles = CommunityRoles(
            store, hive, lambda: self.follower.communities, refresh_seconds=config.hive.community_roles_refresh_seconds
        )
        self.follower.on_role_ops = self.community_roles.role_ops_seen
        self.follower.prepare = self.community_roles.read_unread
        # Curation: the accounts' keys (from the environment, never stored), votes and their settling.
        self.curation_keys = CurationKeys(hive, config.curation.accounts, posting_keys or {})
        self.settler = Settler(store, hive, self.curation_keys)
        self.curation = CurationService(
            store,
            hive,
            self.curation_keys,
            daily_votes=config.curation.daily_votes,
            margin_hours=config.curation.vote_margin_hours,
            wake_settler=self.settler.wake,
            in_flight=self.settler.in_flight,
        )
        # Replies from Discord: signed with the bridge account's key, settled beside the votes.
        bridge = config.bridge.account
        key, settler = (posting_keys or {}).get(bridge), self.settler
        self.replies = ReplyService(
            store, hive, bridge, key, wake_settler=settler.wake, in_flight=settler.in_flight,
            late_start=partial(fetch_discussion, hive, store, self.follower),
            replies_per_window=config.delivery.thread_replies_per_window,
        )  # fmt: skip
        if bridge:
            self.settler.kinds.append(ReplyIntents(store, hive, bridge))
        self.delivery = DeliveryWorker(
            self,
            store,
            max_per_second=config.delivery.max_messages_per_second,
            requests_per_second=config.delivery.requests_per_second,
            digest_minutes=config.delivery.vote_digest_minutes,
            replies=ReplyPace(config.delivery.thread_replies_per_window, config.delivery.thread_reply_window_minutes),
            stats_refresh_minutes=config.delivery.stats_refresh_minutes,
            retention_days=config.delivery.retention_days,
            upvotes=self.curation.enabled,
            # A new thread starts with the replies its post already has on chain (bridge.get_discussion).
            late_start=partial(fetch_discussion, hive, store, self.follower),
            coordination=coordination or SingleProcess(),
        )
        # Series names change slowly and autocomplete asks on every keystroke: one cache for all cogs.
        self.series_catalog = SeriesCatalog(store.posts)
        # The use cases the cogs call.
        limits = config.limits
        self.feeds = FeedService(
            store,
            hive,
            self.follower,
            self.delivery.wake,
            self.community_roles,
            max_feeds=limits.feeds_per_server,
            max_curators=limits.curators_per_feed,
            retry_every=config.delivery.refused_retry_seconds,
        )
        self.subscriptions = SubscriptionService(store)
        self.lanes = LaneService(store, self.delivery.wake, every=config.delivery.refused_retry_seconds)
        self.reviews = ReviewService(store)
        self.delivery_status = DeliveryStatus(store)
        self.roles = RoleService(
            store,
            hive,
            self.delivery.wake,
            recheck_seconds=config.hive.facts_recheck_seconds,
            release_lanes=self.lanes.retry,
            max_rules=limits.role_rules_per_server,
        )
        self.links.on_linked(self.roles.on_linked)
        self.links.on_unlinked(self.roles.on_unlinked)
        self.duties = Duties.of(self, self.delivery.coordination, self._stop)
        self.settler.shared = lambda: self.duties.processes > 1
        self.notices = NoticeService(store)
        self.retry_max = config.discord.retry_max_seconds
        self.stop_grace = stop_grace
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._closer: asyncio.Future[None] | None = None
        self._setup_started = False
        self._next_sync = 0.0

    def _on_blocks(self, _progress: Progress) -> None:
        self.delivery.wake()
        self.settler.wake.set()  # a vote or reply the bot sent may be in these blocks

    async def setup_hook(self) -> None:
        self._setup_started = True
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        # Commands are in place before the gateway connects; a server that refuses them must not
        # keep feeds from flowing, so a refusal is retried beside mirroring.
        backoff = Backoff(self.retry_max)
        # One process syncs them: the one serving shard 0.
        synced = await self._try_sync(backoff) if self.served.syncs_commands else True
        self._tasks = {
            "delivery": asyncio.create_task(keep_running("delivery", self.delivery.run, self._stop)),
            "coordination": asyncio.create_task(keep_running("coordination", self.duties.run, self._stop)),
        }
        if not synced:
            self._tasks["command sync"] = asyncio.create_task(self._sync_until_done(backoff))

    async def _pause(self, seconds: float) -> bool:
        """Sleeps, or less if a stop is requested meanwhile; True when stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)
        return self._stop.is_set()

    async def _reach(
        self,
        what: str,
        attempt: Callable[[], Awaitable[T]],
        *,
        may_retry: Callable[[BaseException], bool] = unreachable,
        after_failure: Callable[[], Awaitable[None]] | None = None,
    ) -> T | None:
        """Runs `attempt` until it succeeds, waiting out an unreachable Discord with capped backoff.

        One warning line per failed attempt says what could not be reached and why. None when a
        stop is requested first: a hanging attempt is abandoned then, not waited for.
        """
        backoff = Backoff(self.retry_max)
        while not self._stop.is_set():
            task = asyncio.ensure_future(attempt())
            stopping = asyncio.ensure_future(self._stop.wait())
            try:
                await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopping.cancel()
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
            if task.cancelled():
                return None
            exc = task.exception()
            if exc is None:
                return task.result()
            if not may_retry(exc):
                raise exc
            delay = backoff.next()
            log.warning("cannot %s: %s; trying again in %g s", what, describe(exc), delay)
            if after_failure is not None:
                await after_failure()
            if await self._pause(delay):
                return None
        return None

    async def start(self, token: str, *, reconnect: bool = True) -> None:
        await self.login(token)
        if not self._stop.is_set():
            await self.connect(reconnect=reconnect)

    async def login(self, token: str) -> None:
        """Logs in; a network blip or a Discord outage at boot is waited out, a rejected token is not."""
        login = super().login

        def may_retry(exc: BaseException) -> bool:
            # Once setup_hook runs, a failure is ours, not the network's: retrying would repeat it.
            return not self._setup_started and unreachable(exc)

        where = discord.http.Route.BASE
        await self._reach(
            f"reach Discord at {where} to log in",
            lambda: login(token),
            may_retry=may_retry,
            after_failure=self._fresh_http,
        )

    async def _fresh_http(self) -> None:
        """Drops the HTTP session a failed login opened, so the next attempt starts clean (and none leaks)."""
        await self.http.close()
        self.http.connector = discord.utils.MISSING
        self.http.clear()

    async def launch_shards(self) -> None:
        # As AutoShardedBot.launch_shards, but an unreachable GET /gateway/bot is waited out. With a
        # configured gateway (a proxy), only the shard count is taken from it.
        if self.is_closed() or self._stop.is_set():
            return
        gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        if self.shard_count is None:
            found = await self._reach("reach Discord to find the gateway", self.http.get_bot_gateway)
            if found is None:
                return
            self.shard_count, url, _ = found
            if not self.config.discord.gateway_url:
                gateway = yarl.URL(url)
        self._connection.shard_count = self.shard_count
        shard_ids = self.shard_ids or range(self.shard_count)
        self._connection.shard_ids = shard_ids
        for shard_id in shard_ids:
            await self.launch_shard(gateway, shard_id, initial=shard_id == shard_ids[0])

    async def _try_sync(self, backoff: Backoff) -> bool:
        """One sync attempt; a refusal is one line saying why and when the next attempt comes."""
        try:
            await self.sync_commands()
            return True
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            reason = describe(exc)
        except Exception as exc:  # an answer discord.py could not read, say: still not fatal
            log.exception("slash-command sync failed")
            reason = type(exc).__name__
        self._next_sync = backoff.next()
        log.warning(
            "slash-command sync failed: %s; feeds keep mirroring; trying the sync again in %g s",
            reason,
            self._next_sync,
        )
        return False

    async def _sync_until_done(self, backoff: Backoff) -> None:
        while not await self._pause(self._next_sync):
            if await self._try_sync(backoff):
                return

    async def sync_commands(self) -> None:
        """Syncs slash commands to the dev guild or globally, and only when the set has changed."""
        guild_id = self.config.discord.dev_guild_id
        guild = discord.Object(guild_id) if guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        payload = [command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)]
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        key = f"commands_synced:{guild_id or 'global'}:{self.application_id}"
        if await self.store.db.get_meta(key) == digest:
            log.info("slash commands unchanged since the last sync; not syncing")
            return
        synced = await self.tree.sync(guild=guild)
        await self.store.db.set_meta(key, digest)
        log.info("synced %d slash command(s) %s", len(synced), f"to guild {guild_id}" if guild_id else "globally")

    async def close(self) -> None:
        """Stops everything promptly; safe to call more than once (a signal, then `async with`)."""
        if self._closer is None:
            self._closer = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closer)

    async def _close(self) -> None:
        # Every wait of the background loops ends at once. The follower and the command sync may
        # be cancelled at any await: a batch already being written runs to its end under the
        # store's lock (Store.chain_batch), so a stop never leaves half a batch. Delivery finishes
        # the send in hand, so Discord's answer to it is recorded.
        self._stop.set()
        self.duties.stop()
        for name in ("command sync", "coordination"):
            if name in self._tasks:
                self._tasks[name].cancel()
        self._tasks.update(self.duties.tasks)
        await self.delivery.stop()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks.values(), timeout=self.stop_grace)
            for name, task in self._tasks.items():
                if task in pending:
                    log.warning("the %s did not stop within %g s; cancelling it", name, self.stop_grace)
                    task.cancel()
            for task in self._tasks.values():
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        # Commands and listeners discord.py started may still be using the store and the HTTP
        # session, both closed after this: they get the same grace to finish, and so do the
        # listeners their end sets off (on_app_command_completion).
        grace_ends = time.monotonic() + self.stop_grace
        while handlers := _handlers_in_flight():
            left = grace_ends - time.monotonic()
            if left <= 0:
                log.warning(
                    "%d command(s) or listener(s) did not stop within %g s; cancelling them",
                    len(handlers),
                    self.stop_grace,
                )
                for handler in handlers:
                    handler.cancel()
                break
            await asyncio.wait(handlers, timeout=left)
        await super().close()

    @property
    def uptime(self) -> float:
        return time.monotonic() - self.started_at


def _handlers_in_flight() -> set[asyncio.Task[object]]:
    """The event listeners and command invocations discord.py is running now (by its task names)."""
    me = asyncio.current_task()
    return {
        task
        for task in asyncio.all_tasks()
        if task is not me and not task.done() and task.get_name().startswith(("discord.py: on_", "CommandTree-invoker"))
    }
