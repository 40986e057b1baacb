"""A 2xx answer whose body discord.py cannot read: Discord did what was asked, only its answer is lost.

Sending again would not help. An edit is applied already; a send carried its job's nonce, so a resend
would get the same unreadable answer back (or, past the nonce window, post a copy). Every message
hivecord sends or edits goes through `readable`, which counts such an answer done, with one log line.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import discord

log = logging.getLogger("hivecord.delivery")

M = TypeVar("M")


@dataclass(frozen=True, slots=True)
class Answer:
    """What discord.py's HTTP client returned for a 2xx: the route and the body, before any parsing."""

    route: str
    data: Any


# The last 2xx answer in this task: awaiting a coroutine keeps the task's context, so the send or
# edit that made the request sees it afterwards, and no other task does.
_last: ContextVar[Answer | None] = ContextVar("hivecord_last_2xx", default=None)


def record_answers(http: discord.http.HTTPClient) -> None:
    """Makes every request through `http` remember its 2xx answer for the task that made it."""
    request = http.request

    async def remembered(route: discord.http.Route, **kwargs: Any) -> Any:
        data = await request(route, **kwargs)  # raises on anything but a 2xx
        _last.set(Answer(f"{route.method} {route.url.removeprefix(discord.http.Route.BASE)}", data))
        return data

    http.request = remembered  # type: ignore[method-assign]


@dataclass(frozen=True, slots=True)
class Unread:
    """Stands in for the message of a 2xx answer discord.py could not read; its id when the body had one."""

    id: int | None


async def readable(call: Awaitable[M]) -> M | Unread:
    """Awaits a send (with a nonce) or an edit; a 2xx whose body discord.py raised on is counted done."""
    token = _last.set(None)
    try:
        return await call
    except (discord.HTTPException, aiohttp.ClientError, TimeoutError, OSError):
        raise  # Discord's refusal, or no answer at all: the lane decides
    except Exception as exc:
        answer = _last.get()
        if answer is None:
            raise  # no 2xx came back: not an answer we failed to read
        log.warning(
            "Discord answered %s, but discord.py could not read the answer (%s: %s); counted done, not sent again",
            answer.route,
            type(exc).__name__,
            str(exc)[:200],
        )
        return Unread(_message_id(answer.data))
    finally:
        _last.reset(token)


def _message_id(data: Any) -> int | None:
    try:
        return int(data["id"])
    except (TypeError, KeyError, ValueError):
        return None
