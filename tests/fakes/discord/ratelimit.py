"""Rate limits as Discord applies them: a global sliding window and per-route buckets."""

from __future__ import annotations

import hashlib
import math
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

# (limit, period in seconds) per route template, close to what Discord answers today.
# Opt in with FakeDiscord(route_limits=DISCORD_LIKE_ROUTE_LIMITS): discord.py then really waits.
DISCORD_LIKE_ROUTE_LIMITS: dict[str, tuple[int, float]] = {
    "POST /channels/{channel_id}/messages": (5, 5.0),
    "PATCH /channels/{channel_id}/messages/{message_id}": (5, 5.0),
    "DELETE /channels/{channel_id}/messages/{message_id}": (5, 1.0),
    "PUT /applications/{application_id}/commands": (2, 60.0),
    "PUT /applications/{application_id}/guilds/{guild_id}/commands": (2, 60.0),
    "POST /users/@me/channels": (5, 5.0),
}

# Generous by default so tests never wait on a bucket unless they ask to.
DEFAULT_ROUTE_LIMIT = (50, 1.0)

# Starting a thread or a forum post shares one bucket per parent channel, whichever route is used;
# tighter than the others, as on Discord. Tests shrink it with FakeDiscord(thread_create_limit=...).
THREAD_CREATE_ROUTES = frozenset(
    {"POST /channels/{channel_id}/threads", "POST /channels/{channel_id}/messages/{message_id}/threads"}
)
DEFAULT_THREAD_CREATE_LIMIT = (10, 10.0)

MAJOR_PARAMETERS = ("channel_id", "guild_id", "webhook_id", "webhook_token", "interaction_id", "interaction_token")


class GlobalLimiter:
    """At most `limit` requests in any 1 s window (a sliding log, so bursts are judged exactly)."""

    def __init__(self, limit: int, window: float = 1.0) -> None:
        self.limit = limit
        self.window = window
        self._times: deque[float] = deque()

    def try_acquire(self) -> float | None:
        """None if the request may pass, else the seconds until it could."""
        now = time.monotonic()
        while self._times and now - self._times[0] >= self.window:
            self._times.popleft()
        if len(self._times) >= self.limit:
            return max(self._times[0] + self.window - now, 0.001)
        self._times.append(now)
        return None


@dataclass
class Bucket:
    limit: int
    period: float
    hash: str
    remaining: int = 0
    reset_at: float = 0.0  # wall clock, as X-RateLimit-Reset is

    def take(self) -> bool:
        now = time.time()
        if now >= self.reset_at:
            self.remaining = self.limit
            self.reset_at = now + self.period
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        return True

    def headers(self) -> dict[str, str]:
        reset_after = max(self.reset_at - time.time(), 0.0)
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": f"{self.reset_at:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": self.hash,
        }


class RouteBuckets:
    """One bucket per route template and major parameters, like Discord's."""

    def __init__(
        self,
        limits: Mapping[str, tuple[int, float]] | None = None,
        default: tuple[int, float] = DEFAULT_ROUTE_LIMIT,
        thread_create: tuple[int, float] = DEFAULT_THREAD_CREATE_LIMIT,
    ) -> None:
        self.limits = dict(limits or {})
        self.default = default
        self.thread_create = thread_create
        self._buckets: dict[str, Bucket] = {}

    def bucket(self, method: str, template: str, params: Mapping[str, str]) -> Bucket:
        route = f"{method} {template}"
        major = "+".join(params[p] for p in MAJOR_PARAMETERS if p in params)
        if route in THREAD_CREATE_ROUTES:
            route = "thread-create"
        key = f"{route}:{major}"
        if key not in self._buckets:
            limit, period = self.thread_create if route == "thread-create" else self.limits.get(route, self.default)
            digest = hashlib.sha1(route.encode(), usedforsecurity=False).hexdigest()[:16]
            self._buckets[key] = Bucket(limit=limit, period=period, hash=digest)
        return self._buckets[key]


def rate_limited_headers(retry_after: float, *, is_global: bool, bucket: Bucket | None, via: bool) -> dict[str, str]:
    """Headers of a 429. Without `Via`, discord.py takes the 429 for a Cloudflare ban and gives up."""
    headers = {"Retry-After": str(math.ceil(retry_after)), "X-RateLimit-Scope": "global" if is_global else "user"}
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    elif bucket is not None:
        headers.update(bucket.headers())
        headers["X-RateLimit-Remaining"] = "0"
        headers["X-RateLimit-Reset-After"] = f"{retry_after:.3f}"
    if via:
        headers["Via"] = "1.1 google"
    return headers
