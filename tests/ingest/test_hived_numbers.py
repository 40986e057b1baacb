"""hived writes 64-bit values beyond 32 bits as JSON strings: the follower reads them as numbers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.fakes.chain_gen import build_vote_vops
from tests.fakes.hive import FakeHiveNode, load_seed_fixture
from tests.helpers import SEED, SEED_FIRST, SEED_LAST, hivecord, write_config


def test_vote_details_that_page_on_a_string_operation_id_are_all_stored(tmp_path: Path) -> None:
    blocks, _ = load_seed_fixture(SEED)
    vops = build_vote_vops(blocks)
    expected = {
        (v["op"]["value"]["voter"], v["op"]["value"]["permlink"]): v["op"]["value"]["rshares"]
        for entries in vops.values()
        for v in entries
    }
    assert any(abs(r) > 2**32 for r in expected.values()), "rshares beyond 32 bits travel as strings"
    # One op a page: every page but the last continues with next_operation_begin, a string
    # (operation ids carry the block number in their high 32 bits).
    node = FakeHiveNode(blocks, head=SEED_LAST + 20, vops=vops, vops_page_cap=1)
    url = node.start_in_thread()
    try:
        config = write_config(tmp_path, [url])
        args = ("--from-block", str(SEED_FIRST), "--to-block", str(SEED_LAST))
        # Before the fix the first continued page was a "malformed answer", retried forever.
        result = hivecord("ingest", "--config", str(config), *args, timeout=90)
        assert result.returncode == 0, result.stderr
        assert "malformed" not in result.stderr
        pages = node.calls["account_history_api.enum_virtual_ops"]
    finally:
        node.stop_thread()
    assert pages >= len(expected) > 1, "the vote details came one op a page"
    with sqlite3.connect(tmp_path / "hivecord.sqlite3") as conn:
        stored = dict(
            ((voter, permlink), rshares)
            for voter, permlink, rshares in conn.execute(
                "SELECT v.voter, p.permlink, v.rshares FROM votes v JOIN posts p ON p.id = v.post_id"
            )
        )
    assert stored
    for key, rshares in stored.items():
        assert rshares == expected[key], key
