"""A real PostgreSQL for the tests: one server per pytest session, a fresh empty database per test.

The session's controller (the xdist controller, or a `-n0` run) starts the server in
`pytest_configure` (tests/conftest.py) from the `pgserver` wheel's own binaries, or the system's
`initdb`/`pg_ctl` on PATH when the wheel is missing: in a temp dir, on 127.0.0.1 and a free port only,
trust auth for 127.0.0.1 only, durability off (test data need not survive a power cut). As root it
runs as `nobody`, since postgres refuses root; nothing outside the temp dir is changed. Its admin URL
goes into `PYTEST_HIVECORD_PG`, which the xdist workers inherit. Setting `PYTEST_HIVECORD_PG` to a
superuser's URL before the run uses that server instead.

A SIGKILLed pytest cannot stop its server, so a small watchdog process, started with the server in
its own session, polls for its parent's death (once a second) and then stops the server and removes
the dir.

Tests take `pg_url` (a fixture in tests/conftest.py), or call `new_database()` / `drop_database()` and
`pg_admin_url()` when they need several databases. Without the packages, those tests skip and say why;
a server that failed to start fails them with its log.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

# Not HIVECORD_...: the config refuses any HIVECORD_ variable that is no setting, and tests load configs
# from this process's environment.
URL_ENV = "PYTEST_HIVECORD_PG"
# Set by the controller when it has no server to give: why (a skip) or what went wrong (a failure).
SKIP_ENV = "PYTEST_HIVECORD_PG_SKIP"
ERROR_ENV = "PYTEST_HIVECORD_PG_ERROR"
SETTINGS = [
    "listen_addresses=127.0.0.1",
    "unix_socket_directories=",  # TCP on 127.0.0.1 only; no socket file to outlive the server
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "max_connections=200",  # two workers' bots, each with a pool, plus admin connections
]
HBA = "host all all 127.0.0.1/32 trust\n"
# Runs beside the server: when the pytest that started it is gone (its parent changes), stop and delete.
WATCHDOG = """
import os, shutil, subprocess, sys, time
parent, pg_ctl, data, base, user = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] or None
while os.getppid() == parent:
    time.sleep(1)
