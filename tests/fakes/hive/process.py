"""Process mode: ``python -m tests.fakes.hive`` serves a generated chain or the seed until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal
import sys
from collections.abc import Iterable
from typing import Any

from ..chain_gen import ChainGenerator, build_vote_vops, community_info, dump_json, ranked_posts
from .fixtures import SEED_FIXTURE, load_seed_fixture
from .node import FakeHiveNode


def _generated_node(args: argparse.Namespace) -> FakeHiveNode:
    gen = ChainGenerator(args.start_block, args.generate, community=args.community,
                         review_every=args.review_every, seed=args.seed)
    blocks: dict[int, dict[str, Any] | bytes] = {}
    vops: dict[int, list[dict[str, Any]]] = {}
    # Lazily: keep only each block's bytes, so a 20,000+ block chain fits in ~0.5 GB. No cycles are
    # created, and GC passes over the growing heap would double the start-up time.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for num, block, block_vops in gen:
            blocks[num] = dump_json(block)
            if block_vops:
                vops[num] = block_vops
    finally:
        if gc_was_enabled:
            gc.enable()
    node = FakeHiveNode(
        blocks, vops=vops, head=args.head, seed=args.seed, fault_rate=args.fault_rate, behind=args.behind,
        communities={args.community: community_info(args.community, gen.reviews)},
        ranked_posts={args.community: ranked_posts(args.community, gen.reviews)},
    )
    print(f"generated {gen.summary.as_dict()}", file=sys.stderr, flush=True)
    return node


def _seed_node(args: argparse.Namespace) -> FakeHiveNode:
    blocks, _ = load_seed_fixture(args.seed_fixture)
    return FakeHiveNode(blocks, vops=build_vote_vops(blocks), head=args.head, seed=args.seed,
                        fault_rate=args.fault_rate, behind=args.behind,
                        communities={"hive-158489": community_info("hive-158489")})


async def _serve(node: FakeHiveNode, port: int | None) -> None:
    url = await node.start(port)
    print(f"URL {url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await node.stop()


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.hive",
                                     description="A loopback fake Hive API node.")
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--generate", type=int, metavar="N", help="serve N generated mainnet-like blocks")
    src.add_argument("--seed-fixture", nargs="?", const=str(SEED_FIXTURE), metavar="PATH",
                     help="serve the seed fixture (default: the Anime Realm review)")
    parser.add_argument("--start-block", type=int, default=80_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--community", default="hive-158489")
    parser.add_argument("--review-every", type=int, default=20)
    parser.add_argument("--head", type=int, default=None, help="served head (default: last block)")
    parser.add_argument("--behind", type=int, default=0)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    args = parser.parse_args(list(argv) if argv is not None else None)
    node = _generated_node(args) if args.generate is not None else _seed_node(args)
    asyncio.run(_serve(node, args.port))
    return 0


