"""The communities' roles read from the fake node's bridge.list_community_roles by the real client into the
real SQLite file: one call a community when its list fits a page; a node that errors or answers nonsense
costs one log line each time, the old list is kept and the next read waits longer; a setRole seen on
chain brings a read soon after."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

import pytest

from bot.hive.client import HiveClient
from bot.ingest.community_roles import CommunityRoles
from bot.store.store import Store
from tests.fakes.hive import FakeHiveNode
from tests.helpers import stored_roles

COMMUNITY = "hive-158489"
METHOD = "bridge.list_community_roles"
ROLES = [[COMMUNITY, "owner", ""], ["mod01", "mod", "Moderator"], ["spam01", "muted", ""], ["reader01", "guest", ""]]


def node_with(roles: list[list[str]]) -> FakeHiveNode:
    return FakeHiveNode({}, head=1, community_roles={COMMUNITY: roles})


async def test_roles_are_read_in_one_call_and_paged_only_past_a_thousand(tmp_path: Path) -> None:
    many = [[f"member{i:05d}", "member", ""] for i in range(1500)] + [["spam01", "muted", ""]]
    store = await Store.open(tmp_path / "db.sqlite3")
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
    tmp_path: Path, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = await Store.open(tmp_path / "db.sqlite3")
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


async def test_a_set_role_seen_brings_one_read_soon_after(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        async with node_with(ROLES) as node, HiveClient([node.url], backoff_base=0.01) as hive:
            roles = CommunityRoles(store, hive, lambda: [COMMUNITY], refresh_seconds=3600, after_role_op=0.05)
            task = asyncio.create_task(roles.run())
            try:
                await _wait(lambda: node.calls[METHOD] == 1)
                node.community_roles[COMMUNITY] = [*ROLES, ["later01", "muted", ""]]
                # Many setRole ops in a few batches: one read.
                for _ in range(5):
                    roles.role_ops_seen({COMMUNITY})
                await _wait(lambda: node.calls[METHOD] >= 2)
                for _ in range(2000):  # the answer is written just after the node counted the call
                    if ("later01", "muted", "") in await stored_roles(store, COMMUNITY):
                        break
                    await asyncio.sleep(0.01)
                assert ("later01", "muted", "") in await stored_roles(store, COMMUNITY)
                roles.role_ops_seen({"hive-999999"})  # not followed: the loop reads only what it follows
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
