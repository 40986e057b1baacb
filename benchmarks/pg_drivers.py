"""asyncpg beside psycopg 3 (async) beside aiosqlite on the store's own access patterns, as ratios to
aiosqlite: which PostgreSQL driver issue 20 should use.

Starts one PostgreSQL from the `pgserver` wheel as `benchmarks/pg_server.py` does (on 127.0.0.1, or
its unix socket with --unix; --no-fsync as the tests would run it), and times, on the same data:

- reads: many small single-row reads by primary key, one await each (a job's post, a feed);
- batch: 500-row inserts plus a cursor upsert in one transaction, as the follower writes a chain batch;
- claim: two connections claiming and finishing pending jobs at once (PostgreSQL: `FOR UPDATE SKIP
  LOCKED` with a lease; SQLite: the one-writer model, `BEGIN IMMEDIATE`); every job claimed once;
- notify: LISTEN/NOTIFY round trips (PostgreSQL only: SQLite has nothing to wake another process).

Best of --rounds for each; asserts nothing but that no job was claimed twice. Needs the optional
extra: `pip install -e '.[postgres]'`; without it, says so and exits 0.

    python benchmarks/pg_drivers.py [--rows 5000] [--rounds 3] [--unix] [--no-fsync]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pwd
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite

try:
    import asyncpg
    import psycopg
    from pg_server import SCHEMA, Server, atimed
except ImportError as missing:  # the optional extra is not installed
    asyncpg = psycopg = None
    MISSING: str | None = str(missing)
else:
    MISSING = None

BATCH = 500
JOBS = 400
BODY = "A review of the season, episode by episode. " * 25  # ~1 KB, as a short review


def postgres_sql(sql: str) -> str:
    """The one SQL text with `?` as asyncpg wants it ($1, $2, ...); psycopg takes %s."""
    parts = sql.split("?")
    return parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], 1))


# The work, the same rows and statements on each engine --------------------------------------------------------


class Engine:
    name = ""

    async def execute(self, sql: str, *args: Any) -> None: ...
    async def fetchval(self, sql: str, *args: Any) -> Any: ...
    async def insert_batch(self, rows: list[tuple[Any, ...]], cursor: int) -> None: ...
    async def claim(self, worker: str, now: float) -> int | None: ...
    async def close(self) -> None: ...


CLAIM_PG = (
    "UPDATE jobs SET state = 'sending', claimed_by = ?, lease_until = ? WHERE id ="
    " (SELECT id FROM jobs WHERE state = 'pending' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id"
)
CLAIM_SQLITE = CLAIM_PG.replace(" FOR UPDATE SKIP LOCKED", "")
INSERT_POST = "INSERT INTO posts (id, author, permlink, title, body) VALUES (?, ?, ?, ?, ?)"
UPSERT_META = (
    "INSERT INTO meta (key, value) VALUES ('cursor', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
READ_POST = "SELECT id, author, permlink, title, body, deleted FROM posts WHERE id = ?"


class Sqlite(Engine):
    name = "aiosqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    @classmethod
    async def open(cls, path: Path) -> Sqlite:
        conn = await aiosqlite.connect(path, isolation_level=None)
        for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "busy_timeout = 10000"):
            await conn.execute(f"PRAGMA {pragma}")
        return cls(conn)

    async def execute(self, sql: str, *args: Any) -> None:
        await self.conn.execute(sql, args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        async with self.conn.execute(sql, args) as cur:
            row = await cur.fetchone()
        return row[0] if row else None

    async def insert_batch(self, rows: list[tuple[Any, ...]], cursor: int) -> None:
        await self.conn.execute("BEGIN IMMEDIATE")
        await self.conn.executemany(INSERT_POST, rows)
        await self.conn.execute(UPSERT_META, (str(cursor),))
        await self.conn.execute("COMMIT")

    async def claim(self, worker: str, now: float) -> int | None:
        await self.conn.execute("BEGIN IMMEDIATE")
        job = await self.fetchval(CLAIM_SQLITE, worker, now + 60)
        await self.conn.execute("COMMIT")
        return job

    async def close(self) -> None:
        await self.conn.close()


class Asyncpg(Engine):
    name = "asyncpg"

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def execute(self, sql: str, *args: Any) -> None:
        await self.conn.execute(postgres_sql(sql), *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self.conn.fetchval(postgres_sql(sql), *args)

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        return await self.conn.fetchrow(postgres_sql(sql), *args)

    async def insert_batch(self, rows: list[tuple[Any, ...]], cursor: int) -> None:
        async with self.conn.transaction():
            await self.conn.executemany(postgres_sql(INSERT_POST), rows)
            await self.conn.execute(postgres_sql(UPSERT_META), str(cursor))

    async def claim(self, worker: str, now: float) -> int | None:
        return await self.conn.fetchval(postgres_sql(CLAIM_PG), worker, now + 60)  # type: ignore[no-any-return]

    async def close(self) -> None:
        await self.conn.close()


class Psycopg(Engine):
    name = "psycopg 3"

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def execute(self, sql: str, *args: Any) -> None:
        await self.conn.execute(sql.replace("?", "%s"), args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        cur = await self.conn.execute(sql.replace("?", "%s"), args)
        row = await cur.fetchone()
        return row[0] if row else None

    async def insert_batch(self, rows: list[tuple[Any, ...]], cursor: int) -> None:
        async with self.conn.transaction():
            async with self.conn.cursor() as cur:
                await cur.executemany(INSERT_POST.replace("?", "%s"), rows)
            await self.conn.execute(UPSERT_META.replace("?", "%s"), (str(cursor),))

    async def claim(self, worker: str, now: float) -> int | None:
        async with self.conn.transaction():
            return await self.fetchval(CLAIM_PG, worker, now + 60)  # type: ignore[no-any-return]

    async def close(self) -> None:
        await self.conn.close()


async def workload(make: Callable[[], Awaitable[Engine]], rows: int, rounds: int) -> dict[str, float]:
    """Seconds (best of `rounds`) for each pattern, on fresh tables each round."""
    best: dict[str, float] = {}
    for _ in range(rounds):
        a, b = await make(), await make()
        spent = await one_round(a, b, rows)
        for engine in (a, b):
            await engine.close()
        best = {k: min(v, best.get(k, v)) for k, v in spent.items()}
    return best


async def one_round(a: Engine, b: Engine, rows: int) -> dict[str, float]:
    for table in ("posts", "meta", "jobs"):
        await a.execute(f"DELETE FROM {table}")
    batches = [
        [(i, f"author{i % 300}", f"review-{i}", f"Title {i}", BODY) for i in range(start, start + BATCH)]
        for start in range(0, rows, BATCH)
    ]
    spent = {"batch": await atimed(lambda: _batches(a, batches))}
    spent["reads"] = await atimed(lambda: _reads(a, rows))
    for start in range(0, JOBS, 100):
        await a.execute("BEGIN")
        for i in range(start, start + 100):
            await a.execute("INSERT INTO jobs (id, channel_id, state) VALUES (?, ?, 'pending')", i, i % 20)
        await a.execute("COMMIT")
    claimed: list[int] = []
    spent["claim"] = await atimed(lambda: asyncio.gather(_claims(a, "a", claimed), _claims(b, "b", claimed)))
    assert sorted(claimed) == list(range(JOBS)), "a job was claimed twice or never"
    return spent


async def _batches(engine: Engine, batches: list[list[tuple[Any, ...]]]) -> None:
    for n, rows in enumerate(batches):
        await engine.insert_batch(rows, n)


async def _reads(engine: Engine, rows: int) -> None:
    for i in range(0, rows):
        await engine.fetchval(READ_POST, (i * 7919) % rows)


async def _claims(engine: Engine, worker: str, claimed: list[int]) -> None:
    while (job := await engine.claim(worker, time.time())) is not None:
        claimed.append(job)
        await engine.execute("UPDATE jobs SET state = 'done', lease_until = NULL WHERE id = ?", job)


async def notify_round_trips(url: str, count: int) -> dict[str, float]:
    """Median LISTEN/NOTIFY round trip per driver: one connection notifies, another is woken."""
    out = {}
    listener, sender = await asyncpg.connect(url), await asyncpg.connect(url)
    woken: asyncio.Queue[str] = asyncio.Queue()
    await listener.add_listener("jobs", lambda *args: woken.put_nowait(args[-1]))
    out["asyncpg"] = await _round_trips(lambda n: sender.execute(f"NOTIFY jobs, '{n}'"), woken, count)
    await listener.close()
    await sender.close()
    plisten = await psycopg.AsyncConnection.connect(url, autocommit=True)
    psender = await psycopg.AsyncConnection.connect(url, autocommit=True)
    await plisten.execute("LISTEN jobs")
    pwoken: asyncio.Queue[str] = asyncio.Queue()

    async def pump() -> None:
        async for note in plisten.notifies():
            pwoken.put_nowait(note.payload)

    pumping = asyncio.create_task(pump())
    out["psycopg 3"] = await _round_trips(lambda n: psender.execute(f"NOTIFY jobs, '{n}'"), pwoken, count)
    pumping.cancel()
    await psender.close()
    await plisten.close()
    return out


async def _round_trips(send: Callable[[int], Awaitable[Any]], woken: asyncio.Queue[str], count: int) -> float:
    spent = []
    for n in range(count):
        started = time.perf_counter()
        await send(n)
        assert await asyncio.wait_for(woken.get(), 10) == str(n)
        spent.append(time.perf_counter() - started)
    return sorted(spent)[count // 2]


async def run(args: argparse.Namespace, base: Path) -> None:
    server = Server(base, durable=not args.no_fsync)
    try:
        server.initdb()
        server.start()
        url = server.url("t_bench", unix=args.unix)
        admin = await asyncpg.connect(server.url("postgres"))
        await admin.execute("CREATE DATABASE t_bench")
        await admin.close()
        bench = await asyncpg.connect(url)
        for statement in SCHEMA:
            await bench.execute(statement)
        await bench.close()
        lite = base / "bench.sqlite"
        async with aiosqlite.connect(lite) as conn:
            for statement in SCHEMA:
                await conn.execute(statement)
            await conn.commit()

        async def pg_psycopg() -> Engine:
            return Psycopg(await psycopg.AsyncConnection.connect(url, autocommit=True))

        async def pg_asyncpg() -> Engine:
            return Asyncpg(await asyncpg.connect(url))

        over = ("unix socket" if args.unix else "TCP 127.0.0.1") + (", fsync off" if args.no_fsync else "")
        print(
            f"\n{args.rows} rows ({args.rows // BATCH} batches of {BATCH}), {args.rows} reads by id, {JOBS} jobs"
            f" claimed by 2 connections; best of {args.rounds}; PostgreSQL over {over}"
        )
        results = {
            "aiosqlite": await workload(lambda: Sqlite.open(lite), args.rows, args.rounds),
            "asyncpg": await workload(pg_asyncpg, args.rows, args.rounds),
            "psycopg 3": await workload(pg_psycopg, args.rows, args.rounds),
        }
        per = {"reads": args.rows, "batch": args.rows, "claim": JOBS}
        print(f"{'':12}" + "".join(f"{name:>28}" for name in results))
        for key, unit in (("reads", "read"), ("batch", "row"), ("claim", "job")):
            cells = []
            for name in results:
                seconds = results[name][key]
                ratio = seconds / results["aiosqlite"][key]
                cells.append(f"{seconds * 1e6 / per[key]:9.1f} us/{unit} ({ratio:4.2f}x)")
            print(f"{key:12}" + "".join(f"{cell:>28}" for cell in cells))
        notes = await notify_round_trips(url, 200)
        print("notify " + "".join(f"{name}: {sec * 1e6:.0f} us median round trip; " for name, sec in notes.items()))
        print("(x: time relative to aiosqlite on the same work; lower is faster)")
    finally:
        server.stop("fast")
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--unix", action="store_true", help="connect over the unix socket instead of TCP")
    parser.add_argument("--no-fsync", action="store_true", help="PostgreSQL as tests would run it (fsync off)")
    args = parser.parse_args()
    if MISSING:
        print(f"skipped: {MISSING}; install the optional extra: pip install -e '.[postgres]'")
        return
    if os.geteuid() == 0:
        pwd.getpwnam("nobody")  # postgres runs as this user when we are root
    base = Path(tempfile.mkdtemp(prefix="hc-pg-"))
    base.chmod(0o755)  # postgres runs as nobody when we are root
    asyncio.run(run(args, base))


if __name__ == "__main__":
    main()
