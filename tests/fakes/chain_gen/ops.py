"""Operations in the block_api shape."""

from __future__ import annotations

import json
from typing import Any


def comment_op(parent_author: str, parent_permlink: str, author: str, permlink: str, title: str, body: str,
             meta: str) -> dict[str, Any]:
    return {"type": "comment_operation", "value": {
        "parent_author": parent_author, "parent_permlink": parent_permlink, "author": author,
        "permlink": permlink, "title": title, "body": body, "json_metadata": meta}}


def vote_op(voter: str, author: str, permlink: str, weight: int) -> dict[str, Any]:
    return {"type": "vote_operation",
            "value": {"voter": voter, "author": author, "permlink": permlink, "weight": weight}}



def community_op(actor: str, action: str, community: str, **fields: str) -> dict[str, Any]:
    """A community custom_json (setRole, mutePost, unmutePost...) signed with `actor`'s posting authority,
    as front ends broadcast it: ``["mutePost", {"community", "account", "permlink", "notes"}]``."""
    payload = json.dumps([action, {"community": community, **fields}], separators=(",", ":"))
    return {"type": "custom_json_operation", "value": {
        "required_auths": [], "required_posting_auths": [actor], "id": "community", "json": payload}}


def set_role_op(actor: str, community: str, account: str, role: str) -> dict[str, Any]:
    return community_op(actor, "setRole", community, account=account, role=role)


def mute_post_op(actor: str, community: str, author: str, permlink: str, notes: str = "", *,
                 mute: bool = True) -> dict[str, Any]:
    action = "mutePost" if mute else "unmutePost"
    return community_op(actor, action, community, account=author, permlink=permlink, notes=notes)
