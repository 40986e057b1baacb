"""Interim: a PostgreSQL for this branch's tests until tests/pg.py's shared `pg_url` fixture is on main.

Delete this module (and its imports in tests/unit/test_pg_*.py) once tests/pg.py lands: its
`pg_url` fixture replaces the one here. The server is the pgserver wheel's, started as
benchmarks/pg_server.py starts it (as `nobody` when root), once per test process.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

asyncpg = pytest.importorskip("asyncpg", reason="PostgreSQL tests need asyncpg: pip install -e '.[test]'")
pgserver_commands = pytest.importorskip("pgserver._commands", reason="PostgreSQL tests need pgserver")

_names = itertools.count()


def _run(user: str | None, tool: str, *args: str) -> None:
    subprocess.run([str(pgserver_commands.POSTGRES_BIN_PATH / tool), *args], check=True, capture_output=True, user=user)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The URL prefix of a throwaway server on 127.0.0.1 (no fsync: test data need not survive)."""
    user = "nobody" if os.geteuid() == 0 else None
    base = Path(tempfile.mkdtemp(prefix="hc-pg-"))
    data, sockets = base / "data", base / "sock"
    for folder in (base, data, sockets):
        folder.mkdir(exist_ok=True)
        if user:
            shutil.chown(folder, user)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # A UTF-8 locale: the full-text parser then knows Unicode (docs/postgresql.md, section 5).
    initdb = ("-D", str(data), "--auth=trust", "-U", "postgres", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")
    _run(user, "initdb", *initdb)
    options = f"-h 127.0.0.1 -p {port} -k {sockets} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    _run(user, "pg_ctl", "-D", str(data), "-w", "-o", options, "-l", str(base / "log"), "start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        _run(user, "pg_ctl", "-D", str(data), "-w", "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
async def pg_url(pg_server: str) -> AsyncIterator[str]:
    """A fresh empty database for one test."""
    name = f"t_{os.getpid()}_{next(_names)}"
    admin = await asyncpg.connect(f"{pg_server}/postgres")
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        yield f"{pg_server}/{name}"
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
    finally:
        await admin.close()
