"""`hivecord migrate --to postgresql://...`: a stopped SQLite deployment copied whole into an empty PostgreSQL.

The tables come from the two schemas themselves, never from a list kept by hand: a table a later
migration adds is copied without anyone remembering it, and a table on one side only stops the copy
unless it is named below as left out on purpose. The copy is one transaction on the target (schema
included), so a failure at any point leaves the target as it was.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import asyncpg

from bot.store.postgres.database import WRITE_LOCK
from bot.store.postgres.facade import coerce
from bot.store.postgres.migrate import known, migrate_postgres
from bot.text.keys import redact_url_passwords

# SQLite's FTS5 index and its shadow tables: PostgreSQL's `posts.search` column is generated from the
# post itself, and its GIN index is built as the posts are copied.
SQLITE_ONLY = frozenset({"posts_fts", "posts_fts_data", "posts_fts_idx", "posts_fts_docsize", "posts_fts_config"})
# PostgreSQL's record of its migrations: written by migrate_postgres, never copied.
PG_ONLY = frozenset({"schema_version"})


class MigrateRefused(Exception):
    """Why nothing was copied, in words for the operator (never holding the URL's password)."""


@dataclass(frozen=True)
class Table:
    """One PostgreSQL table as the copy sees it: the columns it is given (generated ones are not) and
    their types, its identity column, and the tables its foreign keys point at."""

    name: str
    columns: tuple[str, ...]
    types: tuple[str, ...]  # udt names: int8, text, float8...
    identity: str | None = None
    parents: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Copied:
    table: str
    sqlite: int
    postgresql: int


@dataclass(frozen=True)
class Report:
    tables: tuple[Copied, ...]
    seconds: float

    @property
    def rows(self) -> int:
        return sum(t.postgresql for t in self.tables)


def redact(url: str) -> str:
    """The URL with its password, if any (before the @ or as `?password=`), as `***`: what may be printed."""
    return redact_url_passwords(url)


def scrub(text: str, url: str) -> str:
    """`text` (an error from the driver, say) with the URL's password blanked wherever it appears."""
    try:
        parts = urlsplit(url)
        written = [parts.password or "", *parse_qs(parts.query).get("password", [])]
    except ValueError:
        written = []
    for secret in {s for w in written if w for s in (w, unquote(w))}:
        text = text.replace(secret, "***")
    return redact_url_passwords(text)


def plan(sqlite_columns: Mapping[str, Sequence[str]], pg_tables: Mapping[str, Table]) -> list[Table]:
    """The tables to copy, parents before children; refused when the two schemas do not hold the same
    tables (apart from those left out on purpose) or a PostgreSQL column has no SQLite source."""
    source = set(sqlite_columns) - SQLITE_ONLY
    target = set(pg_tables) - PG_ONLY
    if source - target:
        raise MigrateRefused(
            f"SQLite table(s) {', '.join(sorted(source - target))} have no PostgreSQL twin: "
            "this hivecord cannot copy them (add them to its PostgreSQL migrations, or to SQLITE_ONLY)"
        )
    if target - source:
        raise MigrateRefused(f"PostgreSQL table(s) {', '.join(sorted(target - source))} have no SQLite source")
    for name in sorted(target):
        missing = [c for c in pg_tables[name].columns if c not in sqlite_columns[name]]
        if missing:
            raise MigrateRefused(f"{name}: column(s) {', '.join(missing)} are not in the SQLite table")
    return [pg_tables[name] for name in copy_order({name: pg_tables[name] for name in target})]


def copy_order(tables: Mapping[str, Table]) -> list[str]:
    """Table names so that every table comes after those its foreign keys point at (by name within a rank)."""
    order: list[str] = []
    left = dict(tables)
    while left:
        ready = sorted(n for n, t in left.items() if not (t.parents & left.keys()) - {n})
        if not ready:
            raise MigrateRefused(f"the foreign keys of {', '.join(sorted(left))} form a cycle")
        order += ready
        for name in ready:
            del left[name]
    return order


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Source:
    """The SQLite file, read in one snapshot, and a second connection that sees any write made meanwhile."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise MigrateRefused(f"no SQLite database at {path}")
        uri = f"{path.resolve().as_uri()}?mode=ro"
        self.watch = sqlite3.connect(uri, uri=True, isolation_level=None)
        self.snapshot = sqlite3.connect(uri, uri=True, isolation_level=None)
        self._seen = self._data_version()
        self.snapshot.execute("BEGIN")
        self.cursor = self._cursor(self.snapshot)  # the first read fixes the snapshot

    def close(self) -> None:
        self.snapshot.close()
        self.watch.close()

    def _data_version(self) -> int:
        return int(self.watch.execute("PRAGMA data_version").fetchone()[0])

    @staticmethod
    def _cursor(conn: sqlite3.Connection) -> str | None:
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'cursor'").fetchone()
        except sqlite3.OperationalError:
            return None
        return str(row[0]) if row else None

    def version(self) -> int:
        return int(self.snapshot.execute("PRAGMA user_version").fetchone()[0])

    def columns(self) -> dict[str, list[str]]:
        names = self.snapshot.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
        return {n: [c[1] for c in self.snapshot.execute(f"PRAGMA table_info({_quote(n)})")] for (n,) in names}

    def count(self, table: str) -> int:
        return int(self.snapshot.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()[0])

    def rows(self, table: Table) -> Iterator[tuple[Any, ...]]:
        """The table's rows as the target's types want them, one at a time (a large file is not held in memory)."""
        columns = ", ".join(_quote(c) for c in table.columns)
        kinds = table.types
        for row in self.snapshot.execute(f"SELECT {columns} FROM {_quote(table.name)}"):
            yield tuple(coerce(v, k) for v, k in zip(row, kinds, strict=True))

    def unchanged(self) -> None:
        """Refuses when anything wrote to the file since the snapshot began: a bot still running on it."""
        now = self._cursor(self.watch)
        if now != self.cursor:
            raise MigrateRefused(
                f"the SQLite cursor moved from block {self.cursor} to {now} during the copy: a bot is still "
                "running on it. Stop it, then migrate again (nothing was written to PostgreSQL)"
            )
        if self._data_version() != self._seen:
            raise MigrateRefused(
                "the SQLite database was written to during the copy: a bot is still running on it. "
                "Stop it, then migrate again (nothing was written to PostgreSQL)"
            )


async def pg_tables(conn: asyncpg.Connection) -> dict[str, Table]:
    """Every table of the target's schema, read from its catalog."""
    columns = await conn.fetch(
        "SELECT table_name, column_name, udt_name, is_identity, is_generated FROM information_schema.columns"
        " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    )
    keys = await conn.fetch(
        "SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent FROM pg_constraint c"
        " JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname = current_schema()"
    )
    names = await conn.fetch(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
    )
    tables: dict[str, Table] = {}
    for (name,) in names:
        own = [c for c in columns if c["table_name"] == name and c["is_generated"] != "ALWAYS"]
        identity = next((c["column_name"] for c in own if c["is_identity"] == "YES"), None)
        parents = frozenset(k["parent"] for k in keys if k["child"] == name)
        tables[name] = Table(
            name, tuple(c["column_name"] for c in own), tuple(c["udt_name"] for c in own), identity, parents
        )
    return tables


async def _refuse_rows(conn: asyncpg.Connection, tables: Sequence[Table], target: str) -> None:
    for table in tables:
        if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {_quote(table.name)})"):
            raise MigrateRefused(
                f"{target} already holds hivecord rows (table {table.name}): migrate copies into an empty "
                "database only. Give it a new database, or drop this one's tables first"
            )


def counts_table(copied: Sequence[Copied]) -> list[str]:
    """The row counts, table by table, as printed."""
    width = max([len(c.table) for c in copied] + [5])
    lines = [f"{'table':<{width}}  {'sqlite':>9}  {'postgresql':>10}"]
    for c in copied:
        mark = "" if c.sqlite == c.postgresql else "  DIFFERS"
        lines.append(f"{c.table:<{width}}  {c.sqlite:>9}  {c.postgresql:>10}{mark}")
    return lines


async def migrate_to_postgres(sqlite_path: Path, url: str, say: Callable[[str], None] = print) -> Report:
    """Copies the SQLite database at `sqlite_path` into the empty PostgreSQL database at `url`.

    Raises MigrateRefused, with the target untouched, when the target holds rows, the two schema
    versions differ, the counts differ after the copy, the file was written to meanwhile, or the
    copy itself failed. `say` is told each step (the command prints it)."""
    target = redact(url)
    try:
        return await _migrate(sqlite_path, url, target, say)
    except MigrateRefused as refused:
        raise MigrateRefused(scrub(str(refused), url)) from None
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, sqlite3.Error, ValueError) as failed:
        raise MigrateRefused(
            f"{scrub(str(failed), url) or type(failed).__name__}; nothing was written to {target}"
        ) from None


