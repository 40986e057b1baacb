"""Blocks to chain events (bot/hive/blocks.py decode_block, bot/hive/events.py EventDecoder)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.hive.blocks import Block, MalformedBlock, decode_block
from bot.hive.events import (
    BadgeAwarded,
    ChainEvent,
    EventDecoder,
    PostCreated,
    PostDeleted,
    PostEdited,
    ReplyCreated,
    VoteCast,
)

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "hive" / "seed" / "anime_realm_review.json"
COMMUNITY = "hive-158489"
AUTHOR = "alienpunklord"
PERMLINK = "review-metallic-rouge"
FIRST = 101000000


def _seed() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SEED.read_text(encoding="utf-8"))
    return data


def _timestamp(num: int) -> str:
    seconds = (num - FIRST) * 3
    return f"2026-11-23T{12 + seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def trx(*ops: Any, num: int = FIRST) -> dict[str, Any]:
    return {
        "ref_block_num": num & 0xFFFF,
        "ref_block_prefix": 1,
        "expiration": _timestamp(num),
        "operations": list(ops),
        "extensions": [],
        "signatures": ["1f" + "0" * 128],
    }


def block(num: int, *transactions: Any, **overrides: Any) -> bytes:
    """A block as block_api.get_block_range gives it (see the seed fixture), as JSON bytes."""
    data: dict[str, Any] = {
        "previous": f"{num - 1:08x}" + "0" * 32,
        "timestamp": _timestamp(num),
        "witness": "blocktrades",
        "transaction_merkle_root": "0" * 40,
        "extensions": [],
        "witness_signature": "1f" + "0" * 128,
        "transactions": list(transactions),
        "block_id": f"{num:08x}" + "0" * 32,
        "signing_key": "STM" + "1" * 50,
        "transaction_ids": [f"{num:08x}{i:032x}" for i in range(len(transactions))],
    }
    data.update(overrides)
    return json.dumps({k: v for k, v in data.items() if v is not ...}).encode()


def comment(
    author: str = AUTHOR,
    permlink: str = PERMLINK,
    *,
    parent_author: str = "",
    parent_permlink: str = COMMUNITY,
    title: str = "Review Metallic Rouge",
    body: str = "A fine show.",
    json_metadata: str = '{"tags": ["anime"]}',
) -> dict[str, Any]:
    return {
        "type": "comment_operation",
        "value": {
            "parent_author": parent_author,
            "parent_permlink": parent_permlink,
            "author": author,
            "permlink": permlink,
            "title": title,
            "body": body,
            "json_metadata": json_metadata,
        },
    }


def vote(
    voter: str = "reader01", author: str = AUTHOR, permlink: str = PERMLINK, weight: Any = 10000
) -> dict[str, Any]:
    return {
        "type": "vote_operation",
        "value": {"voter": voter, "author": author, "permlink": permlink, "weight": weight},
    }


def delete(author: str = AUTHOR, permlink: str = PERMLINK) -> dict[str, Any]:
    return {"type": "delete_comment_operation", "value": {"author": author, "permlink": permlink}}


def run(decoder: EventDecoder, num: int, *ops: Any) -> list[ChainEvent]:
    """One block holding each op in its own transaction, decoded the way the follower does."""
    decoded, dropped = decode_block(block(num, *(trx(op, num=num) for op in ops)))
    assert dropped == 0
    return decoder.decode([decoded])


def new_decoder() -> EventDecoder:
    return EventDecoder({COMMUNITY}, set(), set())


def _notice_body() -> str:
    body: str = _seed()["101000055"]["transactions"][0]["operations"][0]["value"]["body"]
    return body


def notice(recipient: str, permlink: str = "hivebuzz-notify-alienpunklord-20261123t120000") -> dict[str, Any]:
    return comment(
        "hivebuzz",
        permlink,
        parent_author=recipient,
        parent_permlink=PERMLINK,
        title="",
        body=_notice_body().replace("alienpunklord", recipient),
        json_metadata='{"image": ["https://hivebuzz.me/notify.t6.png"]}',
    )


# --------------------------------------------------------------------------------------------
# decode_block


def test_decode_block_well_formed() -> None:
    raw = block(FIRST + 5, trx(comment(), vote()), trx({"type": "transfer_operation", "value": {"amount": "x"}}))
    decoded, dropped = decode_block(raw)
    assert dropped == 0
    assert decoded.number == FIRST + 5
    assert decoded.timestamp == "2026-11-23T12:00:15"
    assert [[op.type for op in t.operations] for t in decoded.transactions] == [
        ["comment_operation", "vote_operation"],
        ["transfer_operation"],
    ]


def test_decode_block_of_the_seed() -> None:
    for key, data in _seed().items():
        if not key.isdigit():
            continue
        decoded, dropped = decode_block(json.dumps(data).encode())
        assert (decoded.number, dropped) == (int(key), 0)


def test_decode_block_without_transactions() -> None:
    decoded, dropped = decode_block(block(FIRST, transactions=...))
    assert (decoded.transactions, dropped) == ([], 0)


def test_decode_block_keeps_good_ops_when_one_op_type_is_not_a_string() -> None:
    bad_op = {"type": 5, "value": {}}
    raw = block(FIRST, trx(comment(), bad_op, vote()), trx(delete()))
    decoded, dropped = decode_block(raw)
    assert dropped == 1
    assert decoded.number == FIRST
    assert [[op.type for op in t.operations] for t in decoded.transactions] == [
        ["comment_operation", "vote_operation"],
        ["delete_comment_operation"],
    ]


def test_decode_block_drops_transactions_that_are_not_objects_and_broken_ops() -> None:
    raw = block(
        FIRST,
        trx(comment()),
        "not a transaction",
        42,
        {"operations": "not a list"},
        trx(["comment", {"author": "condenser-shaped"}], {"type": "vote_operation"}, vote()),
    )
    decoded, dropped = decode_block(raw)
    # Three transactions and two ops lost; both good ops stay in their transactions.
    assert dropped == 5
    assert [[op.type for op in t.operations] for t in decoded.transactions] == [
        ["comment_operation"],
        ["vote_operation"],
    ]
    events = new_decoder().decode([decoded])
    assert [type(e) for e in events] == [PostCreated, VoteCast]


@pytest.mark.parametrize(
    "raw",
    [
        block(FIRST, trx(vote()), block_id=...),
        block(FIRST, trx(vote()), block_id=""),
        block(FIRST, trx(vote()), block_id="zz"),
        block(FIRST, trx(vote()), block_id="0x123456"),
        block(FIRST, trx(vote()), block_id=12345678),
        block(FIRST, trx(vote()), timestamp=...),
        block(FIRST, "broken", block_id=...),  # lenient path too
        block(FIRST, "broken", block_id="nothex00"),
        b"[]",
        b"null",
        b"{not json",
        b'{"block_id": "05f5e100", "timestamp": "t", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    ],
)
def test_decode_block_without_a_usable_id_raises(raw: bytes) -> None:
    with pytest.raises(MalformedBlock):
        decode_block(raw)


# --------------------------------------------------------------------------------------------
# EventDecoder: posts, edits, deletes, votes


def test_a_community_post_is_created_and_becomes_live() -> None:
    decoder = new_decoder()
    events = run(decoder, FIRST, comment(body="Body one", json_metadata="{}"))
    assert events == [
        PostCreated(
            FIRST, "2026-11-23T12:00:00", AUTHOR, PERMLINK, COMMUNITY, "Review Metallic Rouge", "Body one", "{}"
        )
    ]
    assert (AUTHOR, PERMLINK) in decoder.live_posts
    assert AUTHOR in decoder.authors


def test_the_same_key_again_is_an_edit() -> None:
    decoder = new_decoder()
    run(decoder, FIRST, comment())
    events = run(decoder, FIRST + 40, comment(title="New title", body="@@ -1,3 +1,3 @@\n-A f\n+A g\n"))
    assert events == [
        PostEdited(
            FIRST + 40,
            _timestamp(FIRST + 40),
            AUTHOR,
            PERMLINK,
            "New title",
            "@@ -1,3 +1,3 @@\n-A f\n+A g\n",
            '{"tags": ["anime"]}',
        )
    ]


def test_a_post_and_its_edit_in_one_block() -> None:
    events = run(new_decoder(), FIRST, comment(), comment(body="second"))
    assert [type(e) for e in events] == [PostCreated, PostEdited]


def test_a_reply_is_conversation_not_a_post() -> None:
    decoder = new_decoder()
    run(decoder, FIRST, comment())
    events = run(decoder, FIRST + 1, comment("reader01", "re-review", parent_author=AUTHOR, parent_permlink=PERMLINK))
    assert [type(e) for e in events] == [ReplyCreated]
    assert ("reader01", "re-review") not in decoder.live_posts


def test_a_reply_to_an_unknown_post_is_nothing() -> None:
    events = run(new_decoder(), FIRST, comment("reader01", "re-x", parent_author="someone", parent_permlink="x"))
    assert events == []


def test_a_post_in_another_community_is_nothing() -> None:
    decoder = new_decoder()
    assert (
        run(decoder, FIRST, comment(parent_permlink="hive-100000"), comment("bob", "p", parent_permlink="anime")) == []
    )
    assert decoder.live_posts == set()
    assert decoder.authors == set()


def test_votes_count_only_on_live_posts() -> None:
    decoder = new_decoder()
    run(decoder, FIRST, comment())
    events = run(
        decoder, FIRST + 3, vote("animerealm.cur", weight=10000), vote("x", permlink="unknown"), vote(weight=0)
    )
    assert events == [
        VoteCast(FIRST + 3, _timestamp(FIRST + 3), "animerealm.cur", AUTHOR, PERMLINK, 10000),
        VoteCast(FIRST + 3, _timestamp(FIRST + 3), "reader01", AUTHOR, PERMLINK, 0),
    ]


def test_a_vote_on_an_unknown_post_is_nothing() -> None:
    assert run(new_decoder(), FIRST, vote()) == []


def test_delete_then_vote_then_reuse() -> None:
    decoder = new_decoder()
    run(decoder, FIRST, comment())
    assert run(decoder, FIRST + 10, delete()) == [PostDeleted(FIRST + 10, _timestamp(FIRST + 10), AUTHOR, PERMLINK)]
    assert (AUTHOR, PERMLINK) not in decoder.live_posts
    assert run(decoder, FIRST + 11, vote(), delete()) == []
    # The permlink may be used again: a new post, not an edit of the deleted one.
    events = run(decoder, FIRST + 20, comment(body="again"))
    assert [type(e) for e in events] == [PostCreated]
    assert isinstance(events[0], PostCreated) and events[0].body == "again"
    assert [type(e) for e in run(decoder, FIRST + 21, vote())] == [VoteCast]


def test_delete_of_an_unknown_post_is_nothing() -> None:
    assert run(new_decoder(), FIRST, delete()) == []


def test_seeded_live_post_is_edited_even_outside_the_communities() -> None:
    decoder = EventDecoder({COMMUNITY}, {(AUTHOR, PERMLINK)}, {AUTHOR})
    events = run(decoder, FIRST, comment(parent_permlink="hive-100000"))
    assert [type(e) for e in events] == [PostEdited]


# --------------------------------------------------------------------------------------------
# EventDecoder: HiveBuzz badges


def test_a_hivebuzz_notice_to_a_known_author_is_a_badge() -> None:
    decoder = new_decoder()
    run(decoder, FIRST, comment())
    events = run(decoder, FIRST + 55, notice(AUTHOR))
    assert len(events) == 1
    award = events[0]
    assert isinstance(award, BadgeAwarded)
    assert award.notice == "hivebuzz-notify-alienpunklord-20261123t120000"
    assert award.block_num == FIRST + 55
    assert award.badge.recipient == AUTHOR
    assert award.badge.image_url.startswith(f"https://hivebuzz.me/@{AUTHOR}/")


def test_a_hivebuzz_notice_to_a_seeded_author_is_a_badge() -> None:
    decoder = EventDecoder({COMMUNITY}, set(), {"reader01"})
    events = run(decoder, FIRST, notice("reader01", "hivebuzz-notify-reader01-1"))
    assert [type(e) for e in events] == [BadgeAwarded]


def test_a_hivebuzz_notice_to_an_unknown_author_is_nothing() -> None:
    decoder = new_decoder()
    run(decoder, FIRST, comment())
    assert run(decoder, FIRST + 1, notice("stranger", "hivebuzz-notify-stranger-1")) == []


@pytest.mark.parametrize(
    "op",
    [
        # Not hivebuzz, or not a notify permlink, or no badge in the body.
        {**notice(AUTHOR), "value": {**notice(AUTHOR)["value"], "author": "hivebuzz2"}},
        {**notice(AUTHOR), "value": {**notice(AUTHOR)["value"], "permlink": "re-alienpunklord-1"}},
        {**notice(AUTHOR), "value": {**notice(AUTHOR)["value"], "body": "Thanks for your post!"}},
    ],
)
def test_other_hivebuzz_comments_are_nothing(op: dict[str, Any]) -> None:
    decoder = EventDecoder({COMMUNITY}, set(), {AUTHOR})
    assert run(decoder, FIRST, op) == []


# --------------------------------------------------------------------------------------------
# EventDecoder: malformed op values


@pytest.mark.parametrize(
    "op",
    [
        vote(weight="abc"),
        vote(weight=1.5),
        vote(weight=None),
        vote(weight=10**30),
        vote(weight=10001),
        vote(weight=-10001),
        {"type": "vote_operation", "value": {"voter": "a", "author": AUTHOR, "permlink": PERMLINK}},
        {"type": "vote_operation", "value": [1, 2]},
        {"type": "vote_operation", "value": "vote"},
        {"type": "comment_operation", "value": ["comment", {}]},
        {"type": "comment_operation", "value": {"author": AUTHOR, "permlink": PERMLINK}},
        {"type": "comment_operation", "value": {**comment()["value"], "parent_author": 5}},
        {"type": "comment_operation", "value": {**comment()["value"], "title": ["x"]}},
        {"type": "comment_operation", "value": {**notice(AUTHOR)["value"], "body": 7}},
        {"type": "delete_comment_operation", "value": None},
        {"type": "delete_comment_operation", "value": {"author": AUTHOR}},
    ],
)
def test_a_malformed_op_is_skipped_and_counted(op: dict[str, Any]) -> None:
    decoder = EventDecoder({COMMUNITY}, set(), {AUTHOR})
    events = run(decoder, FIRST, op, comment("bob", "fine-post"))
    # The malformed op is counted; the good post after it still comes through.
    assert decoder.skipped_ops == 1
    assert [type(e) for e in events] == [PostCreated]


def test_malformed_ops_are_counted_across_blocks() -> None:
    decoder = new_decoder()
    run(decoder, FIRST, comment())
    events = run(decoder, FIRST + 1, vote(weight="abc"), vote(), {"type": "vote_operation", "value": []}, delete())
    assert [type(e) for e in events] == [VoteCast, PostDeleted]
    assert decoder.skipped_ops == 2


def test_ops_that_do_not_matter_are_not_decoded() -> None:
    decoder = new_decoder()
    ops = [
        {"type": "custom_json_operation", "value": [1, 2, 3]},
        {"type": "transfer_operation", "value": "anything"},
        {"type": "comment_options_operation", "value": None},
    ]
    assert run(decoder, FIRST, *ops) == []
    assert decoder.skipped_ops == 0


# --------------------------------------------------------------------------------------------
# the seed, end to end


def test_the_seed_blocks_give_the_expected_events() -> None:
    seed = _seed()
    blocks: list[Block] = []
    for key in sorted(k for k in seed if k.isdigit()):
        decoded, dropped = decode_block(json.dumps(seed[key]).encode())
        assert dropped == 0
        blocks.append(decoded)
    decoder = new_decoder()
    events = decoder.decode(blocks)
    assert [(type(e).__name__, e.block_num) for e in events] == [
        ("PostCreated", 101000000),
        ("VoteCast", 101000003),
        ("VoteCast", 101000003),
        ("ReplyCreated", 101000040),
        ("BadgeAwarded", 101000055),
        ("ReplyCreated", 101000060),
        ("VoteCast", 101000061),
        ("ReplyCreated", 101000080),
        ("PostEdited", 101000120),
    ]
    assert decoder.skipped_ops == 0
    created = events[0]
    assert isinstance(created, PostCreated)
    assert created.community == COMMUNITY
    assert created.author == AUTHOR
    assert [e.voter for e in events if isinstance(e, VoteCast)] == ["animerealm.cur", "reader01", "miguelreads"]
