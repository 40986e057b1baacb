"""Deterministic generator of mainnet-like Hive blocks around one followed community.

Blocks are in the ``block_api`` shape (ops as ``{"type": "..._operation", "value": {...}}``, assets as
NAI dicts) and weigh ~20-25 KB of JSON with ~40 ops each, the size and op mix of busy mainnet blocks, so
that decoding and filtering costs in benchmarks are realistic. Most ops are noise (custom_json, votes and comments
elsewhere); the followed community gets reviews, edits, deletes, votes, replies and HiveBuzz badges,
and the generator keeps the ground truth (:class:`ReviewInfo`, :class:`BadgeInfo`) for assertions.

``ChainGenerator`` is lazy (iterate it to get one block at a time, for big benchmark chains);
``generate_chain`` builds everything in memory.
"""

from __future__ import annotations

from .formats import (
    BLOCK_INTERVAL,
    GENESIS_EPOCH,
    HBD,
    HIVE,
    VESTS,
    asset,
    block_epoch,
    block_time,
    dump_json,
    format_time,
    make_block_id,
)
from .generator import ChainGenerator, generate_chain
from .ops import community_op, mute_post_op, set_role_op
from .truth import BadgeInfo, ChainSummary, EditInfo, GeneratedChain, ReviewInfo, community_info, ranked_posts
from .vops import build_vote_vops, vote_vops_for_block
from .words import SERIES

__all__ = [
    "BLOCK_INTERVAL",
    "GENESIS_EPOCH",
    "HBD",
    "HIVE",
    "SERIES",
    "VESTS",
    "BadgeInfo",
    "ChainGenerator",
    "ChainSummary",
    "EditInfo",
    "GeneratedChain",
    "ReviewInfo",
    "asset",
    "block_epoch",
    "block_time",
    "build_vote_vops",
    "community_info",
    "community_op",
    "dump_json",
    "format_time",
    "generate_chain",
    "make_block_id",
    "mute_post_op",
    "ranked_posts",
    "set_role_op",
    "vote_vops_for_block",
]
