"""Members answer from Discord: a reply in a mirrored review's thread goes on chain as the member, signed
with the bot's own posting key under the posting authority the member granted its account on chain.

The order of a reply is curation's crash-safety rule: every check, sign, store the intent with its
transaction, (the cog shows it in the thread), broadcast, record what the node said. A kill between any
two steps leaves an intent the settler finishes from the chain; nothing is signed twice for one reply. The
copy in the thread carries a nonce derived from the intent: if its message id was never recorded, the
mirror of the reply is sent with the same nonce, so the thread shows the reply once either way.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.domain import SentReply
from bot.hive.broadcast import broadcast, head_reference
from bot.hive.client import HiveClient
from bot.hive.curation_keys import KeyState, judge
from bot.hive.grants import (
    Grant,
    grant_of,
    hivesigner_grant_url,
    hivesigner_revoke_url,
    reply_metadata,
    reply_permlink,
)
from bot.hive.posting_key import PostingKey
from bot.hive.rpc import HiveUnavailable, RpcError
from bot.hive.transactions import MAX_BODY_BYTES, SignedTransaction, chain_time_text, sign_comment
from bot.services import Refused
from bot.services.curation import UNREACHABLE
from bot.services.reply_intents import explain
from bot.services.settling import InFlight
from bot.services.vote_refusals import is_authority_refusal
from bot.store.store import Store

log = logging.getLogger("hivecord.replies")

REPLY_INTERVAL = 20.0  # seconds between one member's replies (Hive itself takes one per 3 s per account)
DEADLINE = 10.0
UNREACHABLE_WHY = "no Hive node could be reached, so it was never sent; try again later."


@dataclass(frozen=True, slots=True)
class Authority:
    """A member's account and what the chain says of the bot's posting authority over it."""

    account: str
    bot_account: str
    grant: Grant | None  # None when no node answered
    enabled: bool
    grant_url: str
    revoke_url: str


@dataclass(frozen=True, slots=True)
class Draft:
    """A reply signed and stored as an intent, not broadcast yet: what the cog shows in the thread."""

    reply: SentReply
    body: str
    created_at: str  # chain time of the head it was signed at
    signed: SignedTransaction
    answers: str | None  # the author of the reply it answers; None when it answers the review
    copy_nonce: str  # the copy in the thread is sent with it: a mirror sent in its place after a kill gets it back

    @property
    def url(self) -> str:
        return f"https://hive.blog/@{self.reply.author}/{self.reply.permlink}"


@dataclass(frozen=True, slots=True)
class Posted:
    reply: SentReply
    url: str
    confirmed: bool  # a node took it (False: the answer was lost, the settler finds out)


class ReplyService:
    def __init__(
        self,
        store: Store,
        hive: HiveClient,
        bot_account: str,
        key: PostingKey | None,
        *,
        wake_settler: asyncio.Event | None = None,
        in_flight: InFlight | None = None,
    ) -> None:
        self._store = store
        self._hive = hive
        self.bot_account = bot_account
        self._key = key if key is not None and key.account == bot_account else None
        self._wake = wake_settler
        self._in_flight = in_flight or InFlight()
        self._key_ok: bool | None = None  # the chain lists the key as the bridge account's (None: not asked yet)

    def off_reason(self) -> str | None:
        """Why this bot posts no replies (no account configured, or no key for it); None when it can."""
        if not self.bot_account:
            return "Replies from Discord are off on this bot: its operator has not named a [bridge] account."
        if self._key is None:
            return f"Replies from Discord are off on this bot: it holds no posting key for @{self.bot_account}."
        return None

    # Opting in -----------------------------------------------------------------------------------

    async def enable(self, user_id: int) -> Authority:
        account = await self._linked(user_id)
        await self._store.discord_replies.set_enabled(user_id, True, time.time())
        return await self._authority(account, enabled=True)

    async def status(self, user_id: int) -> Authority:
        account = await self._linked(user_id)
        return await self._authority(account, enabled=await self._store.discord_replies.enabled(user_id))

    async def disable(self, user_id: int) -> Authority:
        account = await self._linked(user_id)
        await self._store.discord_replies.set_enabled(user_id, False, time.time())
        return await self._authority(account, enabled=False)

    async def _authority(self, account: str, *, enabled: bool) -> Authority:
        try:
            grant: Grant | None = await self._grant(account)
        except Refused:
            grant = None
        return Authority(
            account,
            self.bot_account,
            grant,
            enabled,
            hivesigner_grant_url(self.bot_account),
            hivesigner_revoke_url(self.bot_account),
        )

    async def _linked(self, user_id: int) -> str:
        off = self.off_reason()
        if off is not None:
            raise Refused(off)
        account = await self._store.links.account_of(user_id)
        if account is None:
            raise Refused("Link your Hive account first: `/link account:NAME` proves it is yours, without a key.")
        return account

    async def _grant(self, account: str) -> Grant:
        try:
            answer = await self._hive.call("condenser_api.get_accounts", [[account]], deadline=DEADLINE)
        except (HiveUnavailable, RpcError):
            raise Refused(UNREACHABLE) from None
        entries = answer if isinstance(answer, list) else []
        return next((g for g in (grant_of(a, account, self.bot_account) for a in entries) if g != "no account"),
                    "no account")  # fmt: skip

    # A reply -------------------------------------------------------------------------------------

    async def prepare(
        self,
        *,
        guild_id: int,
        thread_id: int,
        user_id: int,
        text: str,
        answers_message: int | None = None,
        own_message: int | None = None,
    ) -> Draft:
        """Every check, then the reply signed and its intent stored; Refused, with nothing signed, otherwise."""
        account = await self._linked(user_id)
        body = text.strip()
        if not body:
            raise Refused("There is no text to post: a reply on Hive needs some.")
        if len(body.encode()) > MAX_BODY_BYTES:
            raise Refused("That text is longer than Hive's 64 KB for one reply.")
        where = await self._store.discord_replies.thread_post(thread_id)
        if where is None:
            raise Refused("Replies go on chain only from the thread (or forum post) of a review mirrored here.")
        channel_id, post_id = where
        post = await self._store.posts.post(post_id)
        assert post is not None  # thread_post joins a live post
        if not await self._store.discord_replies.enabled(user_id):
            raise Refused("Replies from Discord are off for you: `/reply enable` turns them on.")
        if own_message is not None:
            done = await self._store.discord_replies.of_message(own_message)
            if done is not None:
                raise Refused(f"That message is on Hive already: <https://hive.blog/@{done.author}/{done.permlink}>")
        last = await self._store.discord_replies.last_by_member(user_id)
        now = time.time()
        if last is not None and now - last < REPLY_INTERVAL:
            wait = REPLY_INTERVAL - (now - last)
            raise Refused(f"One reply every {REPLY_INTERVAL:g} seconds: try again in {wait:.0f} s. Nothing was sent.")
        parent = (post.author, post.permlink)
        if answers_message is not None:
            parent = await self._store.discord_replies.reply_shown_by(channel_id, answers_message) or parent
        grant = await self._grant(account)
        if grant != "granted":
            raise Refused(
                f"@{account} does not grant @{self.bot_account} posting authority on chain (never granted, or"
                " revoked since): `/reply enable` gives the link. Nothing was sent."
            )
        await self._key_usable()
        assert self._key is not None  # _linked checked it
        try:
            ref = await head_reference(self._hive)
        except HiveUnavailable:
            raise Refused(UNREACHABLE) from None
        permlink = reply_permlink(parent[1], datetime.fromtimestamp(now, UTC))
        signed = await asyncio.to_thread(
            sign_comment, self._key, author=account, permlink=permlink, parent_author=parent[0],
            parent_permlink=parent[1], body=body, json_metadata=reply_metadata(), ref=ref,
        )  # fmt: skip
        fields = {
            "guild_id": guild_id,
            "channel_id": channel_id,
            "thread_id": thread_id,
            "post_id": post_id,
            "user_id": user_id,
            "author": account,
            "permlink": permlink,
            "parent_author": parent[0],
            "parent_permlink": parent[1],
            "message_id": own_message,
            "own_message": int(own_message is not None),
            "trx_id": signed.id,
            "trx": json.dumps(signed.trx, separators=(",", ":")),
            "expiration": chain_time_text(signed.expiration),
        }
        reply = await self._store.discord_replies.record_intent(fields, now)
        if reply is None:
            raise Refused("That reply was posted already; nothing more was sent.")
        self._in_flight.hold("reply", reply.id)  # until send() has broadcast it (the copy goes out first)
        log.info("reply %d: @%s answers @%s/%s for member %d (trx %s)", reply.id, account, parent[0], parent[1],
                 user_id, signed.id)  # fmt: skip
        answers = parent[0] if parent != (post.author, post.permlink) else None
        nonce = await self._store.discord_replies.copy_nonce(reply.id)
        return Draft(reply, body, chain_time_text(ref.head_time), signed, answers, nonce)

    async def _key_usable(self) -> None:
        """The held key is one of the bridge account's posting keys, as the chain says (asked once; a node's
        missing-authority refusal asks again): else every reply would be refused, as if members had not
        granted anything."""
        if self._key_ok is None:
            assert self._key is not None
            try:
                answer = await self._hive.call("condenser_api.get_accounts", [[self.bot_account]], deadline=DEADLINE)
            except (HiveUnavailable, RpcError):
                raise Refused(UNREACHABLE) from None
            entry = answer[0] if isinstance(answer, list) and answer else None
            found = judge("[bridge]", self.bot_account, self._key, entry)
            self._key_ok = found.state is KeyState.POSTING
            if not self._key_ok:
                log.error("replies from Discord are off: the key in %s: %s", found.variable, found.detail)
        if not self._key_ok:
            raise Refused(
                f"Replies from Discord are off on this bot: the key it holds is not a posting key of"
                f" @{self.bot_account}; its operator must fix it. Nothing was sent."
            )

    async def shown(self, draft: Draft, message_id: int) -> None:
        """The bot's copy of the reply in the thread: it stands for the reply there once it is on chain."""
        await self._store.discord_replies.shown_as(draft.reply.id, message_id)

    async def send(self, draft: Draft) -> Posted:
        """Broadcasts the stored intent: Posted, or Refused (the intent failed, nothing on chain)."""
        reply = draft.reply
        try:
            sent = await broadcast(self._hive, draft.signed)
        finally:
            self._in_flight.release("reply", reply.id)
        if sent.outcome == "accepted":
            await self._store.discord_replies.settle(reply.id, "sent", time.time())
            self._wake_settler()
            return Posted(reply, draft.url, confirmed=True)
        if sent.outcome == "unknown":
            self._wake_settler()  # a node may have it: the settler asks the chain, and sends it again if not
            return Posted(reply, draft.url, confirmed=False)
        # A failed reply's copy in the thread is marked so by a job stored with the failure (a kill after it
        # still ends with the copy marked): the member reads the same words here while they wait.
        if sent.outcome == "refused":
            why = explain(sent.reason, reply.author, self.bot_account)
            await self._store.discord_replies.settle(reply.id, "failed", time.time(), sent.reason[:500], why=why)
            log.warning("reply %d refused by the node: %s", reply.id, sent.reason[:300])
            if is_authority_refusal(sent.reason):
                # The grant was on chain a moment ago: the bot's own key may be what changed. Ask.
                self._key_ok = None
                await self._key_usable()
            raise Refused(f"The reply was not posted: {why}")
        await self._store.discord_replies.settle(
            reply.id, "failed", time.time(), "no Hive node could be reached", why=UNREACHABLE_WHY
        )
        raise Refused(UNREACHABLE)

    def _wake_settler(self) -> None:
        if self._wake is not None:
            self._wake.set()
