"""/roles set at once many times, on the real store and a loopback node: the per-server cap holds, a
community's list is read once for all of them, and a failed read is not repeated by every caller."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.hive import facts
from bot.hive.client import HiveClient
from bot.services import Refused
from bot.services.roles import FACTS_FRESH_SECONDS, RoleService
from bot.store.store import Store
from tests.bot_harness import ANIME_REALM_INFO
from tests.fakes.hive import FakeHiveNode
from tests.helpers import ANIME_REALM

GUILD = 10
LIST_SUBSCRIBERS, GET_COMMUNITY = "bridge.list_subscribers", "bridge.get_community"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def world(db_location: Path | str) -> AsyncIterator[tuple[FakeHiveNode, HiveClient, Store]]:
    subscribers = {ANIME_REALM: [[f"fan{i:02d}", "guest", "", "2026-01-01T00:00:00"] for i in range(5)]}
    node = FakeHiveNode({}, communities={ANIME_REALM: ANIME_REALM_INFO}, subscribers=subscribers)
    url = node.start_in_thread()
    store = await Store.open(db_location)
    try:
        async with HiveClient([url], timeout=2.0) as hive:
            yield node, hive, store
    finally:
        await store.close()
        node.stop_thread()


def service(store: Store, hive: HiveClient, *, max_rules: int = 3, clock: Clock | None = None) -> RoleService:
    return RoleService(store, hive, lambda: None, recheck_seconds=3600, max_rules=max_rules, clock=clock or Clock())


async def set_subscriber_rule(roles: RoleService, role_id: int) -> bool:
    """True when stored, False when refused by the cap."""
    try:
        await roles.set_rule(
            guild_id=GUILD, role_id=role_id, kind="subscriber", community=ANIME_REALM, min_reputation=None, created_by=1
        )
    except Refused as refused:
        assert "already has 3 role rules" in str(refused), refused
        return False
    return True


async def test_ten_at_once_keep_the_cap_and_read_the_community_once(
    world: tuple[FakeHiveNode, HiveClient, Store],
) -> None:
    node, hive, store = world
    roles = service(store, hive)
    stored = await asyncio.gather(*(set_subscriber_rule(roles, 100 + i) for i in range(10)))
    assert sum(stored) == 3 and len(await store.roles.rules_of_guild(GUILD)) == 3
    assert (node.calls[LIST_SUBSCRIBERS], node.calls[GET_COMMUNITY]) == (1, 1)
    async with store.db.reader.execute("SELECT count(*) FROM community_facts") as cur:
        row = await cur.fetchone()
    assert row is not None and row[0] == 5


async def test_a_failed_read_is_not_repeated_by_every_set_until_it_is_stale(
    world: tuple[FakeHiveNode, HiveClient, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    node, hive, store = world
    monkeypatch.setattr(facts, "DEADLINE", 0.3)  # a node that does not answer is given up on quickly
    clock = Clock()
    roles = service(store, hive, max_rules=25, clock=clock)
    node.down = True
    first = await roles.set_rule(
        guild_id=GUILD, role_id=1, kind="team", community=ANIME_REALM, min_reputation=None, created_by=1
    )
    assert first.created and not first.facts_read
    node.down = False  # the node is back, but the failure is still fresh: no one asks it yet
    again = await roles.set_rule(
        guild_id=GUILD, role_id=2, kind="team", community=ANIME_REALM, min_reputation=None, created_by=1
    )
    assert again.created and not again.facts_read and node.calls[GET_COMMUNITY] == 0
    clock.now += FACTS_FRESH_SECONDS
    later = await roles.set_rule(
        guild_id=GUILD, role_id=3, kind="team", community=ANIME_REALM, min_reputation=None, created_by=1
    )
    assert later.facts_read and node.calls[GET_COMMUNITY] == 1


async def test_a_capped_server_is_answered_in_the_singular_and_plural(
    world: tuple[FakeHiveNode, HiveClient, Store],
) -> None:
    _node, hive, store = world
    roles = service(store, hive, max_rules=1)
    await roles.set_rule(guild_id=GUILD, role_id=1, kind="linked", community=None, min_reputation=None, created_by=1)
    with pytest.raises(Refused, match=r"already has 1 role rule, the most"):
        await roles.set_rule(
            guild_id=GUILD, role_id=2, kind="linked", community=None, min_reputation=None, created_by=1
        )
