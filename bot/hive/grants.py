"""Posting for a member without their key: Hive's posting `account_auths`, how a member grants and revokes
them, and the shape of a reply the bot's account signs for them (permlink, app metadata)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from importlib import metadata
from typing import Any, Literal
from urllib.parse import quote

Grant = Literal["granted", "not granted", "no account"]

HIVESIGNER = "https://hivesigner.com"
# hived keeps a permlink under 256 characters.
MAX_PERMLINK = 255
_NOT_PERMLINK = re.compile(r"[^a-z0-9-]+")


def grant_of(answer: Any, member: str, bot_account: str) -> Grant:
    """What one get_accounts entry says: `bot_account` is in `member`'s posting account_auths with a weight at
    or above the posting threshold (then the bot's own posting key signs for the member), or not."""
    if not isinstance(answer, dict) or answer.get("name") != member:
        return "no account"
    posting = answer.get("posting")
    if not isinstance(posting, dict):
        return "not granted"
    threshold = posting.get("weight_threshold")
    if type(threshold) is not int:
        return "not granted"
    for pair in posting.get("account_auths") or ():
        if isinstance(pair, list) and len(pair) == 2 and pair[0] == bot_account and type(pair[1]) is int:
            return "granted" if pair[1] >= max(threshold, 1) else "not granted"
    return "not granted"


def hivesigner_grant_url(bot_account: str) -> str:
    """HiveSigner's authorize page: adds `bot_account` to the signed-in account's posting account_auths."""
    return f"{HIVESIGNER}/authorize/{quote(bot_account)}"


def hivesigner_revoke_url(bot_account: str) -> str:
    return f"{HIVESIGNER}/revoke/{quote(bot_account)}"


def reply_permlink(parent_permlink: str, when: datetime) -> str:
    """Hive's reply style: re-<parent permlink>-<yyyymmddthhmmssz>, lower case, within hived's length."""
    when = when.astimezone(UTC)
    stamp = f"{when:%Y%m%dt%H%M%S}{when.microsecond // 1000:03d}z"  # milliseconds: two in one second differ
    parent = _NOT_PERMLINK.sub("-", parent_permlink.lower()).strip("-")
    room = MAX_PERMLINK - len("re--") - len(stamp)
    return f"re-{parent[:room].rstrip('-')}-{stamp}"


def app_name() -> str:
    try:
        version = metadata.version("hivecord")
    except metadata.PackageNotFoundError:
        version = "dev"
    return f"hivecord/{version}"


def reply_metadata() -> str:
    """The reply's json_metadata: the app that posted it, and the body's format."""
    return json.dumps({"app": app_name(), "format": "markdown"}, separators=(",", ":"))
