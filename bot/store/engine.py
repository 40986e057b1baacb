"""What store modules may call on a connection, whichever engine (SQLite or PostgreSQL) is under it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

PG_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(location: object) -> bool:
    """Whether a database location names PostgreSQL (else it is a SQLite file's path)."""
    return isinstance(location, str) and location.startswith(PG_SCHEMES)


class Row(Protocol):
    """A row read by column name or position (sqlite3.Row, asyncpg.Record)."""

    def __getitem__(self, key: Any, /) -> Any: ...

    def keys(self) -> Any: ...


class Conn(Protocol):
    """An async connection inside a transaction, or the reader: aiosqlite's calls the store uses.

    `execute` returns what is both awaited (`cur = await conn.execute(...)`) and entered (`async
    with conn.execute(...) as cur`); the cursor has `fetchone`, `fetchall`, `fetchmany`, `rowcount`.
    Parameters are `?` in order, or `:name` with a mapping. An insert's new id comes from
    `RETURNING id`, never `lastrowid` (PostgreSQL has none)."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]], /) -> Any: ...

    async def execute_fetchall(self, sql: str, parameters: Any = ..., /) -> Iterable[Any]: ...


class SyncCursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class SyncConn(Protocol):
    """The follower's batch connection (sqlite3's calls the chain writer uses), run in a worker thread."""

    def execute(self, sql: str, parameters: Any = ..., /) -> SyncCursor: ...

    def executemany(self, sql: str, parameters: Any, /) -> Any: ...


class Db(Protocol):
    """The database handle store modules share: bot/store/db.Database (SQLite) or
    bot/store/postgres/database.PgDatabase."""

    engine: str  # "sqlite" or "postgresql"

    @property
    def reader(self) -> Conn: ...

    def write(self) -> AbstractAsyncContextManager[Conn]: ...

    async def batch(self, work: Callable[[SyncConn], T], /) -> T: ...

    async def get_meta(self, key: str, /) -> str | None: ...

    async def set_meta(self, key: str, value: str, /) -> None: ...

    async def cursor(self) -> int | None: ...

    async def close(self) -> None: ...
