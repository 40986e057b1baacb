"""Shared by every test: nothing outside 127.0.0.1 (see tests/loopback_only), the bot tests' world, and
the session's PostgreSQL (see tests/pg.py)."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.loopback_only.sitecustomize import install

install()

from tests import pg  # noqa: E402
from tests.world import World, seeded_world  # noqa: E402  (after the loopback guard is in place)


def pytest_configure(config: pytest.Config) -> None:
    # The controller (or a -n0 run) starts the one server; xdist workers inherit its URL from the environment.
    if not hasattr(config, "workerinput"):
        pg.start_session_server()


def pytest_unconfigure(config: pytest.Config) -> None:
    pg.finish_worker()
    if not hasattr(config, "workerinput"):
        pg.stop_session_server()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh empty PostgreSQL database for this test, dropped after it (also when the test fails)."""
    url = pg.new_database()
    try:
        yield url
    finally:
        pg.drop_database(url, wait=False)  # behind the next test, on the admin thread


@pytest.fixture(params=["sqlite", "postgresql"])
def db_location(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where a store-level test opens its store (`Store.open(db_location)`): a SQLite file, then a fresh
    PostgreSQL database, so the store's contract runs on both engines (read rows with tests/store_rows)."""
    if request.param == "sqlite":
        return tmp_path / "db.sqlite3"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def world_options() -> dict[str, Any]:
    """What `world` is made with (see tests.world.seeded_world); a test module overrides it to change that."""
    return {}


@pytest.fixture
async def world(tmp_path: Path, world_options: dict[str, Any]) -> AsyncIterator[World]:
    async with seeded_world(tmp_path, **world_options) as made:
        yield made
