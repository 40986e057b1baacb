"""The suite's own PostgreSQL (tests/pg.py): each test gets a fresh empty database, the server answers on
127.0.0.1 only, and a SIGKILLed pytest does not leave its server running."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests import pg

ROOT = Path(__file__).resolve().parents[2]


async def connect(url: str):  # type: ignore[no-untyped-def]
    asyncpg = pytest.importorskip("asyncpg")
    return await asyncpg.connect(url, timeout=60)


async def user_tables(url: str) -> list[str]:
    conn = await connect(url)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return [row["tablename"] for row in rows]
    finally:
        await conn.close()


async def test_each_database_is_fresh_empty_and_its_own(pg_url: str) -> None:
    assert await user_tables(pg_url) == []
    conn = await connect(pg_url)
    await conn.execute("CREATE TABLE mine (x INTEGER)")
    await conn.close()

    other = pg.new_database()
    try:
        assert other != pg_url
        assert await user_tables(other) == [], "a second database saw the first one's table"
        assert await user_tables(pg_url) == ["mine"]
    finally:
        pg.drop_database(other)
    admin = await connect(pg.pg_admin_url())
    try:
        names = {row["datname"] for row in await admin.fetch("SELECT datname FROM pg_database")}
    finally:
        await admin.close()
    assert other.rsplit("/", 1)[1] not in names, "drop_database left the database behind"
    assert pg_url.rsplit("/", 1)[1] in names


async def test_the_server_answers_on_127_0_0_1_only(pg_url: str) -> None:
    assert pg_url.startswith("postgresql://postgres@127.0.0.1:")
    conn = await connect(pg_url)
    try:
        assert await conn.fetchval("SHOW listen_addresses") == "127.0.0.1"
        assert await conn.fetchval("SHOW unix_socket_directories") == ""
        rules = await conn.fetch("SELECT type, address FROM pg_hba_file_rules")
        assert [(r["type"], r["address"]) for r in rules] == [("host", "127.0.0.1")]
        assert await conn.fetchval("SHOW fsync") == "off"
    finally:
        await conn.close()
    port = int(pg_url.rsplit(":", 1)[1].split("/")[0])
    # Another loopback address reaches this machine but not the server (refused, or unroutable off Linux).
    with pytest.raises(OSError):
        await asyncio.wait_for(asyncio.open_connection("127.0.0.2", port), 10)


OWNER = """
import sys
from tests import pg
server = pg.Server(pg.binaries())
print(server.start(), server.base, flush=True)
sys.stdin.read()
"""


async def test_a_killed_pytest_leaves_no_server_behind() -> None:
    if pg.missing():
        pytest.skip(f"no PostgreSQL for the tests: {pg.missing()}")
    owner = await asyncio.create_subprocess_exec(
        sys.executable, "-c", OWNER, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert owner.stdout is not None
        url, base = (await asyncio.wait_for(owner.stdout.readline(), 120)).decode().split()
        assert await user_tables(url) == []  # it runs
    finally:
        os.kill(owner.pid, signal.SIGKILL)
        await owner.wait()
    for _ in range(600):  # the watchdog looks once a second; up to 60 s on a busy box
        if not await asyncio.to_thread(Path(base).exists):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the server's dir outlived its killed owner by 60 s")
    with pytest.raises(OSError):
        await connect(url)
