"""The Bot subclass: opens nothing itself, only wires the store, the follower and delivery to Discord."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time

import discord
from discord.ext import commands

from bot.config import Config
from bot.delivery.worker import DeliveryWorker
from bot.errors import on_tree_error
from bot.hive.client import HiveClient
from bot.hive.follower import Follower, Progress
from bot.search import SeriesCatalog
from bot.store.store import Store

log = logging.getLogger("hivecord")

EXTENSIONS = ("cogs.feeds", "cogs.status", "cogs.subscriptions", "cogs.search", "cogs.lanes")


def intents() -> discord.Intents:
    # Slash commands and posting need guilds only; nothing privileged.
    wanted = discord.Intents.none()
    wanted.guilds = True
    return wanted


class Hivecord(commands.AutoShardedBot):
    def __init__(self, config: Config, store: Store, hive: HiveClient, communities: set[str]) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.config = config
        self.store = store
        self.hive = hive
        self.started_at = time.monotonic()
        self.follower = Follower(
            hive,
            store,
            communities,
            batch_size=config.hive.batch_size,
            poll_interval=config.hive.poll_interval,
            start_block=config.hive.start_block,
            on_progress=self._on_blocks,
        )
        self.delivery = DeliveryWorker(
            self,
            store,
            max_per_second=config.delivery.max_messages_per_second,
            requests_per_second=config.delivery.requests_per_second,
            digest_minutes=config.delivery.vote_digest_minutes,
            stats_refresh_minutes=config.delivery.stats_refresh_minutes,
            retention_days=config.delivery.retention_days,
        )
        # Series names change slowly and autocomplete asks on every keystroke: one cache for all cogs.
        self.series = SeriesCatalog(store)
        self._tasks: list[asyncio.Task[None]] = []

    def _on_blocks(self, _progress: Progress) -> None:
        self.delivery.wake()

    async def setup_hook(self) -> None:
        self.tree.on_error = on_tree_error  # type: ignore[method-assign]
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self.sync_commands()
        self._tasks = [
            asyncio.create_task(self._supervise("follower", self.follower.run)),
            asyncio.create_task(self._supervise("delivery", self.delivery.run)),
        ]

    async def _supervise(self, name: str, run: object) -> None:
        """Keeps a background loop alive: a bug in one pass is logged, and the loop starts again."""
        assert callable(run)
        while not self.is_closed():
            try:
                await run()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the %s stopped on an error; restarting it in 5 s", name)
                await asyncio.sleep(5)

    async def launch_shards(self) -> None:
        # AutoShardedBot takes the gateway URL from GET /gateway/bot unless the shard count is known;
        # with a configured gateway (a proxy), learn the count and let DEFAULT_GATEWAY stand.
        if self.config.discord.gateway_url and self.shard_count is None:
            self.shard_count, _, _ = await self.http.get_bot_gateway()
        await super().launch_shards()

    async def sync_commands(self) -> None:
        """Syncs slash commands to the dev guild or globally, and only when the set has changed."""
        guild_id = self.config.discord.dev_guild_id
        guild = discord.Object(guild_id) if guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        payload = [command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)]
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        key = f"commands_synced:{guild_id or 'global'}:{self.application_id}"
        if await self.store.get_meta(key) == digest:
            log.info("slash commands unchanged since the last sync; not syncing")
            return
        synced = await self.tree.sync(guild=guild)
        await self.store.set_meta(key, digest)
        log.info("synced %d slash command(s) %s", len(synced), f"to guild {guild_id}" if guild_id else "globally")

    async def close(self) -> None:
        """Stops the chain after the batch in hand and delivery after the send in hand, then Discord."""
        self.follower.stop()
        await self.delivery.stop()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=10)
            for task in pending:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await super().close()

    @property
    def uptime(self) -> float:
        return time.monotonic() - self.started_at
