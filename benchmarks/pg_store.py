"""The store on PostgreSQL beside SQLite: the same generated data, in the same run, as ratios (issue 20).

Starts PostgreSQL from the `pgserver` wheel (as `benchmarks/pg_server.py` does: 127.0.0.1, a free
port, as `nobody` when root) at its default durability (every commit flushed; `--no-fsync` turns
that off), beside SQLite as the bot opens it (WAL, synchronous = NORMAL: a commit is not flushed).
Each engine gets fresh databases and the very same events, in turn:

  1. ingest: N mainnet-like blocks from the fake node's generator (`tests/fakes/chain_gen`, what
     `benchmarks/ingest.py` serves: reviews, edits, deletes, votes, replies, badges amid noise),
     decoded once as the follower decodes them, then written as the follower writes them: one
     `Store.chain_batch` per `hive.batch_size` blocks (apply_events and the cursor's compare-and-set).
     Only the batches are timed (decoding is the same work for both) -> blocks/s, events/s.
  2. search: a store of R reviews from `benchmarks/search.py`'s generator (its chain batches of
     4,000), settled (SQLite: the FTS index merged, the WAL folded in; PostgreSQL: VACUUM ANALYZE,
     what autovacuum does soon after), then Q queries of `benchmarks/search.py`'s mix through
     `bot.search.query.search`, one page each, after 50 warm-up queries -> p50/p95/p99 ms.
  3. fan-out: on that store, M post feeds (one in three with a tag filter) over G servers, then K
     new reviews in one chain batch; `bot.delivery.planner.plan` until it plans nothing -> jobs/s;
     then the jobs drained with the worker's store calls per lane (lane_may_send, next_job, the
     job's feed, finish_job with a message id), L lanes at once -> jobs/s.

Prints one table per figure (SQLite, PostgreSQL, PostgreSQL / SQLite and which way is better),
the sizes used, PostgreSQL's version and whether fsync was on. `--custom-plans` sets PostgreSQL's
plan_cache_mode = force_custom_plan on its databases: asyncpg prepares each statement, and after five
runs PostgreSQL may keep one generic plan for it whatever words are searched. Asserts nothing. Needs
`pip install -e '.[postgres]'`; without it, says so and exits 0.

    python benchmarks/pg_store.py [--blocks 10000] [--reviews 10000] [--queries 300] [--by-kind]
                                  [--new-reviews 30] [--feeds 60] [--guilds 30] [--lanes 8]
                                  [--no-fsync] [--custom-plans]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.delivery.planner import plan  # noqa: E402
from bot.domain import NO_FILTER, FeedFilter  # noqa: E402
from bot.hive.blocks import BlockRange, VirtualOp  # noqa: E402
from bot.hive.events import ChainEvent, EventDecoder, PostCreated  # noqa: E402
from bot.ingest.fetch import read_range, with_vote_details  # noqa: E402
from bot.ingest.ledger import apply_events  # noqa: E402
from bot.ingest.newposts import judge_new_post  # noqa: E402
from bot.search.query import PAGE_SIZE, search  # noqa: E402
from bot.store.chain_writer import ChainWriter  # noqa: E402
from bot.store.store import Store  # noqa: E402
from tests.fakes.chain_gen import ChainGenerator  # noqa: E402

try:
    import asyncpg
    from pg_server import Server
except ImportError as missing:  # the optional extra is not installed
    MISSING: str | None = str(missing)
else:
    MISSING = None
from search import BATCH, COMMUNITY, SEED, Generator, percentile, queries, settle  # noqa: E402

FIRST_BLOCK = 90_000_000
FOLLOWER_BATCH = 500  # hive.batch_size's default: blocks per chain batch
TAGS = ("anime", "manga", "review", "spanish")  # tags the generated reviews carry, for the filters


@dataclass
class Batch:
    """One chain batch as the follower writes it: the blocks' events, and the cursor it moves to."""

    events: list[ChainEvent]
    last: int
    at: str


@dataclass
class Data:
    """Everything both engines are given, generated once."""

    batches: list[Batch]
    blocks: int
    reviews: list[list[ChainEvent]]  # the search store's chain batches
    new_reviews: list[ChainEvent]  # the fan-out's one batch
    requests: list[Any]  # (SearchRequest, page, kind) from benchmarks/search.py


