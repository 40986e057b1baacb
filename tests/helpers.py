"""Shared by the tests: config files, running the real CLI, reading the store back."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent
FIXTURES = ROOT / "fixtures"
SEED = FIXTURES / "hive" / "seed" / "anime_realm_review.json"
ANIME_REALM = "hive-158489"
SEED_FIRST = 101000000
SEED_LAST = 101000120


def write_config(
    folder: Path,
    nodes: Sequence[str],
    *,
    communities: Iterable[str] = (ANIME_REALM,),
    db: str = "hivecord.sqlite3",
    extra: str = "",
    **hive: Any,
) -> Path:
    """A config.toml for the tests: fast polling, the given nodes; `db` a SQLite file's path (relative to
    `folder`) or a postgresql:// URL.

    The request timeout stays the bot's own default unless a test sets one: on a loaded machine the
    loopback node may take seconds to answer, and each timeout is a failure that backs the node off.
    """
    settings = {"poll_interval": 0.05, **hive}
    lines = ["[hive]", f"nodes = {json.dumps(list(nodes))}", f"communities = {json.dumps(list(communities))}"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    key = "url" if db.startswith("postgresql://") else "path"
    lines += ["", "[database]", f"{key} = {json.dumps(db)}", "", "[logging]", 'level = "INFO"', "", extra]
    path = folder / "config.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def cli_env(**extra: str) -> dict[str, str]:
    # Every HIVECORD_ variable is a setting (or the config path): none may leak in from the shell.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIVECORD_") and k != "DISCORD_TOKEN"}
    # The repository, and loopback_only's sitecustomize: the child reaches nothing outside 127.0.0.1.
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "loopback_only"), str(ROOT.parent), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot.cli", *args]


def hivecord(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Runs the real `hivecord` command line in a child process."""
    return subprocess.run(
        cli_command(*args), capture_output=True, text=True, timeout=timeout, env=env or cli_env(), check=False
    )


def popen_hivecord(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        cli_command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env or cli_env()
    )


CHAIN_TABLES = ("posts", "votes", "badges", "outbox", "replies")


def dump_chain_tables(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the follower wrote, in a stable order: what crash and fault runs must agree on."""
    order = {"posts": "id", "votes": "post_id, voter", "badges": "id", "outbox": "id", "replies": "id"}
    with sqlite3.connect(db) as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY {order[t]}").fetchall() for t in CHAIN_TABLES}


def cursor_of(db: Path) -> int | None:
    """The follower's cursor, or None before the schema or the first cursor exists."""
    try:
        with sqlite3.connect(db) as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'cursor'").fetchone()
    except sqlite3.OperationalError:
        return None
    return int(row[0]) if row else None


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.005) -> None:
    """Polls `predicate` until it is truthy; a generous `timeout` is a ceiling that fails the test,
    never what a test waits for."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        time.sleep(interval)


class LineReader:
    """Reads a child's pipe on a thread, so a test can wait for a line while the child runs."""

    def __init__(self, pipe: IO[str]) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: IO[str]) -> None:
        for line in pipe:
            with self._lock:
                self.lines.append(line)

    def count(self, needle: str) -> int:
        with self._lock:
            return sum(needle in line for line in self.lines)

    def text(self, timeout: float = 30) -> str:
        """Everything read; waits (up to `timeout`) for the pipe to close when the child has exited."""
        self._thread.join(timeout)
        with self._lock:
            return "".join(self.lines)


async def stored_roles(store: Any, community: str) -> list[tuple[str, str, str]]:
    """(account, role, title) of a community as the store holds them, by account: what a test reads back."""
    async with store.db.reader.execute(
        "SELECT account, role, title FROM community_roles WHERE community = ? ORDER BY account", (community,)
    ) as cur:
        return [(str(r[0]), str(r[1]), str(r[2])) for r in await cur.fetchall()]
