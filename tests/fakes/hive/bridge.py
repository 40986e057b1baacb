"""hivemind's ``bridge``: communities, ranked posts and single posts."""

from __future__ import annotations

from typing import Any

from ..chain_gen import dump_json
from .errors import arg, bridge_error


class BridgeApi:
    communities: dict[str, dict[str, Any]]
    ranked_posts: dict[str, list[dict[str, Any]]]
    posts: dict[tuple[str, str], dict[str, Any]]

    def _bridge_get_community(self, params: Any) -> bytes:
        name = str(arg(params, "name", ""))
        community = self.communities.get(name)
        if community is None:
            raise bridge_error("community not found" if name.startswith("hive-") else
                                "given community name is not valid")
        return dump_json(community)

    def _bridge_get_ranked_posts(self, params: Any) -> bytes:
        sort = str(arg(params, "sort", "trending"))
        if sort not in {"trending", "hot", "created", "promoted", "payout", "payout_comments", "muted"}:
            raise bridge_error(f"Unsupported sort, valid sorts: trending, hot, created, ... (got {sort})")
        limit = int(arg(params, "limit", 20))
        if not 0 < limit <= 20:
            raise bridge_error(f"limit = {limit} outside valid range [1:20]")
        posts = self.ranked_posts.get(str(arg(params, "tag", "")), [])
        start_author = arg(params, "start_author", "") or ""
        start_permlink = arg(params, "start_permlink", "") or ""
        offset = 0
        if start_author or start_permlink:
            for i, p in enumerate(posts):
                if p.get("author") == start_author and p.get("permlink") == start_permlink:
                    offset = i + 1
                    break
            else:
                raise bridge_error(f"Post {start_author}/{start_permlink} does not exist")
        return dump_json(posts[offset:offset + limit])

    def _bridge_get_post(self, params: Any) -> bytes:
        author, permlink = arg(params, "author", ""), arg(params, "permlink", "")
        post = self.posts.get((author, permlink))
        if post is None:
            # hivemind: {"code": -32602, "message": "Invalid parameters", "data": "Post a/p does not exist"}
            raise bridge_error(f"Post {author}/{permlink} does not exist")
        return dump_json(post)

