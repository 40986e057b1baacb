"""Reading the values a node sends (bot/hive/blocks.py, bot/ingest/newposts.py): garbage is None, never an exception."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from bot.hive.blocks import INT64, UINT64, format_asset, read_int, salvage_block, valid_time
from bot.hive.events import PostAdopted, PostCreated
from bot.ingest.newposts import judge_new_post


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5, 5),
        ("16083132105098217", 16083132105098217),  # hived's string form above 2**32
        ("-243060534000", -243060534000),
        ("--5", None),
        ("9" * 5000, None),
        ("1_000", None),
        (" 5", None),
        ("\u0661\u0662", None),  # Arabic-Indic digits: int() would take them
        (True, None),
        (1.5, None),
        ([1], None),
        (None, None),
        (2**63, None),
    ],
)
def test_read_int(value: object, expected: int | None) -> None:
    assert read_int(value, INT64) == expected


def test_read_int_bounds() -> None:
    assert read_int(str(2**64 - 1), UINT64) == 2**64 - 1
    assert read_int(-1, UINT64) is None


@pytest.mark.parametrize(
    ("asset", "expected"),
    [
        ({"amount": "9135", "precision": 3, "nai": "@@000000013"}, "9.135 HBD"),
        ({"amount": "-5", "precision": 3, "nai": "@@000000021"}, "-0.005 HIVE"),
        ({"amount": "12", "precision": 0, "nai": "@@000000021"}, "12 HIVE"),
        ("0.002 HBD", "0.002 HBD"),
        ({"amount": "--5", "precision": 3, "nai": "@@000000013"}, None),
        ({"amount": "9" * 5000, "precision": 3, "nai": "@@000000013"}, None),
        ({"amount": "5", "precision": "3", "nai": "@@000000013"}, None),
        ({"amount": "5", "precision": 3, "nai": 13}, None),
        ({"amount": "5", "precision": 99, "nai": "@@000000013"}, None),
        ({"amount": 5}, None),
        ("x" * 5000, None),
        ("--5 HBD", None),
        ([1, 2], None),
        (None, None),
    ],
)
def test_format_asset(asset: Any, expected: str | None) -> None:
    assert format_asset(asset) == expected


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2026-11-23T12:00:00", True),
        ("2026-13-45T99:99:99", False),
        ("2026-11-23 12:00:00", False),
        ("2026-11-23T12:00:00Z", False),
        (12345, False),
        ("", False),
        (None, False),
    ],
)
def test_valid_time(value: object, ok: bool) -> None:
    assert valid_time(value) is ok


def block(**fields: Any) -> bytes:
    base: dict[str, Any] = {"block_id": f"{1000:08x}" + "ab" * 16, "timestamp": "2026-11-23T12:00:00"}
    return msgspec.json.encode(base | fields)


OP = {"type": "vote_operation", "value": {"voter": "a", "author": "b", "permlink": "c", "weight": 100}}


@pytest.mark.parametrize(
    ("raw", "timestamp", "ops"),
    [
        (block(timestamp="2026-13-45T99:99:99", transactions=[{"operations": [OP]}]), "2026-11-23T11:59:57", 1),
        (block(block_id=42, timestamp=7, transactions=[{"operations": [OP, {"type": 5}]}]), "2026-11-23T11:59:57", 1),
        (block(block_id="zz" * 20, transactions=[{"operations": [OP]}]), "2026-11-23T12:00:00", 1),
        (block(transactions="garbage"), "2026-11-23T12:00:00", 0),
        (b"42", "2026-11-23T11:59:57", 0),
        (block(block_id=f"{999:08x}" + "00" * 16, transactions=[{"operations": [OP]}]), "2026-11-23T11:59:57", 0),
    ],
)
def test_salvage_block_keeps_what_can_be_read(raw: bytes, timestamp: str, ops: int) -> None:
    salvaged, problem = salvage_block(raw, 1000, "2026-11-23T11:59:57")
    assert salvaged.number == 1000 and problem
    assert salvaged.timestamp == timestamp
    assert sum(len(t.operations) for t in salvaged.transactions) == ops


AT = "2026-11-23T12:00:00"


def created(body: str) -> PostCreated:
    return PostCreated(1000, AT, "alice", "p", "hive-158489", "Title", body, "{}")


def bridge(created_at: str, **fields: Any) -> dict[str, Any]:
    post = {"author": "alice", "permlink": "p", "title": "Now", "body": "Full body now", "created": created_at}
    return post | {"json_metadata": {"tags": ["anime"]}} | fields


PATCH = "@@ -1,4 +1,4 @@\n-old\n+new\n"


def test_new_when_bridge_says_created_in_this_block_or_does_not_know_it() -> None:
    assert judge_new_post(created("Full text"), bridge(AT)) == created("Full text")
    assert judge_new_post(created("Full text"), None) == created("Full text")
    # A permlink reused after a delete: bridge shows the later post.
    assert judge_new_post(created("Full text"), bridge("2026-11-30T00:00:00")) == created("Full text")


def test_a_patch_nobody_can_show_is_skipped() -> None:
    assert judge_new_post(created(PATCH), None) is None
    assert judge_new_post(created(PATCH), bridge("nonsense")) is None
    assert judge_new_post(created(PATCH), bridge("2026-11-10T00:00:00", body=5)) is None
    assert judge_new_post(created(PATCH), bridge("2026-11-10T00:00:00", author="mallory")) is None


@pytest.mark.parametrize("body", [PATCH, "A full re-send of the old text"])
def test_an_old_post_is_adopted_as_bridge_shows_it(body: str) -> None:
    adopted = judge_new_post(created(body), bridge("2026-11-10T00:00:00"))
    assert isinstance(adopted, PostAdopted)
    assert (adopted.title, adopted.body, adopted.created) == ("Now", "Full body now", "2026-11-10T00:00:00")
    assert adopted.json_metadata == '{"tags": ["anime"]}'
    assert (adopted.block_num, adopted.timestamp, adopted.community) == (1000, AT, "hive-158489")
