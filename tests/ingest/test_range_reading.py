"""A block range is read in one pass when every block in it is well formed; a range with one
malformed block is read again block by block from the same answer, without asking the node twice."""

from __future__ import annotations

import asyncio
import copy

import pytest

from bot.hive.client import HiveClient
from bot.ingest.fetch import BlockFetcher
from tests.fakes.chain_gen import GeneratedChain, dump_json, generate_chain
from tests.fakes.hive import FakeHiveNode

START = 83_000_000
COUNT = 30
RANGE = "block_api.get_block_range"


@pytest.fixture(scope="module")
def chain() -> GeneratedChain:
    return generate_chain(START, COUNT, review_every=5, seed=11)


def ops(block: dict[str, object]) -> int:
    return sum(len(trx["operations"]) for trx in block["transactions"])  # type: ignore[attr-defined, index]


def fetch_all(node: FakeHiveNode) -> list[tuple[int, int]]:
    async def run() -> list[tuple[int, int]]:
        async with HiveClient([node.url], backoff_base=0.01) as client:
            fetcher = BlockFetcher(client, batch_size=COUNT, time_hint=lambda: "")
            fetched = await fetcher.fetch(START, START + COUNT - 1)
        return [(b.number, sum(len(t.operations) for t in b.transactions)) for b in fetched.blocks]

    return asyncio.run(run())


def test_a_well_formed_range_is_read_whole(chain: GeneratedChain) -> None:
    with FakeHiveNode(chain.blocks, vops=chain.vops) as node:
        got = fetch_all(node)
        assert node.calls[RANGE] == 1
    assert got == [(n, ops(chain.blocks[n])) for n in range(START, START + COUNT)]


def test_one_malformed_op_costs_that_op_only_and_no_second_request(chain: GeneratedChain) -> None:
    bad = START + 17
    block = copy.deepcopy(chain.blocks[bad])
    block["transactions"][0]["operations"][0]["type"] = 42  # not a string: the one-pass reading fails
    served: dict[int, dict[str, object] | bytes] = {**chain.blocks, bad: dump_json(block)}
    with FakeHiveNode(served, vops=chain.vops) as node:
        got = fetch_all(node)
        # The same answer is read again block by block; the node is not asked again.
        assert node.calls[RANGE] == 1
    expected = [(n, ops(chain.blocks[n]) - (n == bad)) for n in range(START, START + COUNT)]
    assert got == expected