@dataclass
class Figures:
    """What one engine measured."""

    ingest_s: float = 0.0
    ingest_events: int = 0
    build_s: float = 0.0
    search_ms: list[float] = field(default_factory=list)
    search_kinds: list[str] = field(default_factory=list)
    search_hits: int = 0
    size_mb: float = 0.0
    plan_s: float = 0.0
    planned: int = 0
    drain_s: float = 0.0
    drained: int = 0


def chain_batches(blocks: int, review_every: int) -> list[Batch]:
    """The generated chain decoded as the follower decodes it, in its batches. Every new post is
    judged as one bridge does not know yet (brand new), as on a live chain."""
    decoder = EventDecoder({COMMUNITY}, set(), set(), set(), claims_until=lambda: "")
    decode_range, decode_vops = msgspec.json.Decoder(BlockRange), msgspec.json.Decoder(list[VirtualOp])
    batches: list[Batch] = []
    raw: list[bytes] = []
    vops: list[dict[str, Any]] = []

    def flush() -> None:
        first = FIRST_BLOCK + len(batches) * FOLLOWER_BATCH
        answer = decode_range.decode(b'{"blocks":[' + b",".join(raw) + b"]}")
        decoded = read_range(answer, first, len(raw), first + len(raw))
        events = with_vote_details(decoder.decode(decoded), decode_vops.decode(msgspec.json.encode(vops)))
        judged = [(judge_new_post(e, None) or e) if isinstance(e, PostCreated) else e for e in events]
        batches.append(Batch(judged, decoded[-1].number, decoded[-1].timestamp))
        raw.clear()
        vops.clear()

    for _, block, block_vops in ChainGenerator(FIRST_BLOCK, blocks, review_every=review_every):
        raw.append(msgspec.json.encode(block))
        vops.extend(block_vops)
        if len(raw) == FOLLOWER_BATCH:
            flush()
    if raw:
        flush()
    return batches


def generate(args: argparse.Namespace) -> Data:
    gen = Generator(SEED)
    reviews = [gen.events(start, min(BATCH, args.reviews - start)) for start in range(0, args.reviews, BATCH)]
    authors = sorted(set(Generator(SEED).authors))[:400]
    return Data(
        batches=chain_batches(args.blocks, args.review_every),
        blocks=args.blocks,
        reviews=reviews,
        new_reviews=gen.events(args.reviews, args.new_reviews),
        requests=list(queries(args.queries, authors)),
    )


async def ingest(store: Store, data: Data, figures: Figures) -> None:
    cursor = FIRST_BLOCK - 1
    await store.chain_batch(lambda tx: tx.set_cursor(cursor))  # as the follower's first start does
    began = time.perf_counter()
    for batch in data.batches:

        def write(tx: ChainWriter, batch: Batch = batch, previous: int = cursor) -> int:
            written = apply_events(tx, batch.events)
            tx.set_cursor(batch.last, batch.at, previous=previous)
            return written

        figures.ingest_events += await store.chain_batch(write)
        cursor = batch.last
    figures.ingest_s = time.perf_counter() - began


async def build(store: Store, data: Data, figures: Figures) -> None:
    began = time.perf_counter()
    for events in data.reviews:
        await store.chain_batch(lambda tx, events=events: apply_events(tx, events))  # type: ignore[misc]
    figures.build_s = time.perf_counter() - began


async def measure_search(store: Store, data: Data, figures: Figures) -> None:
    for request, _, _ in data.requests[:50]:  # the page and statement caches warm, as in a running bot
        await search(store, request.text, limit=PAGE_SIZE)
    for request, page, kind in data.requests:
        began = time.perf_counter()
        result = await search(
            store, request.text, author=request.author, series=request.series, community=request.community,
            sort=request.sort, limit=PAGE_SIZE, offset=page * PAGE_SIZE,
        )  # fmt: skip
        figures.search_ms.append((time.perf_counter() - began) * 1000)
        figures.search_hits += bool(result.hits)
        figures.search_kinds.append(kind)


