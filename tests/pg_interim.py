"""A throwaway PostgreSQL for the coordination tests until the suite's own `pg_url` fixture is on main.

Started as benchmarks/pg_server.py starts it: the pgserver wheel's binaries, as `nobody` when root, on
127.0.0.1 and a free port. One server per test process; a fresh database per test."""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

_server: tuple[Path, int] | None = None
_names = itertools.count()


def _run(tool: str, *args: str) -> None:
    from pgserver._commands import POSTGRES_BIN_PATH

    user = "nobody" if os.geteuid() == 0 else None
    subprocess.run([str(POSTGRES_BIN_PATH / tool), *args], check=True, capture_output=True, user=user)


def _start() -> tuple[Path, int]:
    base = Path(tempfile.mkdtemp(prefix="hc-pg-"))
    data, sock = base / "data", base / "sock"
    for folder in (data, sock):
        folder.mkdir()
        if os.geteuid() == 0:
            shutil.chown(folder, "nobody")
    if os.geteuid() == 0:
        os.chmod(base, 0o755)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _run("initdb", "-D", str(data), "--auth=trust", "-U", "postgres", "--encoding=UTF8", "--no-sync")
    options = f"-h 127.0.0.1 -p {port} -k {sock} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    _run("pg_ctl", "-D", str(data), "-w", "-o", options, "-l", str(data / "log"), "start")

    def stop() -> None:
        _run("pg_ctl", "-D", str(data), "-w", "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)

    atexit.register(stop)
    return base, port


async def fresh_database() -> str:
    pytest.importorskip("pgserver")
    asyncpg = pytest.importorskip("asyncpg")
    global _server
    if _server is None:
        _server = _start()
    port = _server[1]
    name = f"t_{os.getpid()}_{next(_names)}"
    admin = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres")
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    return f"postgresql://postgres@127.0.0.1:{port}/{name}"
