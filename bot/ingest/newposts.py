"""Whether a post the follower sees for the first time is new, or an old one edited or re-sent.

The follower starts at the head by default, and authors edit posts days later: the first op it
sees of such a post is an edit, often a diff-match-patch patch. bridge.get_post tells when the post
was really created, and what it holds now.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from bot.hive.blocks import valid_time
from bot.hive.edits import is_patch
from bot.hive.events import PostAdopted, PostCreated

log = logging.getLogger("hivecord.follower")


def judge_new_post(event: PostCreated, bridge_post: Any) -> PostCreated | PostAdopted | None:
    """The event to apply: the post as new, the post as bridge shows it (not announced), or None (skip).

    - bridge says it was created in this op's block, or later (a permlink reused after a delete),
      or does not know it (brand new, bridge lags the chain): new, unless the body is a patch,
      which nobody can apply without the text before it: skipped.
    - bridge says it was created earlier: an edit or a full re-send of an old post. Stored as
      bridge shows it, never announced.
    """
    post = _readable(bridge_post, event)
    if post is None or post["created"] >= event.timestamp:
        return None if is_patch(event.body) else event
    metadata = post["json_metadata"]
    if not isinstance(metadata, str):
        metadata = json.dumps(metadata) if isinstance(metadata, dict) else ""
    return PostAdopted(
        event.block_num,
        event.timestamp,
        event.author,
        event.permlink,
        event.community,  # a root post's category never changes
        post["title"],
        post["body"],
        metadata,
        post["created"],
    )


def _readable(post: Any, event: PostCreated) -> dict[str, Any] | None:
    """bridge's answer if it is this post with the fields needed, else None (bridge cannot say)."""
    if not isinstance(post, dict):
        return None
    if post.get("author") != event.author or post.get("permlink") != event.permlink:
        log.warning("bridge.get_post for %s/%s answered another post", event.author, event.permlink)
        return None
    if not valid_time(post.get("created")) or not isinstance(post.get("title"), str):
        return None
    if not isinstance(post.get("body"), str):
        return None
    return post