async def fan_out(store: Store, data: Data, args: argparse.Namespace, figures: Figures) -> None:
    for n in range(args.feeds):
        await store.feeds.upsert_feed(
            guild_id=1000 + n % args.guilds, channel_id=5000 + n, community=COMMUNITY, posts=True, votes="off",
            curators=(), badges=False, role_id=None, created_by=1, at="2026-12-01T00:00:00",
            feed_filter=FeedFilter(tags=(TAGS[n % len(TAGS)],)) if n % 3 == 2 else NO_FILTER,
        )  # fmt: skip
    await store.chain_batch(lambda tx: apply_events(tx, data.new_reviews))
    began = time.perf_counter()
    while planned := await plan(store, digest_minutes=60):
        figures.planned += planned
    figures.plan_s = time.perf_counter() - began

    lanes = await store.jobs.channels_with_work(time.time())
    free = asyncio.Semaphore(args.lanes)

    async def drain(lane: int) -> None:
        async with free:
            while await store.jobs.lane_may_send(lane, time.time()):
                job = await store.jobs.next_job(lane)
                if job is None:
                    return
                if job.feed_id is not None:
                    await store.feeds.feed(job.feed_id)
                await store.jobs.finish_job(job, 10**17 + job.id, mirrors_post=job.action == "post")
                figures.drained += 1

    began = time.perf_counter()
    await asyncio.gather(*(drain(lane) for lane in lanes))
    figures.drain_s = time.perf_counter() - began


def progress(engine: str, what: str, since: float) -> float:
    print(f"  {engine}: {what} ({time.perf_counter() - since:.1f} s)", flush=True)
    return time.perf_counter()


async def on_engine(
    engine: str, open_store: Callable[[str], Awaitable[Store]], data: Data, args: argparse.Namespace
) -> Figures:
    figures = Figures()
    began = time.perf_counter()
    store = await open_store("ingest")
    try:
        await ingest(store, data, figures)
    finally:
        await store.close()
    began = progress(engine, "ingested", began)
    store = await open_store("search")
    try:
        await build(store, data, figures)
    finally:
        await store.close()
    gc.collect()
    began = progress(engine, "search store built", began)
    store = await open_store("search")  # reopened settled: a store at rest, as search.py measures it
    try:
        await measure_search(store, data, figures)
        began = progress(engine, "searched", began)
        await fan_out(store, data, args, figures)
        progress(engine, "fanned out", began)
    finally:
        await store.close()
    return figures


async def run(args: argparse.Namespace, data: Data, base: Path) -> tuple[Figures, Figures, str]:
    folder = base / "sqlite"
    folder.mkdir()

    async def sqlite_store(name: str) -> Store:
        path = folder / f"{name}.sqlite3"
        if name == "search" and path.exists():
            settle(path)
        return await Store.open(path)

    lite = await on_engine("SQLite", sqlite_store, data, args)
    lite.size_mb = sum(p.stat().st_size for p in folder.glob("search.sqlite3*")) / 1e6

    server = Server(base / "pg", durable=not args.no_fsync)
    (base / "pg").mkdir()
    if server.user:
        shutil.chown(base / "pg", server.user)
    server.initdb()
    server.start()
    try:
        admin = await asyncpg.connect(server.url("postgres"))
        for name in ("ingest", "search"):
            await admin.execute(f"CREATE DATABASE {name}")
            if args.custom_plans:  # a plan per search's own words, never the generic one of a prepared statement
                await admin.execute(f"ALTER DATABASE {name} SET plan_cache_mode = force_custom_plan")
        made: set[str] = set()

        async def pg_store(name: str) -> Store:
            if name in made:
                await admin_in(name, "VACUUM ANALYZE")
            made.add(name)
            return await Store.open(server.url(name))

        async def admin_in(name: str, sql: str) -> None:
            conn = await asyncpg.connect(server.url(name))
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        pg = await on_engine("PostgreSQL", pg_store, data, args)
        pg.size_mb = int(await admin.fetchval("SELECT pg_database_size('search')")) / 1e6
        await admin.close()
    finally:
        server.stop("fast")
    return lite, pg, server.version


def table(title: str, rows: Sequence[tuple[str, float, float, bool, str]]) -> str:
    """rows: (what, SQLite, PostgreSQL, higher is better, format)."""
    lines = [f"{title}", f"  {'':<40} {'SQLite':>12} {'PostgreSQL':>12} {'PG / SQLite':>12}"]
    for what, lite, pg, higher, fmt in rows:
        ratio = pg / lite if lite else float("nan")
        better = "higher is better" if higher else "lower is better"
        lines.append(f"  {what:<40} {lite:>12{fmt}} {pg:>12{fmt}} {ratio:>11.2f}x  ({better})")
    return "\n".join(lines)


