"""`hivecord run`: the token, the Discord endpoints, signals, and one clear line when it cannot start."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from typing import Protocol

import discord
import yarl

from bot.app import Hivecord
from bot.config.load import TOKEN_ENV, Config
from bot.hive.client import HiveClient
from bot.hive.posting_key import read_posting_keys
from bot.process.shards import Shards
from bot.store.coordination import coordination_for
from bot.store.store import Store

log = logging.getLogger("hivecord")


def point_at(api_base: str | None, gateway_url: str | None) -> None:
    """Sends REST and the gateway elsewhere: a rate-limit proxy in production, a fake in tests."""
    if api_base:
        discord.http.Route.BASE = api_base.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


async def _main(config: Config, token: str, shards: Shards) -> int:
    store = await Store.open(config.database.target.location)
    coordination = coordination_for(config.database.target.location)
    stopping: list[float] = []
    try:
        communities = set(config.hive.communities) | await store.feeds.followed_communities()
        async with HiveClient.from_config(config.hive) as hive:
            # Posting keys come from the environment only, and live in this process's memory only.
            # The bridge account's key is read by the same rules as the curation accounts'.
            accounts = {**config.curation.accounts, "[bridge]": config.bridge.account}
            keys, problems = read_posting_keys(accounts, os.environ)
            for problem in problems:
                log.error("posting key: %s; the bot does not sign for that account", problem)
            bot = Hivecord(
                config, store, hive, communities, posting_keys=keys, coordination=coordination, shards=shards
            )
            async with bot:
                started = asyncio.ensure_future(bot.start(token))
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, _shutdown, bot, started, sig, stopping)
                try:
                    await started
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if not stopping or (current is not None and current.cancelling()):
                        raise  # not the stop's own cancel of a start still waiting (below)
    finally:
        await coordination.close()  # after delivery stopped: its lanes and the lead go to another process
        # Waits for a batch of blocks still being written, so the file holds whole batches only.
        await store.close()
    if stopping:
        log.info("stopped %.1f s after the signal", time.monotonic() - stopping[0])
    else:
        log.info("stopped")
    return 0


def _shutdown(bot: Hivecord, started: asyncio.Future[None], sig: signal.Signals, stopping: list[float]) -> None:
    if not stopping:
        stopping.append(time.monotonic())
    log.info("%s received: shutting down", sig.name)
    task = asyncio.get_running_loop().create_task(stop(bot, started))
    _background.add(task)
    task.add_done_callback(_background.discard)


class Closable(Protocol):
    stop_grace: float

    async def close(self) -> None: ...


async def stop(bot: Closable, started: asyncio.Future[None]) -> None:
    """Closes the bot, then ends its start() if that is still waiting after the grace.

    discord.py's start() returns once its shards see the close, but a shard waiting out its
    reconnect backoff (Discord unreachable mid-run: up to 17 minutes) sees it only when that wait
    ends; by then a container's stop has long since turned into a SIGKILL."""
    await bot.close()
    await asyncio.wait([started], timeout=bot.stop_grace)
    if not started.done():
        log.info("the gateway was still waiting to reconnect; stopping without it")
        started.cancel()


# Tasks started from signal handlers, kept referenced until they end (the loop holds only weak ones).
_background: set[asyncio.Task[None]] = set()


def run_bot(config: Config, shards: Shards | None = None) -> int:
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        print(f"hivecord: {TOKEN_ENV} is not set; export your bot's token in it and run again.", file=sys.stderr)
        return 2
    point_at(config.discord.api_base, config.discord.gateway_url)
    try:
        return asyncio.run(_main(config, token, shards or Shards()))
    except discord.LoginFailure:
        print(
            f"hivecord: Discord rejected the token in {TOKEN_ENV}; copy it again from the Developer Portal.",
            file=sys.stderr,
        )
        return 2
    except discord.PrivilegedIntentsRequired:
        print("hivecord: Discord refused the gateway intents; hivecord asks only for guilds.", file=sys.stderr)
        return 2
