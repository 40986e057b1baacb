"""The communities' roles read from the fake node's bridge.list_community_roles by the real client into the
real SQLite file: one call a community when its list fits a page; a node that errors or answers nonsense
costs one log line each time, the old list is kept and the next read waits longer; a setRole seen on
chain brings a read soon after."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.hive.blocks import decode_block
from bot.hive.client import HiveClient
from bot.hive.events import EventDecoder
from bot.ingest.community_roles import CommunityRoles
from bot.ingest.ledger import apply_events
from bot.store.chain_writer import ChainWriter
from bot.store.moderation import PATIENCE, RoleOp
from bot.store.store import Store
from tests.fakes.chain_gen import mute_post_op, set_role_op
from tests.fakes.hive import FakeHiveNode
from tests.helpers import stored_roles
from tests.unit.test_events import FIRST, block, comment, trx

COMMUNITY = "hive-158489"
METHOD = "bridge.list_community_roles"
ROLES = [[COMMUNITY, "owner", ""], ["mod01", "mod", "Moderator"], ["spam01", "muted", ""], ["reader01", "guest", ""]]


def node_with(roles: list[list[str]]) -> FakeHiveNode:
    return FakeHiveNode({}, head=1, community_roles={COMMUNITY: roles})


async def test_roles_are_read_in_one_call_and_paged_only_past_a_thousand(db_location: Path | str) -> None:
    many = [[f"member{i:05d}", "member", ""] for i in range(1500)] + [["spam01", "muted", ""]]
    store = await Store.open(db_location)
    try:
        async with node_with(ROLES) as node, HiveClient([node.url], backoff_base=0.01) as hive:
            roles = CommunityRoles(store, hive, lambda: [COMMUNITY], refresh_seconds=900)
            assert await roles.refresh(COMMUNITY)
            assert node.calls[METHOD] == 1
            # A guest without a title is not listed, as hivemind does not list one.
            assert await stored_roles(store, COMMUNITY) == [
                (COMMUNITY, "owner", ""), ("mod01", "mod", "Moderator"), ("spam01", "muted", ""),
            ]  # fmt: skip
            assert await store.moderation.roles_read_at(COMMUNITY) is not None
            node.community_roles[COMMUNITY] = many
            assert await roles.refresh(COMMUNITY)
            assert node.calls[METHOD] == 3  # 1000, then the rest: the muted, listed last, are not lost
            stored = await stored_roles(store, COMMUNITY)
            assert len(stored) == 1501 and ("spam01", "muted", "") in stored
    finally:
        await store.close()


NONSENSE: list[tuple[str, Any]] = [
    ("not a list", lambda result: {"roles": result}),
    ("a row without a role", lambda result: [*result, ["spam02"]]),
    ("an unknown role", lambda result: [[row[0], "overlord", ""] for row in result]),
]


@pytest.mark.parametrize("fault", ["nonsense", "rpc error", "down"])
async def test_a_failing_node_keeps_the_old_list_and_backs_off(
    db_location: Path | str, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = await Store.open(db_location)
    try:
        # The client's own backoff stays short: the node is healthy again at the end.
        async with node_with(ROLES) as node, HiveClient([node.url], backoff_base=0.01, backoff_max=0.05) as hive:
            roles = CommunityRoles(
                store, hive, lambda: [COMMUNITY], refresh_seconds=0.8, retry_first=0.1, deadline=0.5
            )
            assert await roles.refresh(COMMUNITY)
            before = await stored_roles(store, COMMUNITY)
            caplog.clear()
            caplog.set_level(logging.WARNING, logger="hivecord.moderation")
            for attempt in range(5):
                if fault == "nonsense":
                    node.tamper[METHOD] = NONSENSE[attempt % len(NONSENSE)][1]
                elif fault == "rpc error":
                    node.community_roles.pop(COMMUNITY, None)  # "community not found"
                else:
                    node.down = True
                assert not await roles.refresh(COMMUNITY)
                assert await stored_roles(store, COMMUNITY) == before
            lines = [r.getMessage() for r in caplog.records if r.name == "hivecord.moderation"]
            assert len(lines) == 5, lines  # one line per failed read
            assert all(f"could not read the roles of {COMMUNITY}" in line for line in lines), lines
            # The waits double from the first and stop at the period.
            waits = [line.rsplit("trying again in ", 1)[1] for line in lines]
            assert waits == ["0.1 s", "0.2 s", "0.4 s", "0.8 s", "0.8 s"], waits
            assert 0 < await roles._due_in(COMMUNITY) <= 0.8
            # Healthy again: read, the backoff forgotten.
            node.tamper.clear()
            node.down = False
            node.community_roles[COMMUNITY] = [*ROLES, ["spam02", "muted", ""]]
            assert await roles.refresh(COMMUNITY)
            assert ("spam02", "muted", "") in await stored_roles(store, COMMUNITY)
            assert await roles._due_in(COMMUNITY) > 0.5
    finally:
        await store.close()


async def test_a_set_role_seen_brings_one_read_soon_after(db_location: Path | str) -> None:
    store = await Store.open(db_location)
    try:
        async with node_with(ROLES) as node, HiveClient([node.url], backoff_base=0.01) as hive:
            roles = CommunityRoles(store, hive, lambda: [COMMUNITY], refresh_seconds=3600, after_role_op=0.05)
            task = asyncio.create_task(roles.run())
            try:
                await _wait(lambda: node.calls[METHOD] == 1)
                node.community_roles[COMMUNITY] = [*ROLES, ["later01", "muted", ""]]
                # Many setRole ops in a few batches: one read.
                for _ in range(5):
                    roles.role_ops_seen([RoleOp(COMMUNITY, "later01", "muted", time.time())])
                await _wait(lambda: node.calls[METHOD] >= 2)
                for _ in range(2000):  # the answer is written just after the node counted the call
                    if ("later01", "muted", "") in await stored_roles(store, COMMUNITY):
                        break
                    await asyncio.sleep(0.01)
                assert ("later01", "muted", "") in await stored_roles(store, COMMUNITY)
                # not followed: the loop reads only what it follows
                roles.role_ops_seen([RoleOp("hive-999999", "later01", "muted", time.time())])
            finally:
                roles.stop()
                await asyncio.wait_for(task, 10)
            assert node.calls[METHOD] == 2
    finally:
        await store.close()


async def _wait(condition: Any, ceiling: float = 20.0) -> None:
    """Polls until `condition()`; the ceiling fails the test, it is never what is waited for."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(ceiling):
            while not condition():  # noqa: ASYNC110  (the node counts calls; it has no event to await)
                await asyncio.sleep(0.01)
    assert condition()


