"""hivemind's mock blocks through the real follower: community posts kept, replies and others not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.hive import FakeHiveNode, load_mock_blocks
from tests.helpers import FIXTURES, dump_chain_tables, hivecord, write_config

MOCK = FIXTURES / "hive" / "hivemind-mock"
FOLLOWED = ("hive-135485", "hive-198723")


def expected_live_posts(blocks: dict[int, dict]) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    """An independent reading of the blocks: top-level posts of the followed communities, less deletes."""
    live: set[tuple[str, str]] = set()
    for number in sorted(blocks):
        for trx in blocks[number]["transactions"]:
            for op in trx["operations"]:
                value = op["value"]
                key = (value.get("author"), value.get("permlink"))
                if op["type"] == "comment_operation" and value["parent_author"] == "":
                    if value["parent_permlink"] in FOLLOWED:
                        live.add(key)
                elif op["type"] == "delete_comment_operation":
                    live.discard(key)
    return live


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, dict]]:  # type: ignore[type-arg]
    blocks = load_mock_blocks(MOCK / "community_blocks.json")
    first, last = min(blocks), max(blocks)
    node = FakeHiveNode(blocks, head=last + 1)
    url = node.start_in_thread()
    try:
        folder = tmp_path_factory.mktemp("mock")
        config = write_config(folder, [url], communities=FOLLOWED)
        result = hivecord("ingest", "--config", str(config), "--from-block", str(first), "--to-block", str(last))
        assert result.returncode == 0, result.stderr
    finally:
        node.stop_thread()
    return config, blocks


def test_the_followed_communities_posts_and_only_those(ingested) -> None:  # type: ignore[no-untyped-def]
    config, blocks = ingested
    posts = dump_chain_tables(config.parent / "hivecord.sqlite3")["posts"]
    live = {(row[1], row[2]) for row in posts if not row[16]}  # column 16: deleted
    expected = expected_live_posts(blocks)
    assert expected and live == expected
    assert {row[3] for row in posts} <= set(FOLLOWED)


def test_search_returns_json_with_every_field(ingested) -> None:  # type: ignore[no-untyped-def]
    config, _ = ingested
    result = hivecord("search", "*", "--json", "--limit", "50", "--config", str(config))
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert hits
    for hit in hits:
        assert set(hit) >= {
            "author",
            "permlink",
            "community",
            "title",
            "series",
            "tags",
            "url",
            "created",
            "updated",
            "body",
        }
        assert hit["community"] in FOLLOWED
