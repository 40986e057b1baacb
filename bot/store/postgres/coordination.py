"""The processes sharing one PostgreSQL: the leader elected and the lanes claimed with advisory locks.

Every lock lives on ONE dedicated connection per process. PostgreSQL frees a session's advisory locks when
the session ends, so a process killed (its socket closed) or cut off (the server's TCP keepalives give up
after 4 + 2 x 2 s) lets go of its leadership and its lanes together, and another process takes them at its
next try. The other side of that bargain: once this connection is gone, this process must stop everything
its locks covered before it claims anything again (`on_lost` listeners, then `connect`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import asyncpg

log = logging.getLogger("hivecord.coordination")

APPLICATION = "hivecord"  # how the processes are counted in pg_stat_activity: only this connection has it
# The leader's lock in the one-bigint key space ("hcleader" read as an integer: the store's migration and
# write locks are other keys there); lanes use the two-int key space, which PostgreSQL keeps apart from it.
LEADER_KEY = int.from_bytes(b"hcleader", "big")
CHECK_TIMEOUT = 5.0  # a round trip slower than this counts as the connection lost: stop, reconnect, claim again
_SERVER_SETTINGS = {
    "application_name": APPLICATION,
    # The server notices a vanished machine within 4 + 2 x 2 = 8 s and frees its locks: under the 10 s failover.
    "tcp_keepalives_idle": "4",
    "tcp_keepalives_interval": "2",
    "tcp_keepalives_count": "2",
}

_TRY_LEAD = "SELECT pg_try_advisory_lock($1::bigint)"
_CLAIM = "SELECT pg_try_advisory_lock($1::int, $2::int)"
_RELEASE = "SELECT pg_advisory_unlock($1::int, $2::int)"
_ALIVE = "SELECT 1"
_PROCESSES = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1"


def lane_keys(lane: int) -> tuple[int, int]:
    """A lane id (any signed 64-bit integer) as the two signed 32-bit halves of the two-int key space."""
    high = lane >> 32
    low = ((lane & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000
    return high, low


class PgCoordination:
    """Leadership and lane claims held by one asyncpg connection; see the module's docstring."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._conn: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()  # one statement at a time on the one connection
        self._leading = False
        self._lanes: set[int] = set()
        self._listeners: list[Callable[[], None]] = []

    @property
    def connected(self) -> bool:
        return self._conn is not None

    @property
    def leading(self) -> bool:
        return self._leading

    def on_lost(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    async def connect(self) -> None:
        async with self._lock:
            await self._drop()
            conn = await asyncpg.connect(self._dsn, server_settings=_SERVER_SETTINGS, timeout=CHECK_TIMEOUT)
            conn.add_termination_listener(self._terminated)
            self._conn = conn

    def _terminated(self, conn: Any) -> None:
        if conn is self._conn:
            self._lost("the connection holding the locks closed")

    def _lost(self, why: str) -> None:
        """Every claim is gone with the connection: forget them and tell the listeners at once."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        was_leading, lanes = self._leading, len(self._lanes)
        self._leading = False
        self._lanes.clear()
        log.warning("%s: leadership%s and %d lane claim(s) lost", why, "" if was_leading else " (none)", lanes)
        if not conn.is_closed():
            conn.terminate()
        for listener in self._listeners:
            listener()

    async def _fetchval(self, sql: str, *args: object) -> Any:
        """One statement on the connection, or None when it is lost (then the claims are dropped)."""
        async with self._lock:
            conn = self._conn
            if conn is None:
                return None
            try:
                return await asyncio.wait_for(conn.fetchval(sql, *args), CHECK_TIMEOUT)
            except Exception as exc:  # a session ended under asyncpg fails in many ways: the claims are unknown
                if conn is self._conn:
                    self._lost(f"the coordination connection failed ({type(exc).__name__}: {exc})")
                return None

    async def try_lead(self) -> bool:
        if self._leading:
            return await self.alive()
        if await self._fetchval(_TRY_LEAD, LEADER_KEY):
            self._leading = True
            log.info("this process now leads: it follows the chain and plans delivery")
        return self._leading

    async def alive(self) -> bool:
        return bool(await self._fetchval(_ALIVE) == 1)

    async def claim_lane(self, lane: int) -> bool:
        if lane in self._lanes:
            return True
        if await self._fetchval(_CLAIM, *lane_keys(lane)):
            self._lanes.add(lane)
            return True
        return False

    async def release_lane(self, lane: int) -> None:
        if lane in self._lanes:
            self._lanes.discard(lane)
            await self._fetchval(_RELEASE, *lane_keys(lane))

    async def live_processes(self) -> int:
        found = await self._fetchval(_PROCESSES, APPLICATION)
        return max(1, int(found or 0))

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        self._leading = False
        self._lanes.clear()
        if conn is not None and not conn.is_closed():
            try:
                await asyncio.wait_for(conn.close(), CHECK_TIMEOUT)
            except Exception:  # going anyway: the server frees its locks when the socket closes
                conn.terminate()

    async def close(self) -> None:
        """Lets go of every claim (closing the session frees its locks on the server)."""
        async with self._lock:
            await self._drop()
