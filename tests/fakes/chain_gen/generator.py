"""The generator: blocks one at a time (lazy) or a whole chain in memory."""

from __future__ import annotations

import gc
import random
from collections.abc import Iterator
from typing import Any

from diff_match_patch import diff_match_patch

from .community import CommunityEvents
from .formats import block_epoch, dump_json, format_time, make_block_id
from .noise import Noise
from .truth import BadgeInfo, ChainSummary, GeneratedChain, ReviewInfo
from .vops import vote_vop_value
from .words import WITNESSES


class ChainGenerator(CommunityEvents, Noise):
    """Lazy, deterministic chain: ``for num, block, vops in ChainGenerator(...)``.

    Ground truth (``reviews``, ``badges``) and ``summary`` fill up while iterating. Events scheduled
    past the last block (a vote due later, say) are simply never emitted, and never recorded.
    """

    def __init__(
        self,
        start_block: int,
        count: int,
        *,
        community: str = "hive-158489",
        review_every: int = 20,
        seed: int = 0,
        sample_bytes_every: int = 16,
    ) -> None:
        if start_block < 1 or count < 0:
            raise ValueError("start_block must be >= 1 and count >= 0")
        self.start_block = start_block
        self.count = count
        self.community = community
        self.review_every = max(1, review_every)
        self.seed = seed
        self.sample_bytes_every = max(1, sample_bytes_every)
        self.summary = ChainSummary()
        self.reviews: list[ReviewInfo] = []
        self.badges: list[BadgeInfo] = []
        self._rng = random.Random(seed)
        self._dmp = diff_match_patch()
        self._started = False
        rng = self._rng
        self._accounts = self._make_accounts(rng, 3000)
        self._reviewers = rng.sample(self._accounts, 40)
        self._readers = rng.sample(self._accounts, 250)
        self._sentences = [self._sentence(rng) for _ in range(2500)]
        self._signatures = [f"1f{rng.getrandbits(512):0128x}" for _ in range(4096)]
        keys = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
        self._witnesses = [(w, "STM" + "".join(rng.choices(keys, k=50))) for w in WITNESSES]
        self._vop_cache: dict[int, dict[str, Any]] = {}
        self._build_pools()
        self._pending: dict[int, list[tuple[str, ReviewInfo, Any]]] = {}
        self._welcomed: set[str] = set()
        self._permlinks: set[tuple[str, str]] = set()

    # -- iteration -------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any], list[dict[str, Any]]]]:
        if self._started:
            raise RuntimeError("a ChainGenerator can be iterated once; make a new one")
        self._started = True
        return self._run()

    def _run(self) -> Iterator[tuple[int, dict[str, Any], list[dict[str, Any]]]]:
        rng = self._rng
        rnd = rng.random
        bits = rng.getrandbits
        sigs = self._signatures
        nsig = len(sigs)
        witnesses = self._witnesses
        vop_cache = self._vop_cache
        next_review = self.start_block + rng.randint(0, self.review_every)
        prev_id = make_block_id(self.start_block - 1, self.seed)
        summary = self.summary
        sampled = 0
        for i, num in enumerate(range(self.start_block, self.start_block + self.count)):
            epoch = block_epoch(num)
            ts = format_time(epoch)
            trxs: list[list[dict[str, Any]]] = []
            if num >= next_review:
                trxs.append(self._new_review(num, ts))
                lo = max(1, self.review_every // 2)
                next_review = num + rng.randint(lo, self.review_every + lo)
            for kind, review, arg in self._pending.pop(num, ()):
                ops = self._emit_event(kind, review, arg, num, ts)
                if ops:
                    trxs.append(ops)
            self._noise(trxs, num, ts)
            rng.shuffle(trxs)
            # Transaction envelopes are cheap on purpose: signatures come from a pool, ids are fresh.
            ref = num - 3
            exps = [format_time(epoch + d) for d in (45, 60, 120, 600)]
            transactions = []
            ids = []
            vops: list[dict[str, Any]] = []
            pos = 0
            for trx_in_block, ops in enumerate(trxs):
                trx_id = f"{bits(160):040x}"
                ids.append(trx_id)
                transactions.append({
                    "ref_block_num": (ref - int(rnd() * 21)) & 0xFFFF,
                    "ref_block_prefix": bits(32),
                    "expiration": exps[int(rnd() * 4)],
                    "operations": ops,
                    "extensions": [],
                    "signatures": [sigs[int(rnd() * nsig)]],
                })
                for op_in_trx, op in enumerate(ops):
                    pos += 1
                    t = op["type"]
                    if t == "vote_operation":
                        value = vop_cache.get(id(op)) or vote_vop_value(op["value"])
                        vops.append({
                            "trx_id": trx_id, "block": num, "trx_in_block": trx_in_block,
                            "op_in_trx": op_in_trx + 1, "virtual_op": True, "timestamp": ts,
                            "op": {"type": "effective_comment_vote_operation", "value": value},
                            "operation_id": (num << 32) | (pos << 8) | 72,
                        })
                    elif t == "custom_json_operation":
                        summary.custom_json += 1
                    elif t == "comment_operation":
                        summary.comments += 1
            summary.votes += len(vops)
            summary.total_ops += pos
            witness, signing_key = witnesses[int(rnd() * len(witnesses))]
            block_id = make_block_id(num, self.seed)
            block = {
                "previous": prev_id,
                "timestamp": ts,
                "witness": witness,
                "transaction_merkle_root": f"{bits(160):040x}",
                "extensions": [],
                "witness_signature": sigs[int(rnd() * nsig)],
                "transactions": transactions,
                "block_id": block_id,
                "signing_key": signing_key,
                "transaction_ids": ids,
            }
            prev_id = block_id
            summary.blocks += 1
            summary.total_transactions += len(trxs)
            if i % self.sample_bytes_every == 0:
                sampled += 1
                summary._sampled_bytes += len(dump_json(block))
                summary.sampled_blocks = sampled
                summary.mean_block_bytes = round(summary._sampled_bytes / sampled, 1)
            yield num, block, vops


def generate_chain(
    start_block: int,
    count: int,
    *,
    community: str = "hive-158489",
    review_every: int = 20,
    seed: int = 0,
) -> GeneratedChain:
    """Build ``count`` blocks from ``start_block`` in memory (20,000 blocks take a few seconds)."""
    gen = ChainGenerator(start_block, count, community=community, review_every=review_every, seed=seed)
    blocks: dict[int, dict[str, Any]] = {}
    vops: dict[int, list[dict[str, Any]]] = {}
    # Millions of new (acyclic) dicts would trigger ever longer GC passes: half the run time.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for num, block, block_vops in gen:
            blocks[num] = block
            if block_vops:
                vops[num] = block_vops
    finally:
        if gc_was_enabled:
            gc.enable()
    return GeneratedChain(start_block, community, blocks, vops, gen.summary, gen.reviews, gen.badges)
