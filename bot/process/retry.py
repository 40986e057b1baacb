"""Waiting out an unreachable Discord: capped backoff, and one readable reason per failure."""

from __future__ import annotations

import re

import aiohttp
import discord

# What a long path segment (an interaction or webhook token) is shown as in a log line.
_SECRET_SEGMENT = re.compile(r"/[A-Za-z0-9_.-]{40,}")

# Discord error codes a reader of the log should not have to look up.
_CODE_HINTS = {
    10003: "the channel no longer exists",
    10008: "the message no longer exists",
    10062: "the interaction expired before it was answered",
    40060: "the interaction was already answered",
    50001: "the bot cannot see it, or lacks the applications.commands scope there",
    50007: "the member does not take DMs",
    50013: "the bot lacks a permission there",
}


class Backoff:
    """Waits that double from `first` up to `cap` seconds: bounded, and never a tight loop."""

    def __init__(self, cap: float, first: float = 1.0) -> None:
        self.cap = cap
        self.first = min(first, cap)
        self.failures = 0

    def next(self) -> float:
        delay = min(self.cap, self.first * 2.0 ** min(self.failures, 30))
        self.failures += 1
        return delay


def unreachable(exc: BaseException) -> bool:
    """A failure worth waiting out: the network, or Discord (or a proxy) having a bad moment."""
    if isinstance(exc, discord.GatewayNotFound | aiohttp.ClientError | OSError | TimeoutError):
        return True
    # 429 without Discord's `Via` header is a Cloudflare ban; it ends by itself too.
    return isinstance(exc, discord.HTTPException) and (exc.status >= 500 or exc.status == 429)


def describe(exc: BaseException) -> str:
    """One line: Discord's status, code and message for a refusal, else what the network said."""
    if isinstance(exc, discord.HTTPException):
        response = exc.response
        where = ""
        method = getattr(response, "method", None)
        url = getattr(response, "url", None)
        if method and url is not None:
            where = f" to {method} {_SECRET_SEGMENT.sub('/…', str(getattr(url, 'path', url)))}"
        text = f"HTTP {exc.status}{where}, Discord code {exc.code}"
        if exc.text:
            text += f": {exc.text[:200]}"
        hint = _CODE_HINTS.get(exc.code)
        return f"{text} ({hint})" if hint else text
    if isinstance(exc, discord.GatewayNotFound):
        cause = exc.__cause__
        return f"the gateway address was refused ({describe(cause)})" if cause else "the gateway address was refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return (str(exc) or type(exc).__name__)[:300]
