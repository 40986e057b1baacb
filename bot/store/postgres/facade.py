"""The store's SQLite-shaped calls on asyncpg: `?`/`:name` placeholders, SQLite's lenient types, rowcount."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg

T = TypeVar("T")

_NAMED = re.compile(r"(?<!:):([A-Za-z_][A-Za-z0-9_]*)")
_COUNT = re.compile(r"(\d+)$")
_INTS = frozenset({"int2", "int4", "int8", "oid"})
_FLOATS = frozenset({"float4", "float8", "numeric"})
_TEXTS = frozenset({"text", "varchar", "bpchar", "name"})


@dataclass(frozen=True)
class Statement:
    """One store SQL text in PostgreSQL's form, the types its parameters take, the names in order."""

    sql: str
    names: tuple[str, ...]  # for `:name` parameters, the name of $1, $2, ...
    types: tuple[str, ...]
    returns_rows: bool


def placeholders(sql: str, named: bool) -> tuple[str, tuple[str, ...]]:
    """`sql` with its `?` (or `:name`) parameters numbered `$1..$n`; string literals are left alone."""
    out: list[str] = []
    names: list[str] = []
    count = 0
    for i, part in enumerate(sql.split("'")):
        if i % 2:  # inside a quoted literal ('' escapes split into two empty-looking halves: harmless)
            out.append(part)
            continue
        if named:

            def number(match: re.Match[str]) -> str:
                name = match.group(1)
                if name not in names:
                    names.append(name)
                return f"${names.index(name) + 1}"

            out.append(_NAMED.sub(number, part))
        else:
            pieces = part.split("?")
            numbered = [pieces[0]]
            for piece in pieces[1:]:
                count += 1
                numbered.append(f"${count}{piece}")
            out.append("".join(numbered))
    return "'".join(out), tuple(names)


def coerce(value: Any, kind: str) -> Any:
    """A parameter as the column's type wants it: SQLite stores what it is given; asyncpg refuses
    an int for text or a numeric string for a bigint, so the store's one SQL text needs this."""
    if value is None:
        return None
    if kind in _TEXTS:
        text = value if isinstance(value, str) else str(value)
        # PostgreSQL's text cannot hold NUL, which SQLite keeps: a post carrying one must not stop the
        # follower's batch (it would be read again forever). Nothing a member reads is lost with it.
        return text.replace("\x00", "") if "\x00" in text else text
    if kind in _INTS:
        if isinstance(value, bool):
            return int(value)
        return value if isinstance(value, int) else int(value)
    if kind in _FLOATS:
        return float(value) if not isinstance(value, float) else value
    if kind == "bool":
        return bool(value)
    return value


def status_count(status: str) -> int:
    """Rows a command touched, from its status (`UPDATE 3`, `INSERT 0 1`, `DELETE 0`)."""
    found = _COUNT.search(status or "")
    return int(found.group(1)) if found else 0


class Cursor:
    """Rows already fetched, handed out as aiosqlite's cursor would."""

    def __init__(self, rows: Sequence[Any], rowcount: int) -> None:
        self._rows = list(rows)
        self._at = 0
        self.rowcount = rowcount
        self.row_factory: object = ...  # set to None by a caller that wants plain tuples

    def _take(self, n: int | None) -> list[Any]:
        end = len(self._rows) if n is None else self._at + n
        taken = self._rows[self._at : end]
        self._at += len(taken)
        if self.row_factory is None:
            return [tuple(r) for r in taken]
        return taken

    async def fetchone(self) -> Any:
        taken = self._take(1)
        return taken[0] if taken else None

    async def fetchall(self) -> list[Any]:
        return self._take(None)

    async def fetchmany(self, size: int) -> list[Any]:
        return self._take(size)

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None


class Pending:
    """What `execute` returns: awaited or entered, it runs once and gives the cursor."""

    def __init__(self, run: Callable[[], Awaitable[Cursor]]) -> None:
        self._run = run

    def __await__(self) -> Generator[Any, None, Cursor]:
        return self._run().__await__()

    async def __aenter__(self) -> Cursor:
        return await self._run()

    async def __aexit__(self, *_: object) -> None:
        return None


