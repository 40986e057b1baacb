"""Garbage from a node (garbled assets, bad times, wrong types in any field the follower reads) never
stalls the chain: with a good node beside it the good answers win; as the only node, what cannot be
read is skipped and the follower goes on to store the later blocks."""

from __future__ import annotations

import asyncio
import copy
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.delivery.planner import _chain_time
from tests.fakes.chain_gen import GeneratedChain, ReviewInfo, dump_json, generate_chain
from tests.fakes.hive import FakeHiveNode
from tests.helpers import hivecord, write_config

START = 82_000_000
COUNT = 400
LAST = START + COUNT - 1
BATCH = 50  # several ranges, so one range's garbage does not hide another's


@pytest.fixture(scope="module")
def chain() -> GeneratedChain:
    return generate_chain(START, COUNT, review_every=8, seed=21)


PAGE_RANGE = range(START + BATCH, START + 2 * BATCH)  # the range whose vote-details page is garbage
GARBLED_FROM = START + 2 * BATCH  # blocks are garbled from here on; ranges are aligned before it


@dataclass
class Garbage:
    """A node's worth of garbage, and what a reader of it can still expect."""

    blocks: dict[int, dict[str, Any] | bytes]
    tamper: dict[str, Callable[[Any], Any]]
    bad_time_block: int  # time and id garbled: its review is kept, with the time of the block before
    wrong_types_block: int  # time and id of the wrong types: its review is kept
    lost_block: int  # its transactions are garbage: its ops cannot be read
    lost_post: tuple[str, str]  # a review whose comment op has a wrong type
    lost_vote: tuple[str, str, str]  # (voter, author, permlink): a vote op with a wrong type
    garbled_details: set[tuple[str, str, str]]  # (voter, author, permlink): vote details with garbled values
    page_votes: set[tuple[str, str, str]]  # (voter, author, permlink): votes last cast in PAGE_RANGE


def _vote_ops(block: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for trx in block["transactions"] for op in trx["operations"] if op["type"] == "vote_operation"]


def _key(op: dict[str, Any]) -> tuple[str, str]:
    return op["value"]["author"], op["value"]["permlink"]


def make_garbage(chain: GeneratedChain, *, garbage_pages: bool = True) -> Garbage:
    reviews = [r for r in chain.reviews if GARBLED_FROM <= r.created_block < LAST - BATCH]
    by_block = {r.created_block: r for r in reviews}
    blocks: dict[int, dict[str, Any] | bytes] = {}

    def garble(num: int, change: Callable[[dict[str, Any]], None]) -> None:
        block = copy.deepcopy(chain.blocks[num])
        change(block)
        blocks[num] = dump_json(block)

    review_blocks = sorted(by_block)
    bad_time, wrong_types, lost_review = review_blocks[1], review_blocks[4], review_blocks[7]
    garble(bad_time, lambda b: b.update(timestamp="2026-13-45T99:99:99", block_id="zz" * 20))
    garble(wrong_types, lambda b: b.update(timestamp=12345, block_id=42))
    lost_post = (by_block[lost_review].author, by_block[lost_review].permlink)

    def title_of_wrong_type(block: dict[str, Any]) -> None:
        for trx in block["transactions"]:
            for op in trx["operations"]:
                if op["type"] == "comment_operation" and _key(op) == lost_post:
                    op["value"]["title"] = 5

    garble(lost_review, title_of_wrong_type)

    # Votes on the reviews that are kept, in blocks not garbled above.
    keys = {(r.author, r.permlink) for r in reviews} - {lost_post}
    vote_blocks = [
        n
        for n in range(GARBLED_FROM, LAST - BATCH)
        if n not in blocks and any(_key(v) in keys for v in _vote_ops(chain.blocks[n]))
    ]
    lost_block, weight_block = vote_blocks[0], vote_blocks[1]
    garble(lost_block, lambda b: b.update(transactions="garbage"))
    lost = next(v["value"] for v in _vote_ops(chain.blocks[weight_block]) if _key(v) in keys)

    def weight_of_wrong_type(block: dict[str, Any]) -> None:
        for op in _vote_ops(block):
            if op["value"]["voter"] == lost["voter"] and _key(op) == (lost["author"], lost["permlink"]):
                op["value"]["weight"] = "heavy"

    garble(weight_block, weight_of_wrong_type)

    # Vote details, from the first range on: garbled assets and numbers, an op whose block is not a number.
    all_keys = {(r.author, r.permlink) for r in chain.reviews} - {lost_post}
    detail_blocks = [
        (n, (v["value"]["voter"], *_key(v)))
        for n in range(START, LAST - BATCH)
        if n not in PAGE_RANGE and n not in blocks
        for v in _vote_ops(chain.blocks[n])
        if _key(v) in all_keys and v["value"]["weight"] > 0
    ]
    assert detail_blocks[0][0] < START + BATCH, "a garbled asset in the first range, which the first node serves"
    detail_votes = [key for _, key in detail_blocks]
    mutations: list[Callable[[dict[str, Any]], None]] = [
        lambda op: op["op"]["value"]["pending_payout"].update(amount="--5"),
        lambda op: op["op"]["value"]["pending_payout"].update(amount="9" * 5000),
        lambda op: op["op"]["value"]["pending_payout"].update(nai=13, precision="3"),
        lambda op: op["op"]["value"].update(rshares="--5"),
        lambda op: op["op"]["value"].update(rshares={"amount": 1}, pending_payout=[1, 2]),
    ]
    assert len(set(detail_votes)) >= len(mutations), "the chain needs more votes on reviews"
    garbled = dict(zip(dict.fromkeys(detail_votes), mutations, strict=False))
    # An op whose block is not a number, in a later range (it spoils the typed reading of its page).
    later = next(key for n, key in detail_blocks if n >= GARBLED_FROM + BATCH and key not in garbled)
    garbled[later] = lambda op: op.update(block="abc")
    last_vote: dict[tuple[str, str, str], int] = {}  # the stored vote is the last one
    for n in range(START, LAST + 1):
        for v in _vote_ops(chain.blocks[n]):
            last_vote[(v["value"]["voter"], *_key(v))] = n
    page_votes = {key for key, n in last_vote.items() if n in PAGE_RANGE}
    assert page_votes and not page_votes & set(garbled)

    def vops(result: dict[str, Any]) -> dict[str, Any]:
        for op in result["ops"]:
            value = op["op"]["value"]
            change = garbled.get((value["voter"], value["author"], value["permlink"]))
            if change is not None:
                change(op)
            if garbage_pages and op["block"] in PAGE_RANGE:
                result["next_operation_begin"] = "nine"
        return result

    return Garbage(
        blocks=blocks,
        tamper={"account_history_api.enum_virtual_ops": vops},
        bad_time_block=bad_time,
        wrong_types_block=wrong_types,
        lost_block=lost_block,
        lost_post=lost_post,
        lost_vote=(lost["voter"], lost["author"], lost["permlink"]),
        garbled_details=set(garbled),
        page_votes=page_votes,
    )