subprocess.run([pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"], capture_output=True, user=user)
shutil.rmtree(base, ignore_errors=True)
"""


def binaries() -> Path | None:
    """The folder holding initdb and pg_ctl: the pgserver wheel's (found without importing it), else PATH's."""
    spec = importlib.util.find_spec("pgserver")
    if spec is not None and spec.origin is not None:
        wheel = Path(spec.origin).parent / "pginstall" / "bin"
        if (wheel / "pg_ctl").exists():
            return wheel
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    return None


def missing() -> str | None:
    """Why this machine cannot run the PostgreSQL tests, or None when it can."""
    if importlib.util.find_spec("asyncpg") is None:
        return "asyncpg is not installed: pip install -e '.[test]'"
    if binaries() is None:
        return "no PostgreSQL binaries: pip install -e '.[test]' (the pgserver wheel), or put initdb/pg_ctl on PATH"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """A throwaway PostgreSQL owned by this pytest session."""

    def __init__(self, bin_dir: Path) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="hivecord-pg-"))
        self.data = self.base / "data"
        self.user: str | None = "nobody" if os.geteuid() == 0 else None
        self.bin = bin_dir
        self.port = 0
        self.watchdog: subprocess.Popen[bytes] | None = None
        # The server must not read the developer's PG* settings (a PGDATA, a PGPORT...).
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [str(self.bin / tool), *args],
            capture_output=True,
            text=True,
            user=self.user,
            env=self.env,
            start_new_session=True,  # Ctrl-C in the terminal reaches pytest, which stops the server itself
            check=False,
        )
        if done.returncode:
            log = self.data / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stdout}{done.stderr}{tail}".strip())

    def _reachable_binaries(self) -> None:
        """As root, the binaries run as nobody: a venv under a private home is unreadable, so copy them here."""
        if self.user is None:
            return
        probe = subprocess.run(
            [str(self.bin / "pg_ctl"), "--version"], capture_output=True, user=self.user, check=False
        )
        if probe.returncode == 0:
            return
        install = self.bin.parent
        shutil.copytree(install, self.base / "pginstall", symlinks=True)
        self.bin = self.base / "pginstall" / "bin"

    def start(self) -> str:
        self.base.chmod(0o755)  # mkdtemp makes it 0700; nobody must reach the data dir inside
        self._reachable_binaries()
        self.data.mkdir()
        if self.user:
            shutil.chown(self.data, self.user)
        init = [
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
            "--no-instructions",
        ]
        try:  # C.UTF-8 is the closest to a production server's UTF-8 locale that every glibc has
            self._run("initdb", *init, "--locale=C.UTF-8")
        except RuntimeError:
            shutil.rmtree(self.data)
            self.data.mkdir()
            if self.user:
                shutil.chown(self.data, self.user)
            self._run("initdb", *init, "--locale=C")
        (self.data / "pg_hba.conf").write_text(HBA)  # replaces initdb's, which also trusts ::1 and local
        self._start_watchdog()
        options = " ".join(f"-c {setting}" for setting in SETTINGS)
        for attempt in range(3):  # the free port may be taken between the probe and the bind
            self.port = _free_port()
            try:
                self._run(
                    "pg_ctl",
                    "-D",
                    str(self.data),
                    "-w",
                    "-t",
                    "60",
                    "-l",
                    str(self.data / "log"),
                    "-o",
                    f"{options} -p {self.port}",
                    "start",
                )
                break
            except RuntimeError:
                if attempt == 2:
                    raise
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _start_watchdog(self) -> None:
        self.watchdog = subprocess.Popen(
            [
                sys.executable,
                "-c",
                WATCHDOG,
                str(os.getpid()),
                str(self.bin / "pg_ctl"),
                str(self.data),
                str(self.base),
                self.user or "",
            ],
            start_new_session=True,  # outlives a SIGKILL of pytest's process group
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def pause(self) -> None:
        """Stopped, its data kept, until resume(): every session ends, as when a database goes down."""
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-m", "fast", "stop")

    def resume(self) -> None:
        """Started again on the same port and settings."""
        options = " ".join(f"-c {setting}" for setting in SETTINGS)
        # -l: without it the server writes to pg_ctl's pipes, which then never close.
        log = str(self.data / "log")
        settings = f"{options} -p {self.port}"
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-l", log, "-o", settings, "start")

    def stop(self) -> None:
        if self.watchdog is not None:
            self.watchdog.kill()
            self.watchdog.wait()
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError):  # already gone: nothing to stop
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.base, ignore_errors=True)


_server: Server | None = None


def start_session_server() -> None:
    """pytest_configure, controller only: start the session's server and tell the workers where it is."""
    global _server
    if os.environ.get(URL_ENV):
        return  # a server given from outside, or already started
    reason = missing()
    if reason is not None:
        os.environ[SKIP_ENV] = reason
        return
    bin_dir = binaries()
    assert bin_dir is not None
    _server = Server(bin_dir)
    try:
        os.environ[URL_ENV] = _server.start()
    except Exception as failed:  # the SQLite tests still run; the PostgreSQL ones fail with this
        os.environ[ERROR_ENV] = f"the test PostgreSQL did not start: {failed}"
        _server.stop()
        _server = None


def stop_session_server() -> None:
    """pytest_unconfigure, controller only."""
    global _server
    if _server is not None:
        _server.stop()
        _server = None
        os.environ.pop(URL_ENV, None)


def pg_admin_url() -> str:
    """The server's superuser URL (database `postgres`), or skip / fail the test when there is none."""
    url = os.environ.get(URL_ENV)
    if url:
        return url
    if os.environ.get(ERROR_ENV):
        pytest.fail(os.environ[ERROR_ENV], pytrace=False)
    if os.environ.get("CI"):  # CI installs the test extra: a missing server there is a failure, not a pass
        pytest.fail(f"no PostgreSQL for the tests in CI: {os.environ.get(SKIP_ENV) or missing() or 'not started'}")
    pytest.skip(f"no PostgreSQL for the tests: {os.environ.get(SKIP_ENV) or missing() or 'not started'}")


def url_of(database: str) -> str:
    admin = pg_admin_url()
    return admin[: admin.rindex("/") + 1] + database


async def _admin(*statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(pg_admin_url(), timeout=60)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


_names = itertools.count()
# Per kind (empty, migrated): this process's template, made on first use.
_templates: dict[bool, str] = {}
# One thread does this process's admin work in order: the next test's database is made while this test
# runs (CREATE DATABASE takes 0.1-0.3 s on a busy box) and the last one is dropped behind it.
_admin_thread = ThreadPoolExecutor(1, thread_name_prefix="pg-admin")
_spares: dict[bool, Future[str]] = {}


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


async def _migrate(url: str) -> None:
    import asyncpg

    from bot.store.postgres.migrate import migrate_postgres

    conn = await asyncpg.connect(url, timeout=60)
    try:
        await migrate_postgres(conn)
    finally:
        await conn.close()


def _template(migrated: bool) -> str:
    """On the admin thread: this worker's template of that kind (per worker, so no two workers copy one
    template at once). The migrated one saves each store test the 13 migrations (~0.2 s)."""
    if migrated not in _templates:
        name = f"tpl{'m' if migrated else ''}_{_worker()}"
        asyncio.run(
            _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name} TEMPLATE template0")
        )
        if migrated:
            asyncio.run(_migrate(url_of(name)))
        _templates[migrated] = name
    return _templates[migrated]


def _create(migrated: bool) -> str:
    name = f"t_{_worker()}_{os.getpid()}_{next(_names)}"
    # A migrated template is copied faster file by file than through the WAL (0.44 s against 0.59 under
    # load; the empty one is as fast either way).
    strategy = " STRATEGY FILE_COPY" if migrated else ""
    asyncio.run(_admin(f"CREATE DATABASE {name} TEMPLATE {_template(migrated)}{strategy}"))
    return url_of(name)


def _drop(url: str) -> None:
    asyncio.run(_admin(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)"))


def new_database(*, migrated: bool = False) -> str:
    """A fresh database, empty or with hivecord's schema; its URL. Drop it with drop_database (pg_url and
    pg_store_url do both). The next one of the same kind is made meanwhile."""
    pg_admin_url()  # skip or fail before making anything
    spare = _spares.get(migrated)
    made = spare if spare is not None else _admin_thread.submit(_create, migrated)
    _spares[migrated] = _admin_thread.submit(_create, migrated)
    return made.result()


def drop_database(url: str, wait: bool = True) -> None:
    """Drop a database made by new_database, closing whatever connections a test left open on it."""
    dropped = _admin_thread.submit(_drop, url)
    if wait:
        dropped.result()


def finish_worker() -> None:
    """pytest_unconfigure in every process: drop the spare database (it matters on a server given from outside)."""
    for spare in _spares.values():
        with contextlib.suppress(Exception):
            _drop(spare.result())
    _spares.clear()
    _admin_thread.shutdown(wait=True)
