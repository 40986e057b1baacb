"""`/feed add backfill:N`: the community's latest posts, from the store or else from bridge."""

from __future__ import annotations

import json
import logging
from typing import Any

from bot.domain import Feed
from bot.hive.blocks import valid_time
from bot.hive.client import HiveClient, HiveUnavailable, RpcError
from bot.hive.rpc import ANSWER_DEADLINE
from bot.ingest.follower import Follower
from bot.ingest.ledger import post_content
from bot.ingest.reputations import learn_reputations
from bot.store.chain_writer import ChainWriter
from bot.store.store import Store

log = logging.getLogger("hivecord.backfill")

BRIDGE_PAGE = 20  # bridge.get_ranked_posts serves at most 20


def _stat(post: dict[str, Any], name: str) -> object:
    stats = post.get("stats")
    return stats.get(name) if isinstance(stats, dict) else None


def _recent(answer: Any, community: str, count: int) -> list[dict[str, Any]]:
    """The newest `count` top-level posts of the community, oldest first; pinned posts are old news, and
    posts bridge marks gray (muted, or their author's reputation too low) are hidden as front ends hide them."""
    items = answer if isinstance(answer, list) else []
    posts = [
        p
        for p in items
        if isinstance(p, dict)
        and p.get("depth", 0) == 0
        and p.get("community", p.get("category")) == community
        and not _stat(p, "is_pinned")
        and not _stat(p, "gray")
        and isinstance(p.get("author"), str)
        and isinstance(p.get("permlink"), str)
        and valid_time(p.get("created"))  # stored as the post's time, read back by the planner
    ]
    posts.sort(key=lambda p: str(p.get("created", "")), reverse=True)
    return list(reversed(posts[:count]))


def _adopt(tx: ChainWriter, posts: list[dict[str, Any]], community: str, count: int) -> list[tuple[str, str]]:
    """Stores the newest `count` of `posts` (oldest first) whose authors the community has not muted
    (never mirrored, nor counted), where the chain follower has not seen them; returns their keys."""
    added: list[tuple[str, str]] = []
    for post in [p for p in posts if tx.moderation.role(community, p["author"]) != "muted"][-count:]:
        author, permlink = post["author"], post["permlink"]
        if tx.live_post_ref(author, permlink) is not None:
            continue  # stored already
        metadata = post.get("json_metadata")
        json_metadata = metadata if isinstance(metadata, str) else json.dumps(metadata or {})
        title, body = str(post.get("title") or ""), str(post.get("body") or "")
        tx.insert_post(
            author=author,
            permlink=permlink,
            community=community,
            content=post_content(title, json_metadata, body, community),
            block_num=0,  # not read from a block: bridge gives no block number
            at=post["created"],
        )
        added.append((author, permlink))
    return added


async def backfill(hive: HiveClient, store: Store, follower: Follower, feed: Feed, count: int) -> int:
    """Queues the feed's `count` latest posts for delivery; returns how many were queued."""
    if count <= 0:
        return 0
    try:
        answer = await hive.call(
            "bridge.get_ranked_posts",
            {"sort": "created", "tag": feed.community, "limit": BRIDGE_PAGE},
            deadline=ANSWER_DEADLINE,
        )
    except (RpcError, HiveUnavailable) as exc:
        log.warning("backfill of %s from bridge failed (%s); using stored posts only", feed.community, exc)
    else:
        posts = _recent(answer, feed.community, BRIDGE_PAGE)
        added = await store.chain_batch(lambda tx: _adopt(tx, posts, feed.community, count))
        for key in added:
            follower.adopt(*key)  # its later edits, votes and deletes are followed like any post
    if feed.filter.min_reputation is not None:
        await learn_reputations(hive, store, await store.posts.recent_authors(feed.community))
    return await store.jobs.backfill(feed, count)