@dataclass
class Store:
    posts: dict[tuple[str, str], tuple[Any, ...]]  # (title, body, created_at, updated_at, edits, deleted)
    votes: dict[tuple[str, str, str], tuple[Any, ...]]  # (voter, author, permlink) -> (weight, rshares, payout)
    times: list[str]
    cursor: int


def read_store(folder: Path) -> Store:
    with sqlite3.connect(folder / "hivecord.sqlite3") as conn:
        posts = {
            (a, p): rest
            for a, p, *rest in conn.execute(
                "SELECT author, permlink, title, body, created_at, updated_at, edits, deleted FROM posts"
            )
        }
        votes = {
            (voter, a, p): (w, r, pp)
            for voter, a, p, w, r, pp in conn.execute(
                "SELECT v.voter, p.author, p.permlink, v.weight, v.rshares, v.pending_payout"
                " FROM votes v JOIN posts p ON p.id = v.post_id"
            )
        }
        times = [t for (t,) in conn.execute("SELECT created_at FROM posts UNION ALL SELECT updated_at FROM posts")]
        times += [t for (t,) in conn.execute("SELECT at FROM outbox UNION ALL SELECT voted_at FROM votes")]
        cursor = int(conn.execute("SELECT value FROM meta WHERE key = 'cursor'").fetchone()[0])
    return Store(posts, votes, times, cursor)


def ingest(folder: Path, urls: list[str]) -> str:
    folder.mkdir()
    config = write_config(folder, urls, batch_size=BATCH, request_timeout=5.0)
    args = ("--from-block", str(START), "--to-block", str(LAST))
    result = hivecord("ingest", "--config", str(config), *args, timeout=150)
    assert result.returncode == 0, result.stderr[-5000:]
    assert "Traceback" not in result.stderr
    return result.stderr


@pytest.fixture(scope="module")
def reference(chain: GeneratedChain, tmp_path_factory: pytest.TempPathFactory) -> Store:
    folder = tmp_path_factory.mktemp("ref")
    with FakeHiveNode(chain.blocks, head=LAST + 2, vops=chain.vops) as node:
        ingest(folder / "store", [node.url])
    return read_store(folder / "store")


def assert_times_readable(store: Store) -> None:
    for at in store.times:
        datetime.strptime(at, "%Y-%m-%dT%H:%M:%S")  # what the planner reads back


