"""Replies from Discord as the settler sees them, and a node's refusal of one in words."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from bot.domain import SentReply, VoteState
from bot.hive.client import HiveClient
from bot.hive.rpc import RpcError
from bot.store.store import Store

DEADLINE = 10.0

# hived's messages, lower-cased fragments -> what they mean for the member. The first match wins.
_REASONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("rc_plugin", "resource credits", " rc,", " rc ", "has 0 rc"),
        "@{account} does not have enough resource credits to post now; they come back over the day.",
    ),
    (
        ("missing posting authority", "missing required posting authority", "missing authority"),
        "@{account} does not grant @{bot} posting authority (any more): run `/reply enable` for the link.",
    ),
    (("once every 3 seconds", "min_reply_interval"), "Hive takes one comment per account every 3 seconds; try again."),
    (("too large", "body.size"), "the text is longer than Hive's 64 KB."),
    (
        ("does not exist", "not found", "unknown comment", "comment_not_found"),
        "what it answers is no longer on chain.",
    ),
    (("expiration", "tapos"), "the transaction was out of date when it reached the node; try again."),
)


def explain(message: str, account: str, bot: str) -> str:
    lowered = message.lower()
    for fragments, sentence in _REASONS:
        if any(fragment in lowered for fragment in fragments):
            return sentence.format(account=account, bot=bot)
    return f"the node refused it: {message[:200]}"


class ReplyIntents:
    """The replies the bot signed for members: open ones, and how to see one on chain."""

    name = "reply"

    def __init__(self, store: Store, hive: HiveClient, bot_account: str) -> None:
        self._store = store
        self._hive = hive
        self._bot = bot_account

    async def open(self, now: float) -> Sequence[SentReply]:
        return await self._store.discord_replies.open_replies(now)

    async def has_open(self) -> bool:
        return await self._store.discord_replies.has_open()

    async def seen_by_follower(self, intent: SentReply) -> bool:
        return await self._store.discord_replies.seen_on_chain(intent.author, intent.permlink)

    async def on_chain(self, intent: SentReply) -> bool:
        try:
            found: Any = await self._hive.call(
                "bridge.get_post", {"author": intent.author, "permlink": intent.permlink}, deadline=DEADLINE
            )
        except RpcError:
            return False  # the node knows no such post
        return isinstance(found, dict) and found.get("author") == intent.author

    async def settle(
        self, intent: SentReply, state: VoteState, error: str | None = None, why: str | None = None
    ) -> bool:
        return await self._store.discord_replies.settle(intent.id, state, time.time(), error, why=why)

    async def check_later(self, intent: SentReply, at: float) -> None:
        await self._store.discord_replies.check_later(intent.id, at)

    def refused(self, intent: SentReply, reason: str) -> str:
        return explain(reason, intent.author, self._bot)