def report(args: argparse.Namespace, data: Data, lite: Figures, pg: Figures, version: str) -> None:
    events = sum(len(b.events) for b in data.batches)
    fsync = "off (--no-fsync)" if args.no_fsync else "on (default durability: every commit flushed)"
    plans = ", plan_cache_mode = force_custom_plan" if args.custom_plans else ""
    print(f"PostgreSQL {version} over TCP 127.0.0.1, fsync {fsync}{plans}; SQLite WAL, synchronous = NORMAL")
    print()
    print(table(
        f"1. ingest: {data.blocks:,} blocks, {events:,} events, {len(data.batches)} chain batches of"
        f" {FOLLOWER_BATCH} blocks",
        [("blocks/s", data.blocks / lite.ingest_s, data.blocks / pg.ingest_s, True, ",.0f"),
         ("events/s", lite.ingest_events / lite.ingest_s, pg.ingest_events / pg.ingest_s, True, ",.0f"),
         (f"reviews/s (search store, {BATCH:,}/batch)", args.reviews / lite.build_s, args.reviews / pg.build_s,
          True, ",.0f")],
    ))  # fmt: skip
    print()
    print(table(
        f"2. search: {len(data.requests)} queries over {args.reviews:,} reviews, one page each"
        f" (found something: SQLite {lite.search_hits}, PostgreSQL {pg.search_hits})",
        [(f"p{q} ms", percentile(lite.search_ms, q / 100), percentile(pg.search_ms, q / 100), False, ".2f")
         for q in (50, 95, 99)]
        + [("mean ms", statistics.fmean(lite.search_ms), statistics.fmean(pg.search_ms), False, ".2f"),
           ("store on disk, MB", lite.size_mb, pg.size_mb, False, ".1f")],
    ))  # fmt: skip
    if args.by_kind:
        for kind in sorted(set(lite.search_kinds)):
            mine = [ms for k, ms in zip(lite.search_kinds, lite.search_ms, strict=True) if k == kind]
            theirs = [ms for k, ms in zip(pg.search_kinds, pg.search_ms, strict=True) if k == kind]
            lite_p50, pg_p50 = statistics.median(mine), statistics.median(theirs)
            print(
                f"  {kind:>20}: {len(mine):>3} queries, p50 SQLite {lite_p50:7.2f} ms,"
                f" PostgreSQL {pg_p50:7.2f} ms ({pg_p50 / lite_p50:.1f}x)"
            )
    print()
    print(table(
        f"3. fan-out: {len(data.new_reviews):,} events ({args.new_reviews} new reviews and their votes), {args.feeds}"
        f" feeds over {args.guilds} servers -> jobs planned: SQLite {lite.planned:,}, PostgreSQL {pg.planned:,};"
        f" drained {args.lanes} lanes at once",
        [("planned jobs/s", lite.planned / lite.plan_s, pg.planned / pg.plan_s, True, ",.0f"),
         ("drained jobs/s", lite.drained / lite.drain_s, pg.drained / pg.drain_s, True, ",.0f"),
         ("planned + drained jobs/s", lite.planned / (lite.plan_s + lite.drain_s),
          pg.planned / (pg.plan_s + pg.drain_s), True, ",.0f")],
    ))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--blocks", type=int, default=10_000, help="generated blocks to ingest")
    parser.add_argument("--review-every", type=int, default=20, help="a new review every ~N blocks (default 20)")
    parser.add_argument("--reviews", type=int, default=10_000, help="reviews in the search store")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--new-reviews", type=int, default=30, help="new reviews the planner fans out")
    parser.add_argument("--feeds", type=int, default=60)
    parser.add_argument("--guilds", type=int, default=30)
    parser.add_argument("--lanes", type=int, default=8, help="lanes drained at once")
    parser.add_argument("--by-kind", action="store_true", help="search's p50 for each kind of query too")
    parser.add_argument(
        "--custom-plans", action="store_true", help="PostgreSQL with plan_cache_mode = force_custom_plan"
    )
    parser.add_argument("--no-fsync", action="store_true", help="PostgreSQL without fsync (as the tests run it)")
    args = parser.parse_args()
    if MISSING:
        print(f"skipped: {MISSING}; install the optional extra: pip install -e '.[postgres]'")
        return
    began = time.perf_counter()
    print(f"generating {args.blocks:,} blocks, {args.reviews:,} reviews, {args.queries} queries...", flush=True)
    data = generate(args)
    print(f"generated in {time.perf_counter() - began:.1f} s; measuring SQLite, then PostgreSQL...", flush=True)
    base = Path(tempfile.mkdtemp(prefix="hc-pgstore-"))
    base.chmod(0o755)  # postgres runs as nobody when we are root
    try:
        lite, pg, version = asyncio.run(run(args, data, base))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print()
    report(args, data, lite, pg, version)
    print(f"\nwhole run: {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
