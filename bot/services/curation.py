"""Curators vote from Discord: who may, what is checked before anything is signed, and the vote itself.

The order of a vote is the crash-safety rule: sign, store the intent with its transaction, broadcast,
record what the node said. A kill between any two steps leaves an intent the settler (settler.py)
finishes from the chain; nothing is signed twice for one press.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.domain import DAY, CastVote, CurationRule, PostRow
from bot.hive.broadcast import broadcast, head_reference
from bot.hive.client import HiveClient
from bot.hive.rpc import HiveUnavailable
from bot.hive.transactions import chain_time_text, read_chain_time, sign_vote
from bot.services import Refused
from bot.services.curation_keys import CurationKeys
from bot.services.settling import InFlight
from bot.services.vote_refusals import explain, is_authority_refusal
from bot.store.store import Store

log = logging.getLogger("hivecord.curation")

PAYOUT_WINDOW = timedelta(days=7)
WEIGHT_CHOICES = (100, 50, 25)  # percent, offered beside the rule's default
UNREACHABLE = "No Hive node could be reached, so nothing was sent: try again in a minute."


@dataclass(frozen=True, slots=True)
class Ballot:
    """What a curator is asked to confirm: the post, the account that votes, the weights offered."""

    post: PostRow
    account: str
    default: int  # percent
    choices: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class VoteResult:
    vote: CastVote
    sentence: str  # what the curator reads


class CurationService:
    def __init__(
        self,
        store: Store,
        hive: HiveClient,
        keys: CurationKeys,
        *,
        daily_votes: int,
        margin_hours: float,
        wake_settler: asyncio.Event | None = None,
        in_flight: InFlight | None = None,
    ) -> None:
        self._store = store
        self._hive = hive
        self.keys = keys
        self.daily_votes = daily_votes
        self.margin = timedelta(hours=margin_hours)
        self._wake = wake_settler
        self._in_flight = in_flight or InFlight()

    # Rules ---------------------------------------------------------------------------------------

    async def set_rule(
        self, guild_id: int, community: str, role_id: int, weight: int, daily_cap: int, audit_channel: int | None
    ) -> CurationRule:
        if self.keys.account(community) is None:
            raise Refused(f"{self.keys.off_reason(community)}: the bot's operator names it under [curation] accounts.")
        if not 1 <= weight <= 100:
            raise Refused("The weight is a percentage from 1 to 100.")
        if not 1 <= daily_cap <= 1000:
            raise Refused("The daily cap is a number of votes from 1 to 1000.")
        rule = CurationRule(guild_id, community, role_id, weight * 100, daily_cap, audit_channel)
        await self._store.curation.set_rule(rule, datetime.now(UTC).isoformat(timespec="seconds"))
        return rule

    async def rules(self, guild_id: int) -> list[CurationRule]:
        return await self._store.curation.rules(guild_id)

    async def remove_rule(self, guild_id: int, community: str) -> bool:
        return await self._store.curation.remove_rule(guild_id, community)

    def enabled(self, community: str) -> bool:
        """Whether a mirrored post of the community carries an Upvote button."""
        return self.keys.usable(community)

    # A press -------------------------------------------------------------------------------------

    async def post_by_id(self, post_id: int) -> PostRow:
        post = await self._store.posts.post(post_id)
        if post is None or post.deleted:
            raise Refused("That post is not in this bot's records any more (it was deleted on chain).")
        return post

    async def post_by_ref(self, author: str, permlink: str) -> PostRow:
        post = await self._store.posts.live_post(author, permlink)
        if post is None:
            raise Refused(
                f"@{author}/{permlink} is not a post this bot has seen in a community it follows: only mirrored"
                " community posts can be curated from here."
            )
        return post

    async def ballot(self, guild_id: int, role_ids: set[int], post: PostRow) -> Ballot:
        """The weights to confirm, once every check that needs no node passes; Refused otherwise."""
        rule, account = await self._may_curate(guild_id, role_ids, post)
        await self._check_post(post, account, await self._chain_now())
        existing = await self._store.curation.vote_on(account, post.author, post.permlink)
        if existing is not None:
            raise Refused(already_voted(existing))
        await self._not_voted_on_chain(post, account)
        default = rule.weight // 100
        choices = tuple(dict.fromkeys((default, *WEIGHT_CHOICES)))
        return Ballot(post, account, default, choices)

    async def vote(self, guild_id: int, user_id: int, role_ids: set[int], post_id: int, percent: int) -> VoteResult:
        """Checks, signs, stores the intent, broadcasts: the curator's answer, or Refused with nothing sent."""
        if not 1 <= percent <= 100:
            raise Refused("The weight is a percentage from 1 to 100.")
        post = await self.post_by_id(post_id)
        rule, account = await self._may_curate(guild_id, role_ids, post)
        existing = await self._store.curation.vote_on(account, post.author, post.permlink)
        if existing is not None:
            raise Refused(already_voted(existing))
        await self._not_voted_on_chain(post, account)
        now = time.time()
        if await self._store.curation.curator_votes_since(guild_id, user_id, now - DAY) >= rule.daily_cap:
            raise Refused(f"You have cast your {rule.daily_cap} votes for the last 24 hours here; try again later.")
        if await self._store.curation.account_votes_since(account, now - DAY) >= self.daily_votes:
            raise Refused(
                f"@{account} has cast its {self.daily_votes} votes from Discord for the last 24 hours; try again later."
            )
        if await self.keys.verify(account) is False:
            raise Refused(f"Curation is off for {post.community}: {self.keys.off_reason(post.community)}.")
        key = self.keys.key(account)
        if key is None:
            raise Refused(f"Curation is off for {post.community}: {self.keys.off_reason(post.community)}.")
        try:
            ref = await head_reference(self._hive)
        except HiveUnavailable:
            raise Refused(UNREACHABLE) from None
        await self._check_post(post, account, ref.head_time)
        signed = await asyncio.to_thread(sign_vote, key, account, post.author, post.permlink, percent * 100, ref)
        fields = {
            "community": post.community,
            "voter": account,
            "post_id": post.id,
            "author": post.author,
            "permlink": post.permlink,
            "weight": percent * 100,
            "guild_id": guild_id,
            "user_id": user_id,
            "trx_id": signed.id,
            "trx": json.dumps(signed.trx, separators=(",", ":")),
            "expiration": chain_time_text(signed.expiration),
        }
        vote, made = await self._store.curation.record_intent(fields, now)
        if not made:
            raise Refused(already_voted(vote))
        log.info("vote %d: @%s votes %d%% on @%s/%s for member %d (trx %s)", vote.id, account, percent,
                 post.author, post.permlink, user_id, signed.id)
        self._in_flight.hold("vote", vote.id)
        try:
            sent = await broadcast(self._hive, signed)
        finally:
            self._in_flight.release("vote", vote.id)
        if sent.outcome == "accepted":
            await self._store.curation.settle(vote.id, "sent", time.time())
            self._wake_settler()
            sentence = (
                f"@{account} voted {percent}% on **{post.title or post.permlink}**; it is on chain within a block"
                f" (transaction `{signed.id[:12]}`)."
            )
        elif sent.outcome == "refused":
            reason = explain(sent.reason, account)
            if is_authority_refusal(sent.reason):
                self.keys.mark(account, False)
            await self._store.curation.settle(vote.id, "failed", time.time(), sent.reason[:500])
            log.warning("vote %d refused by the node: %s", vote.id, sent.reason[:300])
            raise Refused(f"The vote was not made: {reason}")
        elif sent.outcome == "unreachable":
            await self._store.curation.settle(vote.id, "failed", time.time(), "no Hive node could be reached")
            raise Refused(UNREACHABLE)
        else:
            # A node may have it: the settler asks the chain, and sends this same transaction if not.
            self._wake_settler()
            sentence = (
                f"The nodes did not confirm the vote of @{account} ({sent.reason}); the bot is checking the chain"
                " and will not vote twice."
            )
        return VoteResult(vote, sentence)

    async def log_page(self, guild_id: int, page: int, per_page: int) -> tuple[list[CastVote], int]:
        return await self._store.curation.log(guild_id, page * per_page, per_page)

    # Checks --------------------------------------------------------------------------------------

    async def _may_curate(self, guild_id: int, role_ids: set[int], post: PostRow) -> tuple[CurationRule, str]:
        account = self.keys.account(post.community)
        if account is None:
            raise Refused(f"{post.community} has no curation account in this bot: its posts cannot be voted on here.")
        if not self.keys.usable(post.community):
            raise Refused(f"Curation is off for {post.community}: {self.keys.off_reason(post.community)}.")
        rule = await self._store.curation.rule(guild_id, post.community)
        if rule is None:
            raise Refused(
                f"Nobody curates {post.community} from this server yet: an admin names the curator role with"
                " `/curation set`."
            )
        if rule.role_id not in role_ids:
            raise Refused(f"Only members with the <@&{rule.role_id}> role vote for {post.community} from here.")
        return rule, account

    async def _chain_now(self) -> datetime | None:
        text = await self._store.db.get_meta("cursor_time")
        try:
            return read_chain_time(text) if text else None
        except ValueError:
            return None

    async def _check_post(self, post: PostRow, account: str, now: datetime | None) -> None:
        if post.author == account:
            raise Refused(f"That post is by @{account} itself: the curation account does not vote on its own posts.")
        try:
            created = read_chain_time(post.created_at)
        except ValueError:
            raise Refused("That post's time cannot be read, so its payout window is unknown.") from None
        if now is not None and now >= created + PAYOUT_WINDOW - self.margin:
            raise Refused(
                "That post's 7-day payout window has closed (or closes within "
                f"{self.margin.total_seconds() / 3600:g} hours): a vote would earn it nothing."
            )

    async def _not_voted_on_chain(self, post: PostRow, account: str) -> None:
        """A vote the account cast outside Discord (a curator's wallet, another bot) is the account's vote too:
        voting again would change its weight, not add a vote."""
        weight = await self._store.curation.chain_weight(post.id, account)
        if weight:
            raise Refused(
                f"@{account} already voted {weight / 100:g}% on this post on chain, outside Discord."
                " Nothing was sent."
            )

    def _wake_settler(self) -> None:
        if self._wake is not None:
            self._wake.set()


def already_voted(vote: CastVote) -> str:
    state = {"signed": "is being sent", "sent": "was sent", "landed": "is on chain", "failed": "failed"}[vote.state]
    return (
        f"@{vote.voter} already voted {vote.weight / 100:g}% on @{vote.author}/{vote.permlink}, pressed by"
        f" <@{vote.user_id}> <t:{int(vote.created_at)}:R>; that vote {state}. Nothing more was sent."
    )

