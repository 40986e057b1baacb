"""Operations in the block_api shape."""

from __future__ import annotations

from typing import Any


def comment_op(parent_author: str, parent_permlink: str, author: str, permlink: str, title: str, body: str,
             meta: str) -> dict[str, Any]:
    return {"type": "comment_operation", "value": {
        "parent_author": parent_author, "parent_permlink": parent_permlink, "author": author,
        "permlink": permlink, "title": title, "body": body, "json_metadata": meta}}


def vote_op(voter: str, author: str, permlink: str, weight: int) -> dict[str, Any]:
    return {"type": "vote_operation",
            "value": {"voter": voter, "author": author, "permlink": permlink, "weight": weight}}

