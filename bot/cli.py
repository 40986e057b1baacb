"""`hivecord run | ingest | search | check-config | healthcheck | migrate`: the command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot.config.load import CONFIG_ENV, DEFAULT_CONFIG_NAME, Config, ConfigError, find_config, load_config
from bot.process.logs import setup_logging
from bot.process.shards import Shards, parse_shards
from bot.store.engine import is_postgres_url

log = logging.getLogger("hivecord")


NO_FILE = f"no config file (no --config, no ${CONFIG_ENV}, no ./{DEFAULT_CONFIG_NAME}): built-in defaults"


class _ShowVersion(argparse.Action):
    """--version, read only when asked for (reading the package's metadata costs every start ~15 ms)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(f"hivecord {version()}")
        parser.exit()


def version() -> str:
    import importlib.metadata  # only here: 15-20 ms of every command's start otherwise

    try:
        return importlib.metadata.version("hivecord")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _where(path: Path | None) -> str:
    return str(path) if path is not None else NO_FILE


def _load(args: argparse.Namespace, code: int = 2) -> Config:
    path = find_config(args.config)
    try:
        config = load_config(path)
    except ConfigError as exc:
        for line in exc.problems:
            print(f"config: {line}", file=sys.stderr)
        raise SystemExit(code) from None
    return config


def _log_config(config: Config) -> None:
    # Said only when it may surprise: no file was found, or variables override the file.
    if config.source is None:
        log.info("config: %s", NO_FILE)
    if config.from_env:
        log.info("config: set by the environment: %s", ", ".join(config.from_env))


def _check_config(args: argparse.Namespace) -> int:
    path = find_config(args.config)
    try:
        config = load_config(path)
    except ConfigError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        print(f"{_where(path)}: {len(exc.problems)} problem(s) found", file=sys.stderr)
        return 1
    print(f"{_where(path)}: OK")
    if config.from_env:
        print(f"set by the environment (wins over the file): {', '.join(config.from_env)}")
    target = config.database.target
    if target.kind == "sqlite":
        print(f"database: {target.shown()}")
    else:
        print(f"database: PostgreSQL at {target.shown()} ({target.password_source(os.environ)})")
    found = asyncio.run(_curation_problems(config))
    if found:
        print(f"curation: {found} problem(s) found", file=sys.stderr)
        return 1
    return 0


def _key_check_deadline(config: Config) -> float:
    # Each node may take its whole timeout before the next is asked; a person is waiting, so at most 30 s.
    return min(30.0, config.hive.request_timeout * (len(config.hive.nodes) + 1))


async def _curation_problems(config: Config) -> int:
    """Prints each curation account's key state (never the key); returns how many are problems.

    A missing key is a notice (that community has no curation). No node answering leaves a key
    unchecked: said plainly, but no problem of the config (a deploy is not failed by a node outage).
    """
    from bot.hive.client import HiveClient
    from bot.hive.curation_keys import KeyState, check_curation_keys
    from bot.hive.posting_key import ENV_PREFIX, env_name

    # The bridge account (replies from Discord) is judged by the same rule, under the label "[bridge]".
    accounts = {**config.curation.accounts, **({"[bridge]": config.bridge.account} if config.bridge.account else {})}
    states = []
    if accounts:
        logging.getLogger("hivecord.hive").setLevel(logging.ERROR)  # the line printed says why no node answered
        async with HiveClient.from_config(config.hive) as client:
            states = await check_curation_keys(client, accounts, os.environ, deadline=_key_check_deadline(config))
    problems = 0
    for k in states:
        bridge = k.community == "[bridge]"
        head = f"{'bridge' if bridge else 'curation ' + k.community}: account {k.account}, key {k.variable}"
        off = ": replies from Discord are off" if bridge else f": curation is off for {k.community}"
        if k.state is KeyState.POSTING:
            print(f"{head} set, one of its posting keys")
        elif k.state is KeyState.MISSING:
            print(f"{head} not set{off}")
        elif k.state is KeyState.UNCHECKED:
            print(f"{head} set, but NOT checked: {k.detail}", file=sys.stderr)
        else:
            print(f"{head} set, but {k.detail}{off}", file=sys.stderr)
        problems += k.state.is_problem
    read = {env_name(a) for a in accounts.values()}
    for name in sorted(n for n in os.environ if n.upper().startswith(ENV_PREFIX) and n not in read):
        print(f"{name} is set, but no account of curation.accounts reads it (the name is {ENV_PREFIX}<ACCOUNT>)")
    return problems


def _healthcheck(args: argparse.Namespace) -> int:
    """0 when the config is valid and the database opens read-only with a cursor (and, with --max-age,
    its last block is recent); else 1 with one line saying why. Cheap: no writes."""
    from bot.store.health import health

    target = _load(args, code=1).database.target
    healthy, line = health(target.path, target.dsn, target.shown(), args.max_age)
    print(line, file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


STOP_GRACE = 5.0


def _stop_on_signals(stop: Callable[[], None], task: asyncio.Task[Any]) -> None:
    """SIGINT and SIGTERM (a container's stop) end the run after the batch in hand.

    If the run is stuck waiting on the network it is cancelled after a grace period; that is safe
    too, since a batch is one transaction.
    """
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        log.info("%s received: stopping", sig.name)
        stop()
        loop.call_later(STOP_GRACE, task.cancel)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)


async def _search(config: Config, query: str, limit: int, as_json: bool) -> int:
    from bot.search.query import search
    from bot.store.store import Store

    store = await Store.open(config.database.target.location)
    try:
        page = await search(store, query, limit=limit)
    finally:
        await store.close()
    if as_json:
        out = [
            {
                "author": h.post.author,
                "permlink": h.post.permlink,
                "community": h.post.community,
                "title": h.post.title,
                "series": h.post.series,
                "tags": list(h.post.tags),
                "url": h.post.url,
                "created": h.post.created_at,
                "updated": h.post.updated_at,
                "votes": h.post.vote_count,
                "body": h.post.body,
            }
            for h in page.hits
        ]
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    if not page.hits:
        print(f"No review matches {query!r}.")
        return 0
    for i, h in enumerate(page.hits, 1):
        excerpt = " ".join(h.excerpt.replace("\x02", "").replace("\x03", "").split())
        print(f"{i}. {h.post.title}  [{h.post.series or 'no series'}]  by @{h.post.author}, {h.post.created_at}")
        print(f"   {h.post.url}")
        print(f"   {excerpt[:200]}")
    print(f"{len(page.hits)} of {page.total} shown.")
    return 0


def _migrate(config: Config, to: str) -> int:
    from bot.store.postgres.copy import MigrateRefused, migrate_to_postgres

    source = config.database.target.path
    if source is None:
        print("migrate: the config names a PostgreSQL database; migrate copies from a SQLite file", file=sys.stderr)
        return 1
    try:
        asyncio.run(migrate_to_postgres(source, to))
    except MigrateRefused as refused:
        print(f"migrate: {refused}", file=sys.stderr)
        return 1
    return 0


def _postgres_url(text: str) -> str:
    # The value is never echoed back: it may hold a password.
    if not is_postgres_url(text):
        raise argparse.ArgumentTypeError("must be a postgresql:// URL")
    return text


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be 1 or more")
    return value


def _shards(text: str) -> Shards:
    try:
        return parse_shards(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hivecord", description="Hive communities, mirrored into Discord.")
    parser.add_argument("--version", action=_ShowVersion, nargs=0, help="show the version and exit")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: $HIVECORD_CONFIG, else ./config.toml if present, else built-in defaults; "
        "HIVECORD_SECTION__KEY variables win over it)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", parents=[common], help="run the bot (token from $DISCORD_TOKEN)")
    run.add_argument(
        "--shards",
        type=_shards,
        metavar="IDS/COUNT",
        help="the gateway shards this process serves, e.g. 0-3/8 (ids 0 to 3 of 8) or 1/2; "
        "default: discord.shard_ids of discord.shard_count",
    )
    ingest = sub.add_parser("ingest", parents=[common], help="follow the chain into the database, no Discord")
    ingest.add_argument("--from-block", type=_positive, metavar="N", help="first block, when the database is new")
    ingest.add_argument("--to-block", type=_positive, metavar="N", help="exit once this block is stored")
    search = sub.add_parser("search", parents=[common], help="search the stored reviews")
    search.add_argument("query")
    search.add_argument("--limit", type=_positive, default=10, metavar="N")
    search.add_argument("--json", action="store_true", help="print a JSON list")
    sub.add_parser("check-config", parents=[common], help="validate the config (file and environment) and exit")
    health = sub.add_parser(
        "healthcheck", parents=[common], help="exit 0 if the config is valid and the database readable, else 1"
    )
    health.add_argument(
        "--max-age",
        type=_positive,
        metavar="SECONDS",
        help="also unhealthy when the last stored block is older than this (the follower is stuck)",
    )
    migrate = sub.add_parser(
        "migrate", parents=[common], help="copy the SQLite database into an empty PostgreSQL (the bot stopped)"
    )
    migrate.add_argument(
        "--to",
        required=True,
        type=_postgres_url,
        metavar="postgresql://USER@HOST:PORT/DB",
        help="the target database (the password from $PGPASSWORD, or in the URL)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "check-config":
        return _check_config(args)
    if args.command == "healthcheck":
        return _healthcheck(args)
    config = _load(args)
    # The database's password, as it could appear outside a URL, is blanked in every log line too.
    setup_logging(config.logging.level, hidden=config.database.target.passwords(os.environ))
    _log_config(config)
    if args.command == "ingest":
        if args.from_block and args.to_block and args.to_block < args.from_block:
            print("--to-block must not be below --from-block", file=sys.stderr)
            return 2
        from bot.ingest.standalone import ingest

        return asyncio.run(ingest(config, args.from_block, args.to_block, on_task=_stop_on_signals))
    if args.command == "search":
        return asyncio.run(_search(config, args.query, args.limit, args.json))
    if args.command == "migrate":
        return _migrate(config, args.to)
    if args.command == "run":
        from bot.runner import run_bot

        shards = args.shards or Shards(config.discord.shard_ids, config.discord.shard_count)
        if (problem := shards.problem()) is not None:
            print(f"hivecord: {problem}", file=sys.stderr)
            return 2
        return run_bot(config, shards)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
