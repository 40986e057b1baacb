"""The real follower, through the real CLI, against the loopback Hive node serving the seed review."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.chain_gen import build_vote_vops
from tests.fakes.hive import FakeHiveNode, load_seed_fixture
from tests.helpers import ANIME_REALM, SEED, SEED_FIRST, SEED_LAST, dump_chain_tables, hivecord, write_config


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, FakeHiveNode]:
    blocks, expected_body = load_seed_fixture(SEED)
    node = FakeHiveNode(blocks, head=SEED_LAST + 20, vops=build_vote_vops(blocks))
    url = node.start_in_thread()
    folder = tmp_path_factory.mktemp("seed")
    config = write_config(folder, [url])
    result = hivecord("ingest", "--config", str(config), "--from-block", str(SEED_FIRST), "--to-block", str(SEED_LAST))
    assert result.returncode == 0, result.stderr
    yield config, expected_body, node
    node.stop_thread()


def search_json(config: Path, query: str) -> list[dict[str, object]]:
    result = hivecord("search", query, "--json", "--config", str(config))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_search_finds_the_review_with_its_series_and_edited_body(seeded: tuple[Path, str, FakeHiveNode]) -> None:
    config, expected_body, _ = seeded
    hits = search_json(config, "metallic rouge")
    assert len(hits) == 1
    review = hits[0]
    assert review["author"] == "alienpunklord"
    assert review["permlink"] == "review-metallic-rouge-mars-machines-and-meaning"
    assert review["community"] == ANIME_REALM
    assert review["series"] == "Metallic Rouge"
    assert review["body"] == expected_body
    assert "It is not perfect" in review["body"]
    assert (
        review["url"]
        == f"https://hive.blog/{ANIME_REALM}/@alienpunklord/review-metallic-rouge-mars-machines-and-meaning"
    )
    assert review["created"] == "2026-11-23T12:00:00"
    assert review["updated"] == "2026-11-23T12:06:00"
    for key in ("title", "tags"):
        assert review[key]


def test_replies_are_not_posts_and_body_mentions_are_not_series(seeded: tuple[Path, str, FakeHiveNode]) -> None:
    config, _, _ = seeded
    tables = dump_chain_tables(config.parent / "hivecord.sqlite3")
    assert len(tables["posts"]) == 1  # the review; none of the four replies
    assert search_json(config, "Interesante propuesta") == []
    assert search_json(config, "Looks so nice") == []
    # Akira is named in the body: the review is found by it, but its series stays Metallic Rouge.
    akira = search_json(config, "akira")
    assert [h["series"] for h in akira] == ["Metallic Rouge"]


def test_votes_badge_and_outbox(seeded: tuple[Path, str, FakeHiveNode]) -> None:
    config, _, _ = seeded
    tables = dump_chain_tables(config.parent / "hivecord.sqlite3")
    votes = {row[1]: row for row in tables["votes"]}
    assert set(votes) == {"animerealm.cur", "reader01", "miguelreads"}
    assert votes["reader01"][2] == 5000
    assert all(row[3] is not None for row in votes.values()), "rshares come from effective_comment_vote"
    (badge,) = tables["badges"]
    recipient, name, image, achievement, next_target = badge[1:6]
    assert recipient == "alienpunklord" and name == "upvotes"
    assert image.startswith("https://hivebuzz.me/@alienpunklord/upvotes.png")
    assert "8000" in achievement and next_target is not None and "9000" in next_target
    kinds = [row[1] for row in tables["outbox"]]
    assert kinds == [
        "post_created", "vote", "vote", "reply_created", "badge", "reply_created", "vote", "reply_created",
        "post_edited",
    ]  # fmt: skip


def test_replies_are_the_conversation_without_the_hivebuzz_notice(seeded: tuple[Path, str, FakeHiveNode]) -> None:
    config, _, _ = seeded
    tables = dump_chain_tables(config.parent / "hivecord.sqlite3")
    (post,) = tables["posts"]
    replies = [(r[1], r[2], r[6][:20]) for r in tables["replies"]]
    assert replies == [
        (post[0], ANIME_REALM, "Hello @alienpunklord"),
        (post[0], "miguelreads", "Interesante propuest"),
        (post[0], "neonwatcher", "Looks so nice. Good "),
    ]


def test_ingest_again_is_a_no_op(seeded: tuple[Path, str, FakeHiveNode]) -> None:
    config, _, _ = seeded
    db = config.parent / "hivecord.sqlite3"
    before = dump_chain_tables(db)
    result = hivecord("ingest", "--config", str(config), "--to-block", str(SEED_LAST))
    assert result.returncode == 0, result.stderr
    assert dump_chain_tables(db) == before


def test_hostile_search_text_answers_normally(seeded: tuple[Path, str, FakeHiveNode]) -> None:
    config, _, _ = seeded
    for query in ['"unbalanced', "NEAR(", "*", "'; DROP TABLE posts; --", "title:mars", "-", "AND OR NOT", "mars*"]:
        result = hivecord("search", query, "--json", "--config", str(config))
        assert result.returncode == 0, (query, result.stderr)
        json.loads(result.stdout)
    assert len(search_json(config, "mars machines")) == 1
    assert len(search_json(config, '"mars, machines"')) == 1
    assert len(search_json(config, "metal*")) == 1
    assert len(search_json(config, "métallic ROUGE")) == 1
