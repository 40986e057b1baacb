"""An edit of a post the follower never saw created is not a new post (it started at the head)."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from diff_match_patch import diff_match_patch

from tests.fakes.hive import FIXTURES, FakeHiveNode
from tests.helpers import ANIME_REALM, hivecord, write_config

START = 70_000_000
T0 = datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)


def ts(num: int) -> str:
    return (T0 + timedelta(seconds=3 * (num - START))).strftime("%Y-%m-%dT%H:%M:%S")


def comment(author: str, permlink: str, title: str, body: str) -> dict[str, Any]:
    meta = json.dumps({"tags": ["anime", "review"], "app": "peakd/2024.1"})
    return {"type": "comment_operation", "value": {
        "parent_author": "", "parent_permlink": ANIME_REALM, "author": author, "permlink": permlink,
        "title": title, "body": body, "json_metadata": meta}}  # fmt: skip


def vote(voter: str, author: str, permlink: str) -> dict[str, Any]:
    return {
        "type": "vote_operation",
        "value": {"voter": voter, "author": author, "permlink": permlink, "weight": 10000},
    }


def bridge_post(author: str, permlink: str, title: str, body: str, created: str) -> dict[str, Any]:
    """A post as hivemind's bridge.get_post answers, on the shape of a recorded answer."""
    recorded = json.loads((FIXTURES / "real" / "bridge_get_ranked_posts_hive-135485.json").read_text())[0]
    return recorded | {
        "author": author, "permlink": permlink, "title": title, "body": body, "created": created, "updated": created,
        "category": ANIME_REALM, "community": ANIME_REALM, "community_title": "Anime Realm",
        "json_metadata": {"tags": ["anime", "review"], "app": "peakd/2024.1"},
        "url": f"/{ANIME_REALM}/@{author}/{permlink}",
    }  # fmt: skip


OLD_ALICE = "The whole review of Frieren as it reads today, with the ending discussed at length."
OLD_BOB = "Bob's long look back at Mushishi, first posted a month ago."


def patch(old: str, new: str) -> str:
    dmp = diff_match_patch()
    return str(dmp.patch_toText(dmp.patch_make(old, new)))


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FakeHiveNode]:
    ops = {
        # An edit, as a patch, of a post created ten days before the follower started.
        START + 1: [comment("alice", "frieren-review", "Frieren review", patch("draft " + OLD_ALICE, OLD_ALICE))],
        # A full-body re-send of a month-old post.
        START + 2: [comment("bob", "mushishi-look-back", "Mushishi", OLD_BOB)],
        # A new post bridge already shows, created in this very block.
        START + 3: [comment("carol", "new-post", "Dandadan first look", "Carol writes about Dandadan.")],
        # A new post bridge does not show yet (it lags the chain): a full body, so new.
        START + 4: [comment("dave", "brand-new", "Apothecary Diaries", "Dave on the Apothecary Diaries.")],
        # A patch for a post nobody can show: nothing to apply it to, skipped.
        START + 5: [comment("erin", "unknown", "Unknown", patch("some text", "some other text"))],
        # The adopted posts are followed from now on.
        START + 6: [vote("reader01", "alice", "frieren-review")],
        START + 7: [comment("bob", "mushishi-look-back", "Mushishi", OLD_BOB + " Edited once more.")],
    }
    blocks = {n: {"timestamp": ts(n), "transactions": [{"operations": o}]} for n, o in ops.items()}
    posts = [
        bridge_post("alice", "frieren-review", "Frieren review", OLD_ALICE, "2026-11-10T08:00:00"),
        bridge_post("bob", "mushishi-look-back", "Mushishi", OLD_BOB, "2026-10-20T08:00:00"),
        bridge_post("carol", "new-post", "Dandadan first look", "Carol writes about Dandadan.", ts(START + 3)),
    ]
    node = FakeHiveNode(blocks, head=START + 20, posts=posts)
    url = node.start_in_thread()
    folder = tmp_path_factory.mktemp("unseen")
    config = write_config(folder, [url])
    result = hivecord("ingest", "--config", str(config), "--from-block", str(START), "--to-block", str(START + 10))
    assert result.returncode == 0, result.stderr
    yield config, node
    node.stop_thread()


def rows(config: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(config.parent / "hivecord.sqlite3") as conn:
        return conn.execute(sql).fetchall()


def test_only_new_posts_are_announced(ingested: tuple[Path, FakeHiveNode]) -> None:
    config, node = ingested
    announced = rows(
        config, "SELECT p.author FROM outbox o JOIN posts p ON p.id = o.post_id WHERE o.kind = 'post_created'"
    )
    assert sorted(a for (a,) in announced) == ["carol", "dave"]
    assert node.calls["bridge.get_post"] >= 1


def test_an_old_post_is_stored_as_bridge_shows_it(ingested: tuple[Path, FakeHiveNode]) -> None:
    config, _ = ingested
    posts = {a: (body, created) for a, body, created in rows(config, "SELECT author, body, created_at FROM posts")}
    assert set(posts) == {"alice", "bob", "carol", "dave"}, "erin's patch had nothing to apply to"
    assert posts["alice"] == (OLD_ALICE, "2026-11-10T08:00:00"), "bridge's body, not the patch"
    assert posts["bob"] == (OLD_BOB + " Edited once more.", "2026-10-20T08:00:00")
    assert posts["carol"][1] == ts(START + 3)
    # Followed from then on: the vote on alice's post and bob's later edit are kept.
    kinds = rows(config, "SELECT o.kind, p.author FROM outbox o JOIN posts p ON p.id = o.post_id ORDER BY o.id")
    assert ("vote", "alice") in kinds and ("post_edited", "bob") in kinds
    assert ("post_created", "alice") not in kinds and ("post_created", "bob") not in kinds


def test_an_adopted_post_is_searchable(ingested: tuple[Path, FakeHiveNode]) -> None:
    config, _ = ingested
    result = hivecord("search", "frieren ending", "--json", "--config", str(config))
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert [h["author"] for h in hits] == ["alice"]