async def _apply(store: Store, decoder: EventDecoder, num: int, at: float, *ops: Any) -> list[RoleOp]:
    """One block of `ops` at unix time `at` through the real decoder and ledger, as the follower writes
    it; returns the setRoles applied (what the follower tells the roles' refresh)."""
    stamp = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    decoded, _ = decode_block(block(num, *(trx(op, num=num) for op in ops), timestamp=stamp))
    events = decoder.decode([decoded])
    applied: list[RoleOp] = []

    def write(tx: ChainWriter) -> None:
        apply_events(tx, events)
        tx.set_cursor(num, decoded.timestamp)
        applied[:] = tx.moderation.roles_set

    await store.chain_batch(write)
    return applied


async def test_a_set_role_hivemind_has_not_listed_yet_survives_a_read(db_location: Path | str) -> None:
    store = await Store.open(db_location)
    decoder = EventDecoder({COMMUNITY}, set(), set(), claims_until=lambda: "")
    try:
        async with node_with(ROLES) as node, HiveClient([node.url], backoff_base=0.01) as hive:
            roles = CommunityRoles(store, hive, lambda: [COMMUNITY], refresh_seconds=3600, after_role_op=20)
            assert await roles.refresh(COMMUNITY)
            now = time.time()
            # The owner makes newmod01 a mod; hivemind lags and still lists the old roles when read.
            promote = set_role_op(COMMUNITY, COMMUNITY, "newmod01", "mod")
            ops = await _apply(store, decoder, FIRST, now, comment(), promote)
            assert ops == [RoleOp(COMMUNITY, "newmod01", "mod", ops[0].set_at)]
            roles.role_ops_seen(ops)
            assert await roles.refresh(COMMUNITY)
            assert ("newmod01", "mod", "") in await stored_roles(store, COMMUNITY)
            assert 0 < await roles._due_in(COMMUNITY) <= 20  # read again soon, until hivemind agrees
            # So the fresh mod's mutePost is honoured.
            mute = mute_post_op("newmod01", COMMUNITY, "alienpunklord", "review-metallic-rouge", "off topic")
            await _apply(store, decoder, FIRST + 1, now, mute)
            assert await store.moderation.mute_notes(1) == "off topic"
            # hivemind agrees: the op is settled; a later list without it (hivemind demoted them) wins.
            node.community_roles[COMMUNITY] = [*ROLES, ["newmod01", "mod", ""]]
            assert await roles.refresh(COMMUNITY)
            node.community_roles[COMMUNITY] = ROLES
            assert await roles.refresh(COMMUNITY)
            assert "newmod01" not in {a for a, _, _ in await stored_roles(store, COMMUNITY)}
            # A setRole from a block older than hivemind's lag (a catch-up) is never kept over its list.
            old = await _apply(store, decoder, FIRST + 2, now - PATIENCE - 60,
                               set_role_op(COMMUNITY, COMMUNITY, "oldmod01", "mod"))  # fmt: skip
            roles.role_ops_seen(old)
            assert await roles.refresh(COMMUNITY)
            assert "oldmod01" not in {a for a, _, _ in await stored_roles(store, COMMUNITY)}
    finally:
        await store.close()
