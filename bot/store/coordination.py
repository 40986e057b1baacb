"""How the processes sharing one database divide the work: one leader follows the chain, one sender per lane.

On SQLite there is one process (`SingleProcess`): it always leads and every lane is its own. On PostgreSQL
(`bot.store.postgres.coordination.PgCoordination`) the processes elect the leader and claim lanes with
advisory locks held by one connection each, so a process that dies lets go of all of them at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bot.store.engine import is_postgres_url


class Coordination(Protocol):
    """The processes' agreement on who does what; every claim lasts until released or the process is gone."""

    @property
    def connected(self) -> bool:
        """Whether the claims this process made still hold (False once the connection holding them dropped)."""
        ...

    @property
    def leading(self) -> bool: ...

    async def connect(self) -> None:
        """(Re)opens what the claims are held on; call only once nothing acts on the old claims any more."""
        ...

    async def try_lead(self) -> bool:
        """Becomes the leader if no other process is; True while this process leads."""
        ...

    async def alive(self) -> bool:
        """Checks the claims still hold (a round trip on PostgreSQL); False once they are lost."""
        ...

    async def claim_lane(self, lane: int) -> bool:
        """Takes the lane for this process's sender; False when another process holds it."""
        ...

    async def release_lane(self, lane: int) -> None: ...

    async def live_processes(self) -> int:
        """How many processes share the database now (at least 1: this one)."""
        ...

    def on_lost(self, listener: Callable[[], None]) -> None:
        """`listener` is called at once when every claim is lost, to stop the work they covered."""
        ...

    async def close(self) -> None: ...


class SingleProcess:
    """SQLite's one process: always the leader, every lane its own, nothing ever lost."""

    connected = True
    leading = True

    async def connect(self) -> None:
        return None

    async def try_lead(self) -> bool:
        return True

    async def alive(self) -> bool:
        return True

    async def claim_lane(self, lane: int) -> bool:
        return True

    async def release_lane(self, lane: int) -> None:
        return None

    async def live_processes(self) -> int:
        return 1

    def on_lost(self, listener: Callable[[], None]) -> None:
        return None

    async def close(self) -> None:
        return None


def coordination_for(database: object) -> Coordination:
    """Several processes coordinate on PostgreSQL; a SQLite file has one process, which does everything."""
    if is_postgres_url(database):
        from bot.store.postgres.coordination import PgCoordination  # asyncpg's engine only

        return PgCoordination(str(database))
    return SingleProcess()