def test_garbage_in_one_node_of_two(chain: GeneratedChain, reference: Store, tmp_path: Path) -> None:
    # A failed answer sidelines the node for a while (the good one then serves): garbage pages
    # are left to the next test, so the garbled blocks and assets below are served for sure.
    garbage = make_garbage(chain, garbage_pages=False)
    # Its global properties are sound (those are the last test's), so it answers first, garbage and all.
    # Both know the community's roles: a refusal of them (read before the first batch) would sideline the bad node.
    roles = {chain.community: [[chain.community, "owner", ""]]}
    bad = FakeHiveNode(
        {**chain.blocks, **garbage.blocks}, head=LAST + 2, vops=chain.vops, tamper=garbage.tamper, community_roles=roles
    )
    good = FakeHiveNode(chain.blocks, head=LAST + 2, vops=chain.vops, community_roles=roles)
    with bad, good:
        log = ingest(tmp_path / "store", [bad.url, good.url])
        assert bad.calls["block_api.get_block_range"] > 0 and good.calls["block_api.get_block_range"] > 0
    store = read_store(tmp_path / "store")
    assert store.cursor == LAST
    assert_times_readable(store)
    assert "malformed" in log
    # Blocks the bad node garbled whole came from the good one; an op it garbled may be skipped.
    missing = set(reference.posts) - set(store.posts)
    assert missing <= {garbage.lost_post}
    assert all(store.posts[k] == reference.posts[k] for k in store.posts)
    assert set(reference.votes) - set(store.votes) <= {garbage.lost_vote} | {
        k for k in reference.votes if (k[1], k[2]) == garbage.lost_post
    }
    for key, (weight, rshares, payout) in store.votes.items():
        ref = reference.votes[key]
        assert weight == ref[0]
        if key not in garbage.garbled_details:
            assert (rshares, payout) == ref[1:], key


def test_garbage_in_the_only_node(chain: GeneratedChain, reference: Store, tmp_path: Path) -> None:
    garbage = make_garbage(chain)
    tamper = dict(garbage.tamper)
    # Wrong types where the value can be done without, and 64-bit numbers as strings.
    tamper["database_api.get_dynamic_global_properties"] = lambda r: (
        r
        | {
            "time": 12345,
            "head_block_number": str(r["head_block_number"]),
        }
    )
    bad = FakeHiveNode({**chain.blocks, **garbage.blocks}, head=LAST + 2, vops=chain.vops, tamper=tamper)
    with bad:
        log = ingest(tmp_path / "store", [bad.url])
    store = read_store(tmp_path / "store")
    assert store.cursor == LAST, "the chain went on past every garbled block"
    assert_times_readable(store)
    assert "every answer was malformed" in log
    # Later good blocks are stored: every review but the one whose op was garbled.
    assert set(reference.posts) - set(store.posts) == {garbage.lost_post}
    reviews: dict[int, ReviewInfo] = {r.created_block: r for r in chain.reviews}
    timed = reviews[garbage.bad_time_block]
    created_at = store.posts[(timed.author, timed.permlink)][2]
    assert created_at == chain.blocks[garbage.bad_time_block - 1]["timestamp"], "the time of the block before"
    typed = reviews[garbage.wrong_types_block]
    assert (typed.author, typed.permlink) in store.posts
    # Votes in the block whose transactions were garbage, and the vote of a wrong type, are lost.
    lost_block_votes = {
        (v["value"]["voter"], v["value"]["author"], v["value"]["permlink"])
        for v in _vote_ops(chain.blocks[garbage.lost_block])
    }
    assert garbage.lost_vote not in store.votes
    assert not (lost_block_votes & set(store.votes))
    expected_lost = (
        lost_block_votes | {garbage.lost_vote} | {k for k in reference.votes if (k[1], k[2]) == garbage.lost_post}
    )
    assert set(reference.votes) - set(store.votes) <= expected_lost
    for key, (weight, rshares, payout) in store.votes.items():
        ref = reference.votes[key]
        assert weight == ref[0], key
        if key in garbage.page_votes:
            assert (rshares, payout) == (None, None), "every page of that range was garbage"
        elif key in garbage.garbled_details:
            assert (rshares, payout) != ref[1:] and (rshares is None or payout is None), key
            assert rshares in (None, ref[1]) and payout in (None, ref[2]), key
        else:
            assert (rshares, payout) == ref[1:], key


def test_the_planner_reads_a_garbled_stored_time() -> None:
    # Nothing garbled is stored by the follower, but a store written by older code may hold one.
    for text in ("2026-13-45T99:99:99", "", "garbage"):
        _chain_time(text)


async def test_global_properties_of_the_wrong_types_are_a_bad_answer() -> None:
    from bot.hive.client import HiveClient

    garbled = {"head_block_number": [1], "last_irreversible_block_num": "x", "time": 7}
    bad = FakeHiveNode({}, head=1000, tamper={"database_api.get_dynamic_global_properties": lambda r: r | garbled})
    good = FakeHiveNode({}, head=1000, tamper={"database_api.get_dynamic_global_properties": lambda r: r | {
        "head_block_number": str(r["head_block_number"]), "time": "2026-13-01T00:00:00"}})  # fmt: skip
    async with bad, good, HiveClient([bad.url, good.url], backoff_base=0.01) as client:
        props = await asyncio.wait_for(client.properties(), 60)
        assert (props.head_block_number, props.last_irreversible_block_num, props.time) == (1000, 999, "")
        assert bad.calls["database_api.get_dynamic_global_properties"] >= 1
