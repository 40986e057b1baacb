"""What a post's raw fields mean (bot/hive/content.py): edits, metadata, tags, cover image, series."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from diff_match_patch import diff_match_patch

from bot.hive.content import MAX_TAG_LEN, MAX_TAGS, cover_image, describe_post, read_metadata, read_tags
from bot.hive.edits import apply_edit

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "hive" / "seed" / "anime_realm_review.json"


def _seed() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SEED.read_text(encoding="utf-8"))
    return data


def _seed_comment(block: str) -> dict[str, Any]:
    op: dict[str, Any] = _seed()[block]["transactions"][0]["operations"][0]
    assert op["type"] == "comment_operation"
    value: dict[str, Any] = op["value"]
    return value


# --------------------------------------------------------------------------------------------
# apply_edit: the body after an edit


def test_an_edit_applies_the_seed_patch() -> None:
    original = _seed_comment("101000000")["body"]
    patch = _seed_comment("101000120")["body"]
    assert patch.startswith("@@ -")
    merged = apply_edit(original, patch).body
    assert merged == _seed()["expected_edited_body"]
    assert merged != original


def test_an_edit_applies_a_made_patch() -> None:
    dmp = diff_match_patch()
    old = "First paragraph.\n\nIt might not be perfect, but it is mine.\n\nLast line."
    new = "First paragraph.\n\nIt is not perfect, and it is mine.\n\nLast line, edited."
    patch = dmp.patch_toText(dmp.patch_make(old, new))
    assert apply_edit(old, patch).body == new


def test_an_edit_full_text_edit_replaces() -> None:
    assert apply_edit("old body", "a whole new body").body == "a whole new body"


def test_an_edit_empty_edit_keeps() -> None:
    assert apply_edit("old body", "").body == "old body"


@pytest.mark.parametrize(
    "incoming",
    [
        "@@ not a patch at all",
        "@@ -1,3 +1,3 @@\n*abc\n",  # invalid mode character
        "@@ -x,y +1 @@\n-a\n",
        "@@ \n",
    ],
)
def test_an_edit_invalid_patch_is_full_text(incoming: str) -> None:
    assert apply_edit("old body", incoming).body == incoming


def test_an_edit_patch_that_does_not_apply_keeps_the_body() -> None:
    stored = "a" * 40
    patch = "@@ -1,14 +1,14 @@\n-qwertyuiopzxcv\n+mnbvcxzlkjhgfd\n"
    assert apply_edit(stored, patch).body == stored


def test_an_edit_patch_against_an_empty_body_does_not_raise() -> None:
    patch = _seed_comment("101000120")["body"]
    assert isinstance(apply_edit("", patch).body, str)


def test_an_edit_text_that_only_mentions_patches_is_full_text() -> None:
    body = "Not a patch: @@ -1,3 +1,3 @@ appears mid-text"
    assert apply_edit("old", body).body == body


# --------------------------------------------------------------------------------------------
# read_metadata


@pytest.mark.parametrize(
    "raw", ["", "{not json", "[1,2]", "null", '"str"', "42", "true", "{", "[" * 5000 + "]" * 5000, "\x00"]
)
def test_read_metadata_non_objects_are_empty(raw: str) -> None:
    assert read_metadata(raw) == {}


def test_read_metadata_object() -> None:
    assert read_metadata('{"tags": ["anime"], "image": ["https://x.example/a.png"], "app": "peakd"}') == {
        "tags": ["anime"],
        "image": ["https://x.example/a.png"],
        "app": "peakd",
    }


def test_read_metadata_nested_object_in_depth() -> None:
    expected: list[Any] = []
    for _ in range(49):
        expected = [expected]
    assert read_metadata('{"a": ' + "[" * 50 + "]" * 50 + "}") == {"a": expected}


# --------------------------------------------------------------------------------------------
# read_tags


def test_read_tags_keeps_strings_lowercased_in_order_without_duplicates() -> None:
    metadata = {"tags": ["Anime", "anime", " REVIEW ", 5, None, ["x"], {"t": 1}, "", "   ", "bones", "ANIME"]}
    assert read_tags(metadata) == ("anime", "review", "bones")


def test_read_tags_drops_community_ids() -> None:
    metadata = {"tags": ["hive-158489", "hive-12345", "HIVE-1234567", "anime", "hive-1234", "hive-12345678", "hive"]}
    # Only "hive-" + 5 to 7 digits is a community id; the rest are ordinary tags.
    assert read_tags(metadata) == ("anime", "hive-1234", "hive-12345678", "hive")


def test_read_tags_from_a_string() -> None:
    assert read_tags({"tags": "anime  review\nanime"}) == ("anime", "review")


@pytest.mark.parametrize("raw", [5, None, {"a": "b"}, 1.5, True])
def test_read_tags_non_list_is_empty(raw: object) -> None:
    assert read_tags({"tags": raw}) == ()


def test_read_tags_missing_is_empty() -> None:
    assert read_tags({}) == ()


def test_read_tags_caps_count() -> None:
    tags = [f"tag{i}" for i in range(40)]
    assert read_tags({"tags": tags}) == tuple(tags[:MAX_TAGS])
    assert MAX_TAGS == 25


def test_read_tags_caps_length() -> None:
    got = read_tags({"tags": ["x" * 100, "y" * MAX_TAG_LEN + "a", "y" * MAX_TAG_LEN + "b"]})
    assert got == ("x" * 64, "y" * 64)
    assert MAX_TAG_LEN == 64


# --------------------------------------------------------------------------------------------
# cover_image

IMG = "https://files.peakd.com/file/cover.jpg"


@pytest.mark.parametrize(
    ("metadata", "body", "expected"),
    [
        ({"image": [IMG, "https://x.example/2.jpg"]}, "", IMG),
        ({"image": IMG}, "", IMG),
        ({"image": [IMG]}, "![other](https://x.example/body.png)", IMG),
        ({"image": 5}, "", None),
        ({"image": {"url": IMG}}, "", None),
        ({"image": []}, f"![c]({IMG})", IMG),
        ({"image": [5]}, f"![c]({IMG})", IMG),
        ({"image": ["javascript:alert(1)"]}, "", None),
        ({"image": ["javascript:alert(1)"]}, f"![c]({IMG})", IMG),
        ({"image": ["http://files.peakd.com/file/cover.jpg"]}, "", None),
        ({"image": ["data:image/png;base64,AAAA"]}, "", None),
        ({"image": ["https://user:pw@evil.example/a.png"]}, "", None),
        ({}, f"Intro text\n\n![cover]({IMG})\n\nmore", IMG),
        ({}, f'![c]( {IMG} "a title")', IMG),
        ({}, f'<p>hi</p><img alt="x" src="{IMG}" width="100">', IMG),
        ({}, f"<IMG data-src='nope' SRC='{IMG}'>", IMG),
        ({}, f"<img src={IMG}>", IMG),
        ({}, f"see {IMG} here", IMG),
        ({}, "see https://x.example/a.JPEG", "https://x.example/a.JPEG"),
        ({}, "a link https://x.example/page then https://x.example/pic.webp", "https://x.example/pic.webp"),
        ({}, "(https://x.example/pic.gif)", "https://x.example/pic.gif"),
        ({}, "https://x.example/pic.png?w=10 only a query", None),
        ({}, "http://x.example/a.png", None),
        ({}, "![c](http://x.example/a.png)", None),
        ({}, "![c](javascript:alert(1))", None),
        ({}, '<img src="javascript:alert(1)">', None),
        ({}, "no images here at all", None),
        ({}, "", None),
    ],
)
def test_cover_image(metadata: dict[str, Any], body: str, expected: str | None) -> None:
    assert cover_image(metadata, body) == expected


@pytest.mark.parametrize("unit", ["![", "<img ", "https://", "![a](", "<img src", "![" + "a" * 498 + "]"])
def test_cover_image_of_a_crafted_body_is_fast(unit: str) -> None:
    body = (unit * (100_000 // len(unit) + 1))[:100_000]
    started = time.process_time()  # CPU time: a busy machine does not slow it
    cover_image({}, body)
    # Linear work is ~10 ms; a backtracking pattern took 4 to 20 s on these bodies.
    assert time.process_time() - started < 1.0


# --------------------------------------------------------------------------------------------
# describe_post


def test_describe_post_on_the_seed() -> None:
    op = _seed_comment("101000000")
    facts = describe_post(op["title"], op["json_metadata"], op["body"], op["parent_permlink"])
    assert facts.series == "Metallic Rouge"
    assert facts.series_key
    assert facts.tags == ("anime", "metallicrouge", "review", "bones")
    assert facts.image == json.loads(op["json_metadata"])["image"][0]
    assert facts.image is not None and facts.image.startswith("https://")


def test_describe_post_of_nothing() -> None:
    facts = describe_post("", "{not json", "", None)
    assert facts.tags == ()
    assert facts.image is None
    assert facts.series is None
    assert facts.series_key is None
