"""Pointing the real discord.py client at another Discord (the fake, or a proxy)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route


@contextmanager
def point_discord_py_at(url: str) -> Iterator[None]:
    """Send discord.py's REST to `{url}/api/v10` and its gateway to `ws(s)://host:port/`.

    discord.py 2.7 builds every REST URL from the class attribute `Route.BASE` (webhooks and
    interaction answers included) and connects a plain Client to `DiscordWebSocket.DEFAULT_GATEWAY`
    without asking `GET /gateway`; after READY it resumes at the READY's `resume_gateway_url`.
    Both attributes are restored on exit.
    """
    base = url.rstrip("/")
    gateway = yarl.URL(base).with_scheme("wss" if base.startswith("https") else "ws").with_path("/")
    saved = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = f"{base}/api/v10"
    DiscordWebSocket.DEFAULT_GATEWAY = gateway
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved
