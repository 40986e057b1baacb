"""The record of what the bot did, and waiting on it without blind sleeps."""

# Waiting helpers take `timeout=` on purpose: tests read `await handle.response(timeout=5)`.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .validate import FieldError

T = TypeVar("T")

# Request headers worth asserting on; the rest is noise.
KEPT_HEADERS = ("Authorization", "Content-Type", "User-Agent", "X-Audit-Log-Reason")


@dataclass
class RecordedRequest:
    method: str
    path: str  # without the /api/v10 prefix
    route: str | None  # the spec's path template, None when no template matches
    json: Any  # the JSON body, or the parsed payload_json of a multipart body
    headers: dict[str, str]
    status: int
    query: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    answer: Any = None
    # Which bot process sent it, when each is given its own base URL (`FakeDiscord.api_base_for`).
    caller: str = ""

    @property
    def key(self) -> str:
        """'METHOD template', the same form discord.py uses for its route keys."""
        return f"{self.method} {self.route or self.path}"


@dataclass
class Violation:
    """A request Discord would have refused with 400 (schema, limits, or misuse)."""

    method: str
    path: str
    route: str | None
    errors: list[FieldError]
    body: Any

    def __str__(self) -> str:
        return f"{self.method} {self.path}: " + "; ".join(e.describe() for e in self.errors)


POLL_INTERVAL = 0.02


class Notifier:
    """Wakes every waiter whenever the fake records something.

    Waiters also re-check every POLL_INTERVAL, so a predicate may look at the bot's own state too.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float, describe: Callable[[], str]) -> T:
        async def poll() -> T:
            while True:
                event = self._event
                result = predicate()
                if result:
                    return result
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), POLL_INTERVAL)

        try:
            return await asyncio.wait_for(poll(), timeout)
        except TimeoutError:
            raise TimeoutError(f"condition not met within {timeout}s; {describe()}") from None
