"""Waiting out an unreachable Discord: what is worth waiting out, and one readable reason per failure."""

from __future__ import annotations

import re

import aiohttp
import discord

from bot.process import discord_codes as codes

# What a long path segment (an interaction or webhook token) is shown as in a log line.
_SECRET_SEGMENT = re.compile(r"/[A-Za-z0-9_.-]{40,}")

# Discord error codes a reader of the log should not have to look up.
_CODE_HINTS = {
    codes.UNKNOWN_CHANNEL: "the channel no longer exists",
    codes.UNKNOWN_MESSAGE: "the message no longer exists",
    codes.UNKNOWN_INTERACTION: "the interaction expired before it was answered",
    codes.ALREADY_ACKNOWLEDGED: "the interaction was already answered",
    codes.MISSING_ACCESS: "the bot cannot see it, or lacks the applications.commands scope there",
    codes.CANNOT_DM: "the member does not take DMs",
    codes.MISSING_PERMISSIONS: "the bot lacks a permission there",
}


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
