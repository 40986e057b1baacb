"""`hivecord run`: the token, the Discord endpoints, signals, and one clear line when it cannot start."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time

import discord
import yarl

from bot.app import Hivecord
from bot.config import TOKEN_ENV, Config
from bot.hive.client import HiveClient
from bot.store.store import Store

log = logging.getLogger("hivecord")


def point_at(api_base: str | None, gateway_url: str | None) -> None:
    """Sends REST and the gateway elsewhere: a rate-limit proxy in production, a fake in tests."""
    if api_base:
        discord.http.Route.BASE = api_base.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


async def _main(config: Config, token: str) -> int:
    store = await Store.open(config.database.path)
    stopping: list[float] = []
    try:
        communities = set(config.hive.communities) | await store.feeds.followed_communities()
        async with HiveClient(
            config.hive.nodes, timeout=config.hive.request_timeout, max_head_lag=config.hive.max_head_lag
        ) as hive:
            bot = Hivecord(config, store, hive, communities)
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, _shutdown, bot, sig, stopping)
            async with bot:
                await bot.start(token)
    finally:
        # Waits for a batch of blocks still being written, so the file holds whole batches only.
        await store.close()
    if stopping:
        log.info("stopped %.1f s after the signal", time.monotonic() - stopping[0])
    else:
        log.info("stopped")
    return 0


def _shutdown(bot: Hivecord, sig: signal.Signals, stopping: list[float]) -> None:
    if not stopping:
        stopping.append(time.monotonic())
    log.info("%s received: shutting down", sig.name)
    task = asyncio.get_running_loop().create_task(bot.close())
    _background.add(task)
    task.add_done_callback(_background.discard)


# Tasks started from signal handlers, kept referenced until they end (the loop holds only weak ones).
_background: set[asyncio.Task[None]] = set()


def run_bot(config: Config) -> int:
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        print(f"hivecord: {TOKEN_ENV} is not set; export your bot's token in it and run again.", file=sys.stderr)
        return 2
    point_at(config.discord.api_base, config.discord.gateway_url)
    try:
        return asyncio.run(_main(config, token))
    except discord.LoginFailure:
        print(
            f"hivecord: Discord rejected the token in {TOKEN_ENV}; copy it again from the Developer Portal.",
            file=sys.stderr,
        )
        return 2
    except discord.PrivilegedIntentsRequired:
        print("hivecord: Discord refused the gateway intents; hivecord asks only for guilds.", file=sys.stderr)
        return 2
