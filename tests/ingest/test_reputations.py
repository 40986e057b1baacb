"""Authors' reputations for `min_reputation` filters, on the real store and a loopback node: read in bulk,
once a day per author; a node that will not tell leaves them unknown with one log line, never an error."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.domain import Badge, FeedFilter
from bot.hive.client import HiveClient
from bot.hive.events import BadgeAwarded
from bot.hive.rpc import RpcError
from bot.ingest.reputations import learn_new_authors, learn_reputations
from bot.store.store import Store
from tests.fakes.hive import FakeHiveNode, hive_account

GET_ACCOUNTS = "condenser_api.get_accounts"


@pytest.fixture
async def world(db_location: Path | str) -> AsyncIterator[tuple[FakeHiveNode, HiveClient, Store]]:
    node = FakeHiveNode({})
    node.accounts["writer01"] = hive_account("writer01", [], reputation=10**12)  # score 52
    node.accounts["newbie01"] = hive_account("newbie01", [])  # score 25
    url = node.start_in_thread()
    store = await Store.open(db_location)
    try:
        async with HiveClient([url], timeout=2.0) as hive:
            yield node, hive, store
    finally:
        await store.close()
        node.stop_thread()


async def facts(store: Store) -> dict[str, float]:
    async with store.db.reader.execute("SELECT account, reputation FROM account_facts") as cur:
        return {r[0]: r[1] for r in await cur.fetchall()}


async def test_read_in_bulk_once_a_day(world: tuple[FakeHiveNode, HiveClient, Store]) -> None:
    node, hive, store = world
    await learn_reputations(hive, store, ["writer01", "newbie01", "writer01", "nosuch01"])
    assert await facts(store) == {"writer01": 52.0, "newbie01": 25.0}
    assert node.calls[GET_ACCOUNTS] == 1
    await learn_reputations(hive, store, ["writer01", "newbie01"])
    assert node.calls[GET_ACCOUNTS] == 1  # fresh: nothing asked
    async with store.db.write() as conn:
        await conn.execute("UPDATE account_facts SET read_at = '2020-01-01T00:00:00+00:00' WHERE account = 'newbie01'")
    node.accounts["newbie01"] = hive_account("newbie01", [], reputation=10**11)  # score 43 now
    await learn_reputations(hive, store, ["writer01", "newbie01"])
    assert node.calls[GET_ACCOUNTS] == 2 and (await facts(store))["newbie01"] == pytest.approx(43.0)


async def test_a_node_that_will_not_tell_leaves_them_unknown_with_one_line(
    world: tuple[FakeHiveNode, HiveClient, Store], caplog: pytest.LogCaptureFixture
) -> None:
    node, hive, store = world

    def refuse(_answer: Any) -> Any:
        raise RpcError(-32601, "Could not find method get_accounts")

    node.tamper[GET_ACCOUNTS] = refuse
    with caplog.at_level(logging.WARNING):
        await learn_reputations(hive, store, ["writer01", "newbie01"])
    assert await facts(store) == {}
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1 and "pass min_reputation" in lines[0], lines


async def test_a_badges_recipient_is_read_while_a_feed_filters_by_reputation(
    world: tuple[FakeHiveNode, HiveClient, Store],
) -> None:
    _node, hive, store = world
    badge = Badge("newbie01", "posts", "https://hivebuzz.me/@newbie01/posts.png", "50 posts.", None)
    events = [BadgeAwarded(1, "2026-12-01T00:00:00", "hivebuzz-notify-newbie01-1", badge)]
    await learn_new_authors(hive, store, events)
    assert await facts(store) == {}  # no feed asks about reputation: nothing read
    await store.feeds.upsert_feed(
        guild_id=7, channel_id=5, community="hive-158489", posts=True, votes="off", curators=(), badges=True,
        role_id=None, created_by=1, at="x", feed_filter=FeedFilter(min_reputation=40.0),
    )  # fmt: skip
    await learn_new_authors(hive, store, events)
    assert await facts(store) == {"newbie01": 25.0}
