"""Virtual ops: the effective_comment_vote a node reports for each vote."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

from .formats import HBD, asset, block_time


def vote_vop_value(v: Mapping[str, Any]) -> dict[str, Any]:
    # A CRC, not hash() (salted per process), so a test and a node subprocess agree.
    crc = zlib.crc32(f"{v['voter']}/{v['author']}/{v['permlink']}".encode())
    weight = int(v["weight"])
    # Mainnet-sized: mostly above 2**32, so hived writes them as strings (see hive.numbers.hived_numbers).
    rshares = (crc % 4_000_000_000 + 1_000_000) * 1000 * weight // 10000
    return {
        "voter": v["voter"],
        "author": v["author"],
        "permlink": v["permlink"],
        "weight": abs(rshares) * 31 // 7,
        "rshares": rshares,
        "total_vote_weight": str(crc * 104729),
        "pending_payout": asset(crc % 50_000 if weight > 0 else 0, HBD),
    }


def vote_vops_for_block(num: int, block: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``effective_comment_vote`` entries (enum_virtual_ops shape) for every vote op of one block.

    rshares are derived from voter/author/permlink and the weight: deterministic, negative for
    downvotes, 0 for a vote removal.
    """
    out: list[dict[str, Any]] = []
    timestamp = block.get("timestamp") or block_time(num)
    trx_ids = block.get("transaction_ids") or []
    pos = 0
    for trx_in_block, trx in enumerate(block.get("transactions") or ()):
        trx_id = trx_ids[trx_in_block] if trx_in_block < len(trx_ids) else "0" * 40
        for op_in_trx, op in enumerate(trx.get("operations") or ()):
            pos += 1
            if op.get("type") != "vote_operation":
                continue
            out.append({
                "trx_id": trx_id,
                "block": num,
                "trx_in_block": trx_in_block,
                "op_in_trx": op_in_trx + 1,
                "virtual_op": True,
                "timestamp": timestamp,
                "op": {"type": "effective_comment_vote_operation", "value": vote_vop_value(op["value"])},
                # HAF numbering: block in the high bits, position in block, op type id (72) low.
                "operation_id": (num << 32) | (pos << 8) | 72,
            })
    return out


def build_vote_vops(blocks: Mapping[int, Mapping[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """Vote vops for a whole block mapping (seed fixture, hivemind mock or generated chain)."""
    out: dict[int, list[dict[str, Any]]] = {}
    for num, block in blocks.items():
        vops = vote_vops_for_block(int(num), block)
        if vops:
            out[int(num)] = vops
    return out

