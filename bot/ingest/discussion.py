"""A thread's late start: the replies a post already has on chain, from bridge.get_discussion.

A thread made for a post whose replies the follower never saw (a backfilled post, threads turned on
later) starts with them: each reply of the tree not stored yet is stored (with no outbox row: the
thread's late start queues every stored reply it has not shown), and followed from then on.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.domain import PostRow
from bot.hive.blocks import valid_time
from bot.hive.client import HiveClient, HiveUnavailable, RpcError
from bot.hive.edits import bounded_body
from bot.hive.hivebuzz import HIVEBUZZ_ACCOUNT
from bot.hive.rpc import ANSWER_DEADLINE
from bot.ingest.follower import Follower
from bot.store.chain_writer import ChainWriter
from bot.store.store import Store

log = logging.getLogger("hivecord.follower")



def tree_replies(answer: Any, post: PostRow) -> list[dict[str, Any]]:
    """The replies of `post`'s tree in a get_discussion answer, parents before children, oldest first;
    HiveBuzz's notices are never conversation."""
    if not isinstance(answer, dict):
        return []
    entries = {k: v for k, v in answer.items() if isinstance(v, dict)}
    known = {(post.author, post.permlink)}
    ordered: list[dict[str, Any]] = []
    candidates = sorted(
        (
            e
            for e in entries.values()
            if isinstance(e.get("author"), str)
            and isinstance(e.get("permlink"), str)
            and isinstance(e.get("parent_author"), str)
            and isinstance(e.get("parent_permlink"), str)
            and isinstance(e.get("body"), str)
            and valid_time(e.get("created"))
        ),
        key=lambda e: (str(e["created"]), int(e.get("depth") or 0)),
    )
    for entry in candidates:  # a parent is always older than its replies
        key = (entry["author"], entry["permlink"])
        if key in known or (entry["parent_author"], entry["parent_permlink"]) not in known:
            continue
        known.add(key)
        if entry["author"] != HIVEBUZZ_ACCOUNT:
            ordered.append(entry)
    return ordered


def _adopt(tx: ChainWriter, post: PostRow, replies: list[dict[str, Any]]) -> list[tuple[str, str]]:
    added: list[tuple[str, str]] = []
    for r in replies:
        if tx.live_reply_ref(r["author"], r["permlink"]) is not None:
            continue
        tx.insert_reply(
            post_id=post.id,
            community=post.community,
            author=r["author"],
            permlink=r["permlink"],
            parent_author=r["parent_author"],
            parent_permlink=r["parent_permlink"],
            body=bounded_body(r["body"]),
            block_num=0,  # bridge gives no block number
            at=str(r["created"]),
        )
        added.append((r["author"], r["permlink"]))
    return added


async def fetch_discussion(hive: HiveClient, store: Store, follower: Follower, post: PostRow) -> int:
    """Stores the replies of `post` the store lacks; returns how many. A node that cannot answer
    leaves the thread to start with the replies already stored."""
    try:
        answer = await hive.call(
            "bridge.get_discussion", {"author": post.author, "permlink": post.permlink}, deadline=ANSWER_DEADLINE
        )
    except (RpcError, HiveUnavailable) as exc:
        log.warning("bridge.get_discussion of %s/%s failed (%s): its thread starts with stored replies", post.author,
                    post.permlink, exc)  # fmt: skip
        return 0
    replies = tree_replies(answer, post)
    added = await store.chain_batch(lambda tx: _adopt(tx, post, replies))
    for key in added:
        follower.adopt(*key, reply=True)  # its later edits and delete are followed like any reply
    return len(added)
