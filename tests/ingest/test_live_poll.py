"""Live: the follower asks for the next block in the same round trip as the head once it is due (a
block's interval after the head was seen), and keeps it only once that same answer says it is
irreversible."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bot_harness import ANIME_REALM_INFO, comment_block
from tests.fakes.hive import FakeHiveNode
from tests.helpers import ANIME_REALM, cursor_of, dump_chain_tables, popen_hivecord, wait_until, write_config

HEAD = 70_000_000
DGP = "database_api.get_dynamic_global_properties"
RANGE = "block_api.get_block_range"
VOPS = "account_history_api.enum_virtual_ops"
HEAD_POLL = (DGP, RANGE, VOPS)


def review(i: int) -> dict[str, object]:
    return comment_block(f"reviewer{i}", f"live-{i}", f"Live review {i}", f"Body {i}.", "{}")


@pytest.fixture
def node() -> Iterator[FakeHiveNode]:
    node = FakeHiveNode({}, head=HEAD, communities={ANIME_REALM: ANIME_REALM_INFO})
    node.start_in_thread()
    yield node
    node.stop_thread()


def polls_since(node: FakeHiveNode, mark: int) -> int:
    return sum(1 for methods in node.request_log[mark:] if methods == HEAD_POLL)


def posts(db: Path) -> list[tuple[object, ...]]:
    return [row for row in dump_chain_tables(db)["posts"]]


def test_live_block_comes_with_the_head_and_only_once_irreversible(node: FakeHiveNode, tmp_path: Path) -> None:
    config = write_config(tmp_path, [node.url])
    db = tmp_path / "hivecord.sqlite3"
    proc = popen_hivecord("ingest", "--config", str(config))
    try:
        # Caught up at the head: every poll is one request carrying the head, the next block and its votes.
        wait_until(lambda: polls_since(node, 0) >= 2, timeout=60)
        # A review at the head: served by block_api, but not irreversible yet.
        node.add_blocks({HEAD + 1: review(1)})
        mark = len(node.request_log)
        wait_until(lambda: polls_since(node, mark) >= 5, timeout=60)
        assert cursor_of(db) == HEAD and posts(db) == []  # the block below it is final, it is not
        # The next head makes it irreversible: it is stored from the poll that said so.
        mark = len(node.request_log)
        node.head = HEAD + 2
        wait_until(lambda: (cursor_of(db) or 0) >= HEAD + 1, timeout=60)
        assert [p for p in posts(db) if "live-1" in p], posts(db)
        after = node.request_log[mark:]
        # No block range or vote details asked on their own: the head poll brought them.
        assert all(methods == HEAD_POLL or (RANGE not in methods and VOPS not in methods) for methods in after), after
        # The head moves again at once, sooner than a block's interval after the last: until the next
        # block is due the polls ask for the head alone, and the one that sees it final asks again
        # at once with the block. Still no block range of its own.
        mark = len(node.request_log)
        node.add_blocks({HEAD + 2: review(2)})
        node.head = HEAD + 3
        wait_until(lambda: (cursor_of(db) or 0) >= HEAD + 2, timeout=60)
        after = node.request_log[mark:]
        assert [p for p in posts(db) if "live-2" in p], posts(db)
        assert all(methods == HEAD_POLL or (RANGE not in methods and VOPS not in methods) for methods in after), after
        # And at once: the head poll that saw the block final is followed by the one that brings it, not by
        # a run of head polls until the block would have been due.
        assert HEAD_POLL in after and after.index(HEAD_POLL) <= 3, after[:10]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err, err


def test_live_on_a_flaky_node_stores_the_same_as_a_healthy_one(node: FakeHiveNode, tmp_path: Path) -> None:
    flaky = FakeHiveNode({}, head=HEAD, communities={ANIME_REALM: ANIME_REALM_INFO}, fault_rate=0.3, hang_seconds=2.0)
    flaky.start_in_thread()
    try:
        stores = []
        for name, n in (("healthy", node), ("flaky", flaky)):
            folder = tmp_path / name
            folder.mkdir()
            config = write_config(folder, [n.url], request_timeout=1.0)
            proc = popen_hivecord("ingest", "--config", str(config), "--from-block", str(HEAD - 1))
            try:
                db = folder / "hivecord.sqlite3"
                wait_until(lambda: polls_since(n, 0) >= 1, timeout=60)  # noqa: B023
                for i in range(1, 6):
                    n.add_blocks({HEAD + 2 * i - 1: review(i)})
                    n.head = HEAD + 2 * i  # one review block, one empty block over it
                    wait_until(lambda: (cursor_of(db) or 0) >= n.irreversible, timeout=60)  # noqa: B023
            finally:
                proc.send_signal(signal.SIGTERM)
                _, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            stores.append(dump_chain_tables(db))
        assert sum(flaky.faults.values()) >= 2, flaky.faults
        assert stores[0] == stores[1]
        assert len(stores[0]["posts"]) == 5
    finally:
        flaky.stop_thread()


def test_a_next_block_that_does_not_link_to_the_last_is_fetched_again(node: FakeHiveNode, tmp_path: Path) -> None:
    config = write_config(tmp_path, [node.url])
    db = tmp_path / "hivecord.sqlite3"
    proc = popen_hivecord("ingest", "--config", str(config))
    try:
        wait_until(lambda: polls_since(node, 0) >= 1, timeout=60)
        node.head = HEAD + 2  # block HEAD+1 is stored from a poll: its id is the one the next must name
        wait_until(lambda: (cursor_of(db) or 0) >= HEAD + 1, timeout=60)
        live = len(node.request_log)
        wait_until(lambda: polls_since(node, live) >= 1, timeout=60)  # caught up again: polling with the head
        # The next block names another block as its parent (what a poll split across two nodes, one
        # on a fork, could bring): the poll's copy is not kept, the block is asked for on its own.
        block = review(2)
        block["previous"] = "f" * 40
        node.add_blocks({HEAD + 2: block})
        mark = len(node.request_log)
        node.head = HEAD + 3
        wait_until(lambda: (cursor_of(db) or 0) >= HEAD + 2, timeout=60)
        alone = [m for m in node.request_log[mark:] if m == (RANGE,)]
        assert alone, node.request_log[mark:]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
