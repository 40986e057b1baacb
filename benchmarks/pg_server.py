"""A PostgreSQL the test command can start itself, measured: the `pgserver` wheel's server for issue 20.

Starts PostgreSQL from the wheel's binaries in a temp dir (as this user; as root, as `nobody`, since
postgres refuses to run as root), on 127.0.0.1 and a unix socket at once, and times initdb, start-up,
a fresh database cloned from a template (what each test would get), and its drop; then how soon
another process holds the follower's advisory lock once its holder is SIGKILLed; then
`pgserver.get_server` itself (its unix-socket server and its clean-up). `benchmarks/pg_drivers.py`
starts its server with the same class. Needs the optional extra: `pip install -e '.[postgres]'`;
without it, says so and exits 0.

    python benchmarks/pg_server.py [--no-fsync]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

try:
    import asyncpg
    import pgserver
    from pgserver._commands import POSTGRES_BIN_PATH
except ImportError as missing:  # the optional extra is not installed
    asyncpg = pgserver = None
    MISSING: str | None = str(missing)
else:
    MISSING = None

# The tables the driver benchmark works on; here, the template each fresh database is cloned from.
SCHEMA = [
    "CREATE TABLE posts (id BIGINT PRIMARY KEY, author TEXT NOT NULL, permlink TEXT NOT NULL, title TEXT NOT NULL,"
    " body TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE jobs (id BIGINT PRIMARY KEY, channel_id BIGINT NOT NULL, state TEXT NOT NULL,"
    " claimed_by TEXT, lease_until DOUBLE PRECISION)",
]


class Server:
    """A PostgreSQL from the wheel's binaries, owned by this benchmark."""

    def __init__(self, base: Path, durable: bool = True) -> None:
        self.data, self.sockets = base / "data", base / "sock"
        self.durable = durable
        self.user: str | None = "nobody" if os.geteuid() == 0 else None
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.version = subprocess.check_output([str(POSTGRES_BIN_PATH / "postgres"), "--version"], text=True).split()[
            -1
        ]

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([str(POSTGRES_BIN_PATH / tool), *args], check=True, capture_output=True, user=self.user)

    def initdb(self) -> None:
        for folder in (self.data, self.sockets):
            folder.mkdir()
            if self.user:
                shutil.chown(folder, self.user)
        self._run("initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres", "--encoding=UTF8", "--no-sync")

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.sockets}"
        if not self.durable:  # as the tests would run it: their data need not survive a power cut
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-w", "-o", options, "-l", str(self.data / "log"), "start")

    def stop(self, mode: str) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", mode, "stop")

    def url(self, db: str, unix: bool = False) -> str:
        if unix:
            return f"postgresql://postgres@/{db}?host={self.sockets}&port={self.port}"
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"


def timed(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


async def atimed(work: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await work()
    return time.perf_counter() - started


async def server_figures(server: Server) -> None:
    print(f"PostgreSQL {server.version} from pgserver {version('pgserver')}, as {server.user or 'this user'}")
    print(f"  initdb                        {timed(server.initdb):6.2f} s")
    print(f"  start (pg_ctl -w)             {timed(server.start):6.2f} s")
    admin = await asyncpg.connect(server.url("postgres"))
    await admin.execute("CREATE DATABASE template_hc")
    tpl = await asyncpg.connect(server.url("template_hc"))
    for statement in SCHEMA:
        await tpl.execute(statement)
    await tpl.close()
    spent = []
    for n in range(10):
        spent.append(await atimed(lambda n=n: admin.execute(f"CREATE DATABASE t{n} TEMPLATE template_hc")))
    print(f"  CREATE DATABASE .. TEMPLATE   {min(spent) * 1000:6.1f} ms best, {max(spent) * 1000:.1f} ms worst of 10")
    spent = [await atimed(lambda n=n: admin.execute(f"DROP DATABASE t{n}")) for n in range(10)]
    print(f"  DROP DATABASE                 {min(spent) * 1000:6.1f} ms best, {max(spent) * 1000:.1f} ms worst of 10")
    await admin.close()


def pgserver_figures(base: Path) -> None:
    started = time.perf_counter()
    handle = pgserver.get_server(base / "pgserver", cleanup_mode="delete")
    up = time.perf_counter() - started
    print(f"pgserver.get_server (initdb + start, unix socket only) {up:.2f} s: {handle.get_uri()}")
    print(
        f"  its cleanup (pg_ctl -w stop, delete)  {timed(handle.cleanup):.2f} s;"
        f" data dir left: {(base / 'pgserver').exists()}"
    )


HOLDER = """
import asyncio, sys
import asyncpg
async def hold():
    conn = await asyncpg.connect(sys.argv[1])
    assert await conn.fetchval("SELECT pg_try_advisory_lock(20)")
    print("held", flush=True)
    await asyncio.sleep(600)
asyncio.run(hold())
"""


async def election_takeover(url: str) -> float:
    """Seconds from SIGKILL of the process holding the follower's advisory lock to another taking it."""
    holder = await asyncio.create_subprocess_exec(sys.executable, "-c", HOLDER, url, stdout=asyncio.subprocess.PIPE)
    assert holder.stdout is not None
    assert (await asyncio.wait_for(holder.stdout.readline(), 30)).strip() == b"held"
    other = await asyncpg.connect(url)
    assert not await other.fetchval("SELECT pg_try_advisory_lock(20)"), "two processes held the lock"
    started = time.perf_counter()
    holder.kill()
    await holder.wait()
    for _ in range(2000):  # polled every 5 ms, for at most ~10 s (the bound)
        if await other.fetchval("SELECT pg_try_advisory_lock(20)"):
            break
        await asyncio.sleep(0.005)
    else:
        raise AssertionError("the lock was not released within ~10 s of its holder's death")
    spent = time.perf_counter() - started
    await other.close()
    return spent


async def run(durable: bool, base: Path) -> None:
    server = Server(base, durable=durable)
    try:
        await server_figures(server)
        takeover = await election_takeover(server.url("postgres"))
        print(f"  advisory lock: its holder SIGKILLed, another process holds it {takeover * 1000:.1f} ms later")
    finally:
        server.stop("fast")
        shutil.rmtree(base, ignore_errors=True)
    pg_base = Path(tempfile.mkdtemp(prefix="hc-pgs-"))
    try:
        pgserver_figures(pg_base)
    finally:
        shutil.rmtree(pg_base, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-fsync", action="store_true", help="as the tests would run it (fsync off)")
    args = parser.parse_args()
    if MISSING:
        print(f"skipped: {MISSING}; install the optional extra: pip install -e '.[postgres]'")
        return
    if os.geteuid() == 0:
        pwd.getpwnam("nobody")  # postgres runs as this user when we are root
    base = Path(tempfile.mkdtemp(prefix="hc-pg-"))
    base.chmod(0o755)  # postgres runs as nobody when we are root
    asyncio.run(run(not args.no_fsync, base))


if __name__ == "__main__":
    main()
