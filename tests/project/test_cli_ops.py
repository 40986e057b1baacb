"""Running it as a service: --version, settings from the environment with no config file (an empty
Docker volume), check-config naming bad variables, healthcheck, and ingest saying what it does."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.metadata
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.bot_harness import TOKEN
from tests.fakes.chain_gen import build_vote_vops
from tests.fakes.discord import FakeDiscord
from tests.fakes.hive import FakeHiveNode, load_seed_fixture
from tests.helpers import SEED, SEED_FIRST, SEED_LAST, cli_command, cli_env, cursor_of, hivecord, write_config


def run_in(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real CLI started in ``folder`` with only these HIVECORD_ variables: an empty volume."""
    return subprocess.run(
        cli_command(*args), cwd=folder, env=cli_env(**env), capture_output=True, text=True, timeout=120, check=False
    )


def test_version_prints_the_package_version() -> None:
    result = hivecord("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"hivecord {importlib.metadata.version('hivecord')}"


def test_check_config_with_no_file_takes_defaults_and_the_environment(tmp_path: Path) -> None:
    result = run_in(
        tmp_path,
        "check-config",
        HIVECORD_HIVE__COMMUNITIES="hive-158489,hive-123456",
        HIVECORD_DELIVERY__REQUESTS_PER_SECOND="40",
    )
    assert result.returncode == 0, result.stderr
    assert "no config file" in result.stdout and "OK" in result.stdout
    assert "HIVECORD_HIVE__COMMUNITIES" in result.stdout and "HIVECORD_DELIVERY__REQUESTS_PER_SECOND" in result.stdout
    assert f"database: {tmp_path / 'hivecord.sqlite3'}" in result.stdout


def test_check_config_names_bad_variables_by_name(tmp_path: Path) -> None:
    config = write_config(tmp_path, ["http://127.0.0.1:9"])
    result = run_in(
        tmp_path,
        "check-config",
        "--config",
        str(config),
        HIVECORD_DELIVERY__REQUESTS_PER_SECOND="60",
        HIVECORD_HIVE__BATCH_SIZE="lots",
        HIVECORD_HIVE__COMUNITIES="hive-158489",
    )
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert any(
        line.startswith("HIVECORD_DELIVERY__REQUESTS_PER_SECOND (delivery.requests_per_second): must be at most 50")
        for line in lines
    ), result.stderr
    assert any(line.startswith("HIVECORD_HIVE__BATCH_SIZE (hive.batch_size): expected an integer") for line in lines)
    assert any(
        "HIVECORD_HIVE__COMUNITIES: unknown setting (did you mean HIVECORD_HIVE__COMMUNITIES?)" in x for x in lines
    )
    assert "3 problem(s)" in result.stderr


def test_check_config_refuses_more_than_discords_50_requests_a_second(tmp_path: Path) -> None:
    config = write_config(tmp_path, ["http://127.0.0.1:9"], extra="[delivery]\nrequests_per_second = 51\n")
    result = hivecord("check-config", "--config", str(config))
    assert result.returncode == 1
    assert "delivery.requests_per_second: must be at most 50" in result.stderr
    assert "Discord's global limit" in result.stderr


def test_healthcheck(tmp_path: Path) -> None:
    # No database yet (the bot has not started): unhealthy, one line.
    result = run_in(tmp_path, "healthcheck")
    assert result.returncode == 1 and "no database" in result.stderr
    # A bad setting: unhealthy too, naming it.
    assert run_in(tmp_path, "healthcheck", HIVECORD_HIVE__BATCH_SIZE="0").returncode == 1
    db = tmp_path / "hivecord.sqlite3"
    db.write_bytes(b"not a database at all, just some bytes" * 10)
    result = run_in(tmp_path, "healthcheck")
    assert result.returncode == 1 and "cannot be read as a hivecord database" in result.stderr
    db.unlink()

    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    assert run_in(tmp_path, "healthcheck").returncode == 1  # no cursor yet

    def stored(at: dt.datetime) -> None:
        with sqlite3.connect(db) as conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('cursor', '101000120')")
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('cursor_time', ?)", (at.strftime("%Y-%m-%dT%H:%M:%S"),))

    now = dt.datetime.now(dt.UTC)
    stored(now - dt.timedelta(seconds=30))
    result = run_in(tmp_path, "healthcheck", "--max-age", "3600")
    assert result.returncode == 0, result.stderr
    assert "healthy" in result.stdout and "101000120" in result.stdout
    stored(now - dt.timedelta(hours=5))
    assert run_in(tmp_path, "healthcheck").returncode == 0  # no --max-age: a readable database is enough
    result = run_in(tmp_path, "healthcheck", "--max-age", "3600")
    assert result.returncode == 1 and "more than --max-age 3600" in result.stderr


async def test_run_on_an_empty_volume_with_settings_from_the_environment(tmp_path: Path) -> None:
    """`hivecord run` in an empty folder, every setting from HIVECORD_ variables: it follows the chain,
    connects to Discord, writes its database in the folder, and healthcheck says so."""
    blocks, _ = load_seed_fixture(SEED)
    node = FakeHiveNode(blocks, head=SEED_LAST, vops=build_vote_vops(blocks))
    hive_url = node.start_in_thread()
    fake = FakeDiscord(token=TOKEN)
    await fake.start()
    env = {
        "HIVECORD_HIVE__NODES": hive_url,
        "HIVECORD_HIVE__START_BLOCK": str(SEED_FIRST),
        "HIVECORD_HIVE__POLL_INTERVAL": "0.05",
        "HIVECORD_HIVE__REQUEST_TIMEOUT": "2",
        "HIVECORD_DISCORD__API_BASE": fake.url + "/api/v10",
        "HIVECORD_DISCORD__GATEWAY_URL": fake.gateway_url,
    }
    db = tmp_path / "hivecord.sqlite3"
    proc = await asyncio.create_subprocess_exec(
        *cli_command("run"),
        cwd=tmp_path,
        env=cli_env(DISCORD_TOKEN=TOKEN, **env),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await fake.wait_for(lambda: len(fake.gateway.identifies) > 0, timeout=60)
        await fake.wait_for(lambda: (cursor_of(db) or 0) >= SEED_LAST - 1, timeout=60)
        health = await asyncio.to_thread(run_in, tmp_path, "healthcheck", **env)
        assert health.returncode == 0, health.stderr
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 60)
        assert proc.stderr is not None
        log = (await proc.stderr.read()).decode()
        await fake.stop()
        node.stop_thread()
    assert code == 0, log
    assert "no config file" in log and "HIVECORD_HIVE__NODES" in log


def test_ingest_from_block_on_a_store_with_a_cursor_says_where_it_resumes(tmp_path: Path) -> None:
    blocks, _ = load_seed_fixture(SEED)
    with FakeHiveNode(blocks, head=SEED_LAST + 20) as node:
        config = write_config(tmp_path, [node.url])
        first = hivecord(
            "ingest", "--config", str(config), "--from-block", str(SEED_FIRST), "--to-block", str(SEED_FIRST + 10)
        )
        assert first.returncode == 0, first.stderr
        assert "resuming" not in first.stderr  # a new database starts where it is told
        again = hivecord(
            "ingest", "--config", str(config), "--from-block", str(SEED_FIRST + 50), "--to-block", str(SEED_LAST)
        )
    assert again.returncode == 0, again.stderr
    line = next(x for x in again.stderr.splitlines() if "resuming" in x)
    db = tmp_path / "hivecord.sqlite3"
    assert f"{db} already holds blocks up to {SEED_FIRST + 10}" in line
    assert f"resuming at block {SEED_FIRST + 11}, not at --from-block {SEED_FIRST + 50}" in line
    assert "HIVECORD_DATABASE__PATH" in line and f"delete {db}" in line
    assert cursor_of(db) == SEED_LAST


class LineReader:
    """Collects a child's stderr lines in a thread, so a test can wait for a line while it runs."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        self.lines: list[str] = []
        self._stream = proc.stderr
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self._stream:
            self.lines.append(line)

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if predicate(line):
                    return line
            time.sleep(0.05)
        raise AssertionError("no such line in:\n" + "".join(self.lines))

    def join(self) -> str:
        self._thread.join(timeout=30)
        return "".join(self.lines)


def test_ingest_waiting_for_an_irreversible_block_says_so(tmp_path: Path) -> None:
    blocks, _ = load_seed_fixture(SEED)
    target = SEED_LAST + 10
    with FakeHiveNode(blocks, head=SEED_LAST) as node:
        config = write_config(tmp_path, [node.url])
        proc = subprocess.Popen(
            cli_command("ingest", "--config", str(config), "--from-block", str(SEED_FIRST), "--to-block", str(target)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(),
        )
        reader = LineReader(proc)
        try:
            line = reader.wait_for(lambda x: f"waiting for block {target} to become irreversible" in x)
            assert f"last irreversible block {node.irreversible}" in line
            node.head = target + 1  # the chain moves on: the block becomes irreversible
            code = proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        log = reader.join()
    assert code == 0, log
    assert cursor_of(tmp_path / "hivecord.sqlite3") == target


def test_healthcheck_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    from bot.store.store import Store

    # A password in the URL (trust auth ignores it) must never be shown.
    url = pg_url.replace("postgres@", "postgres:sekrit-pw@", 1)
    assert "sekrit-pw" in url
    result = run_in(tmp_path, "healthcheck", HIVECORD_DATABASE__URL=url)
    assert result.returncode == 1 and "cannot be read as a hivecord database" in result.stderr  # no meta table
    assert "sekrit-pw" not in result.stderr + result.stdout

    async def migrate_then_store(cursor: str | None) -> None:
        store = await Store.open(pg_url)
        try:
            if cursor is not None:
                await store.db.set_meta("cursor", cursor)
                await store.db.set_meta("cursor_time", dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"))
        finally:
            await store.close()

    asyncio.run(migrate_then_store(None))
    result = run_in(tmp_path, "healthcheck", HIVECORD_DATABASE__URL=url)
    assert result.returncode == 1 and "no chain cursor" in result.stderr, result.stderr
    asyncio.run(migrate_then_store("101000120"))
    result = run_in(tmp_path, "healthcheck", "--max-age", "3600", HIVECORD_DATABASE__URL=url)
    assert result.returncode == 0, result.stderr
    assert "101000120" in result.stdout and "sekrit-pw" not in result.stdout
    # No server there: unhealthy, one line, still no password.
    result = run_in(tmp_path, "healthcheck", HIVECORD_DATABASE__URL="postgresql://postgres:sekrit-pw@127.0.0.1:9/x")
    assert result.returncode == 1 and "sekrit-pw" not in result.stderr + result.stdout


def test_ingest_on_postgresql_refuses_while_a_bot_follows_the_chain(tmp_path: Path, pg_store_url: str) -> None:
    from bot.store.postgres.coordination import PgCoordination

    async def held_lead() -> PgCoordination:
        leader = PgCoordination(pg_store_url)
        await leader.connect()
        assert await leader.try_lead()
        return leader

    loop = asyncio.new_event_loop()
    try:
        leader = loop.run_until_complete(held_lead())
        result = run_in(tmp_path, "ingest", "--to-block", "5", HIVECORD_DATABASE__URL=pg_store_url)
        assert result.returncode == 1
        assert "another hivecord process follows the chain" in result.stderr, result.stderr
        loop.run_until_complete(leader.close())
    finally:
        loop.close()