async def _migrate(sqlite_path: Path, url: str, target: str, say: Callable[[str], None]) -> Report:
    started = time.perf_counter()
    source = Source(sqlite_path)
    try:
        newest = len(known())
        version = source.version()
        if version != newest:
            raise MigrateRefused(
                f"{sqlite_path} is at schema version {version}, this hivecord's is {newest}: "
                + (
                    "start the bot once on this version first (it migrates the file), stop it, then migrate"
                    if version < newest
                    else "it was written by a newer hivecord; migrate with that one"
                )
            )
        conn = await asyncpg.connect(url)
        try:
            async with conn.transaction():
                await migrate_postgres(conn)  # savepoints in this transaction: the schema goes or stays with the rows
                await conn.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK)  # no hivecord writes meanwhile
                tables = plan(source.columns(), await pg_tables(conn))
                await _refuse_rows(conn, tables, target)
                say(f"copying {sqlite_path} (cursor at block {source.cursor}) into {target}")
                copied = [await _copy(conn, source, table) for table in tables]
                for line in counts_table(copied):
                    say(line)
                differ = [c.table for c in copied if c.sqlite != c.postgresql]
                if differ:
                    raise MigrateRefused(f"row counts differ in {', '.join(differ)}: rolled back")
                source.unchanged()
        finally:
            await conn.close()
    finally:
        source.close()
    report = Report(tuple(copied), time.perf_counter() - started)
    say(f"copied {report.rows} rows in {len(copied)} tables in {report.seconds:.1f} s; the bot may now run on {target}")
    return report


async def _copy(conn: asyncpg.Connection, source: Source, table: Table) -> Copied:
    try:
        await conn.copy_records_to_table(table.name, records=source.rows(table), columns=list(table.columns))
    except (asyncpg.PostgresError, ValueError, TypeError) as failed:
        raise MigrateRefused(f"copying {table.name} failed: {failed}; nothing was written") from None
    if table.identity is not None:
        # The next id the target hands out is past every copied one.
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence($1, $2), coalesce(max({_quote(table.identity)}), 0) + 1, false)"
            f" FROM {_quote(table.name)}",
            table.name,
            table.identity,
        )
    written = int(await conn.fetchval(f"SELECT count(*) FROM {_quote(table.name)}"))
    return Copied(table.name, source.count(table.name), written)