class Statements:
    """Each SQL text translated and described once per process (the schema is the same for all)."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, bool], Statement] = {}

    async def get(self, conn: asyncpg.Connection, sql: str, named: bool) -> Statement:
        key = (sql, named)
        known = self._known.get(key)
        if known is None:
            text, names = placeholders(sql, named)
            prepared = await conn.prepare(text)
            known = Statement(
                text,
                names,
                tuple(p.name for p in prepared.get_parameters()),
                bool(prepared.get_attributes()),
            )
            self._known[key] = known
        return known


def arguments(statement: Statement, parameters: Any) -> list[Any]:
    if isinstance(parameters, Mapping):
        values = [parameters[name] for name in statement.names]
    else:
        values = list(parameters or ())
    if len(values) != len(statement.types):
        raise ValueError(f"{len(values)} parameter(s) given for {len(statement.types)}: {statement.sql[:80]}")
    return [coerce(v, t) for v, t in zip(values, statement.types, strict=True)]


class PgConn:
    """One asyncpg connection with the store's calls (bot/store/engine.Conn)."""

    def __init__(self, raw: asyncpg.Connection, statements: Statements) -> None:
        self.raw = raw
        self._statements = statements

    async def _run(self, sql: str, parameters: Any) -> Cursor:
        statement = await self._statements.get(self.raw, sql, isinstance(parameters, Mapping))
        args = arguments(statement, parameters)
        if statement.returns_rows:
            rows = await self.raw.fetch(statement.sql, *args)
            return Cursor(rows, len(rows))
        status = await self.raw.execute(statement.sql, *args)
        return Cursor([], status_count(status))

    def execute(self, sql: str, parameters: Any = (), /) -> Pending:
        return Pending(lambda: self._run(sql, parameters))

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]], /) -> None:
        rows = [list(p) for p in parameters]
        if not rows:
            return
        statement = await self._statements.get(self.raw, sql, False)
        await self.raw.executemany(statement.sql, [arguments(statement, r) for r in rows])

    async def execute_fetchall(self, sql: str, parameters: Any = (), /) -> list[Any]:
        return await (await self._run(sql, parameters)).fetchall()


class PgReader:
    """The store's reader on PostgreSQL: each read borrows a pool connection for its one statement."""

    def __init__(self, pool: asyncpg.Pool, statements: Statements) -> None:
        self._pool = pool
        self._statements = statements

    async def _run(self, sql: str, parameters: Any) -> Cursor:
        async with self._pool.acquire() as raw:
            return await PgConn(raw, self._statements)._run(sql, parameters)

    def execute(self, sql: str, parameters: Any = (), /) -> Pending:
        return Pending(lambda: self._run(sql, parameters))

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]], /) -> None:
        raise RuntimeError("the reader does not write")

    async def execute_fetchall(self, sql: str, parameters: Any = (), /) -> list[Any]:
        return await (await self._run(sql, parameters)).fetchall()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pool connection for an engine-specific read (search)."""
        async with self._pool.acquire() as raw:
            yield raw


class SyncCursor:
    def __init__(self, rows: Sequence[Any], rowcount: int) -> None:
        self._rows = list(rows)
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class SyncPgConn:
    """The chain writer's synchronous calls (bot/store/engine.SyncConn), run from the batch's worker
    thread on the event loop's connection: the writer keeps one text for both engines, and each
    statement is a round trip to the server anyway."""

    def __init__(self, conn: PgConn, loop: asyncio.AbstractEventLoop) -> None:
        self._conn = conn
        self._loop = loop

    def _wait(self, work: Awaitable[T]) -> T:
        async def run() -> T:
            return await work

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result()

    def execute(self, sql: str, parameters: Any = (), /) -> SyncCursor:
        cursor = self._wait(self._conn._run(sql, parameters))
        return SyncCursor(cursor._rows, cursor.rowcount)

    def executemany(self, sql: str, parameters: Iterable[Iterable[Any]], /) -> None:
        self._wait(self._conn.executemany(sql, parameters))
