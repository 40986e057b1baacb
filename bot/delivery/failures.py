"""What a failed send to Discord means for its lane: refused, this message rejected, or retry."""

from __future__ import annotations

from typing import Literal

import aiohttp
import discord

from bot.process import discord_codes as codes

# What a 403/404 on a lane means, by Discord's code; any other code there is a refusal too.
REFUSALS = {
    codes.UNKNOWN_CHANNEL: "the channel no longer exists",
    codes.MISSING_ACCESS: "the bot cannot see the channel",
    codes.CANNOT_DM: "the member does not take DMs",
    codes.MISSING_PERMISSIONS: "missing permissions (the bot needs View, Send Messages, Embed Links;"
    " in a forum, Read Message History too)",
}
# The same codes in a role's lane (a role change): what the admin has to fix.
ROLE_REFUSALS = {
    codes.UNKNOWN_ROLE: "the role no longer exists",
    codes.MISSING_ACCESS: "the bot is no longer in the server",
    codes.MISSING_PERMISSIONS: "missing Manage Roles, or the role is not below the bot's highest role",
}

Outcome = Literal["refused", "rejected", "retry"]


def unserved(exc: BaseException) -> str | None:
    """The route of a 404 with no Discord error code to a read (GET), else None.

    Discord names what is missing in every 404 of a real route (10003 Unknown Channel, ...); one
    without a code (no "code" in its JSON, or no JSON) is a route this server or a proxy in front of
    it does not serve. Nothing is known missing, and nothing an admin does in Discord fixes it: a
    read there is retried with backoff like any failure, never taken as "gone" nor as a refusal.
    """
    if not isinstance(exc, discord.NotFound) or exc.code:
        return None
    response = exc.response
    method = getattr(response, "method", None)
    if method != "GET":
        return None
    url = getattr(response, "url", None)
    return f"GET {getattr(url, 'path', url)}"


def classify(exc: BaseException, *, role: bool = False) -> tuple[Outcome, str]:
    """What a failed send means for its lane.

    refused: Discord will not take anything there (403/404) until something changes; a 404 with no
    error code to a read is not one (see `unserved`).
    rejected: this one message is wrong (400 and its kin); the lane goes on.
    retry: anything else (5xx, 429, network, a response discord.py could not read, a bug): the
    lane backs off and tries again.
    """
    if isinstance(exc, discord.HTTPException):
        status, code = exc.status, exc.code
        route = unserved(exc)
        if route is not None:
            return "retry", f"Discord answered 404 with no error code to {route}: a route it does not serve"
        if status in (403, 404):
            known = ROLE_REFUSALS if role else REFUSALS
            return "refused", known.get(code, f"Discord refused access ({status} {code})")
        if 400 <= status < 500 and status not in (401, 408, 429):
            return "rejected", f"{status} {code}: {exc.text}"
        return "retry", f"Discord answered {status} {code}"
    if isinstance(exc, aiohttp.ClientError | TimeoutError | OSError):
        return "retry", f"network: {exc or type(exc).__name__}"
    return "retry", f"unexpected {type(exc).__name__}: {exc}"
