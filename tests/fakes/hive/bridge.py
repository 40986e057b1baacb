"""hivemind's ``bridge``: communities, ranked posts and single posts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from diff_match_patch import diff_match_patch

from ..chain_gen import dump_json
from .errors import arg, bridge_error


def _merge(stored: str, body: str) -> str:
    """hivemind's rule for an edit's body: a diff-match-patch patch if it parses as one, else the text."""
    if body.startswith("@@ "):
        try:
            patches = diff_match_patch().patch_fromText(body)
        except ValueError:
            return body
        if patches:
            return str(diff_match_patch().patch_apply(patches, stored)[0])
    return body


class BridgeApi:
    communities: dict[str, dict[str, Any]]
    ranked_posts: dict[str, list[dict[str, Any]]]
    posts: dict[tuple[str, str], dict[str, Any]]
    served_head: int
    block_bytes: Callable[[int], bytes | None]  # ChainData's
    _raw: dict[int, bytes]

    def _comments(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Every live comment of the served chain as bridge shows it: edits merged, deletes gone."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for num in sorted(n for n in self._raw if n <= self.served_head):
            raw = self.block_bytes(num)
            block = json.loads(raw) if raw else {}
            for trx in block.get("transactions", []):
                for op in trx.get("operations", []):
                    value = op.get("value") or {}
                    key = (value.get("author"), value.get("permlink"))
                    if op.get("type") == "delete_comment_operation":
                        found.pop(key, None)
                    elif op.get("type") == "comment_operation":
                        old = found.get(key)
                        if old is None:
                            found[key] = {**value, "created": block.get("timestamp", "")}
                        else:
                            old["body"] = _merge(old["body"], value.get("body", ""))
        return found

    def _bridge_get_discussion(self, params: Any) -> bytes:
        """The post and every reply in its tree, keyed "author/permlink", as hivemind gives them."""
        author, permlink = arg(params, "author", ""), arg(params, "permlink", "")
        comments = self._comments()
        if (author, permlink) not in comments:
            raise bridge_error(f"Post {author}/{permlink} does not exist")
        children: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for key, c in comments.items():
            children.setdefault((c["parent_author"], c["parent_permlink"]), []).append(key)
        out: dict[str, Any] = {}
        todo = [((author, permlink), 0)]
        while todo:
            key, depth = todo.pop(0)
            c = comments[key]
            kids = children.get(key, [])
            out[f"{key[0]}/{key[1]}"] = {
                "author": key[0], "permlink": key[1], "parent_author": c["parent_author"],
                "parent_permlink": c["parent_permlink"], "title": c.get("title", ""), "body": c.get("body", ""),
                "json_metadata": c.get("json_metadata", ""), "created": c["created"], "depth": depth,
                "replies": [f"{k[0]}/{k[1]}" for k in kids],
            }  # fmt: skip
            todo.extend((k, depth + 1) for k in kids)
        return dump_json(out)

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

