"""Shared by every test: nothing outside 127.0.0.1 (see tests/loopback_only), and the bot tests' world."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.loopback_only.sitecustomize import install

install()

from tests.world import World, seeded_world  # noqa: E402  (after the loopback guard is in place)


@pytest.fixture
def world_options() -> dict[str, Any]:
    """What `world` is made with (see tests.world.seeded_world); a test module overrides it to change that."""
    return {}


@pytest.fixture
async def world(tmp_path: Path, world_options: dict[str, Any]) -> AsyncIterator[World]:
    async with seeded_world(tmp_path, **world_options) as made:
        yield made
