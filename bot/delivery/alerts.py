"""What the bot tells one member: a subscribed series' new review (by DM, or a mention where they
subscribed) and a linked author's notices; a member's closed DMs refuse their lane."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Collection, Iterable
from typing import Any

import discord

from bot.delivery.answers import Unread, readable
from bot.delivery.failures import REFUSALS, unserved
from bot.delivery.pace import Pace
from bot.delivery.permits import mention_refusal
from bot.delivery.render import badge_embed, post_embed, votes_embed, with_discuss_link
from bot.domain import Job, PostRow, is_dm_lane
from bot.process.discord_codes import CANNOT_DM
from bot.store.store import Store
from bot.text.safe import neutralise

log = logging.getLogger("hivecord.delivery")

EMBEDS_KEPT = 64


class Alerts:
    """Sends alert and notice jobs; the worker hands it each one in its lane's order."""

    def __init__(
        self,
        client: discord.Client,
        store: Store,
        budget: Pace,
        guarded: Callable[[Awaitable[discord.Message | None]], Awaitable[discord.Message | Unread | None]],
        wake: Callable[[], None],
    ) -> None:
        self.client = client
        self.store = store
        self.budget = budget  # the request budget under Discord's global limit, shared with the worker
        self._guarded = guarded
        self._wake = wake
        # Alerts of one review to many members: rendered once (keyed by the post row as read).
        self._embeds: dict[tuple[PostRow, str | None], discord.Embed] = {}

    async def alert(self, job: Job, post: PostRow | None) -> None:
        """A new review of a subscribed series: by DM in the member's lane, or a mention in a channel."""
        if post is None or post.deleted or job.user_id is None:
            await self.store.jobs.drop_job(job, "the review was deleted before the alert went out")
            return
        if await self.store.moderation.is_muted(post.id):
            await self.store.jobs.drop_job(job, "the community's moderators muted the review before the alert went out")
            return
        series = str((job.detail or {}).get("series") or post.series or "a series you follow")
        if not is_dm_lane(job.channel_id):
            refusal = await mention_refusal(self.client, job.channel_id, job.user_id)
            if refusal is not None:
                await self.store.jobs.drop_job(job, refusal)
                return
            content = f"<@{job.user_id}> a new review of **{neutralise(series)}** is out:"
            mentions = discord.AllowedMentions(everyone=False, roles=False, users=[discord.Object(job.user_id)])
            channel = self.client.get_partial_messageable(job.channel_id)
            embed = await self._alert_embed(job, post)
            message = await self._guarded(
                channel.send(content=content, embed=embed, allowed_mentions=mentions, nonce=job.nonce)
            )
            await self.store.jobs.finish_job(job, message.id if message else None)
            return
        try:
            dm = await self._dm_channel(job.user_id)
            embed = await self._alert_embed(job, post)
            await self.budget.wait()
            message = await readable(
                dm.send(
                    content=f"A new review of **{neutralise(series)}** is out:",
                    embed=embed,
                    allowed_mentions=discord.AllowedMentions.none(),
                    nonce=job.nonce,
                )
            )
        except (discord.Forbidden, discord.NotFound) as exc:
            await self._dm_refused(job, exc)
            return
        await self.store.jobs.finish_job(job, message.id)

    async def _alert_embed(self, job: Job, post: PostRow) -> discord.Embed:
        """The review's embed, with a link to its thread in the server the member subscribed in when it
        has one: looked up just before the send, so an alert that waited sees the thread made meanwhile."""
        embed = await self._review_embed(post)
        key = str((job.detail or {}).get("series_key") or "")
        sub = await self.store.subscriptions.get(job.user_id, key) if job.user_id is not None else None
        if sub is None or sub.guild_id is None:
            return embed
        link = (await self.store.replies.thread_links([post.id], sub.guild_id)).get(post.id)
        return with_discuss_link(embed.copy(), link) if link else embed

    async def _review_embed(self, post: PostRow) -> discord.Embed:
        """One review's embed, rendered once for all its subscribers (a fan-out sends it thousands of times)."""
        title = await self.store.communities.community_title(post.community)
        key = (post, title)
        embed = self._embeds.get(key)
        if embed is None:
            if len(self._embeds) >= EMBEDS_KEPT:
                self._embeds.clear()
            embed = self._embeds[key] = post_embed(post, title)
        return embed

    async def notice(self, job: Job, post: PostRow | None) -> None:
        """A linked author's DM (/notify): a curator upvoted their post, or they earned a badge."""
        badge = await self.store.posts.badge(job.badge_id) if job.badge_id is not None else None
        detail = job.detail if isinstance(job.detail, dict) else {}
        if job.user_id is None or (badge is None and (post is None or "voter" not in detail)):
            await self.store.jobs.drop_job(job, "nothing left to tell")
            return
        if badge is not None:
            content, embed = "You earned a new HiveBuzz badge:", badge_embed(badge)
        else:
            assert post is not None
            guilds = detail.get("guilds")
            if isinstance(guilds, list) and not await self._member_of_any(job.user_id, guilds):
                await self.store.jobs.drop_job(job, "the voter curates in no server the author is a member of")
                return
            content = "A curator upvoted your post:"
            embed = votes_embed(post, [(str(detail["voter"]), int(detail.get("weight") or 0))])
        try:
            dm = await self._dm_channel(job.user_id)
            await self.budget.wait()
            none = discord.AllowedMentions.none()
            message = await readable(dm.send(content=content, embed=embed, allowed_mentions=none, nonce=job.nonce))
        except (discord.Forbidden, discord.NotFound) as exc:
            await self._dm_refused(job, exc)
            return
        await self.store.jobs.finish_job(job, message.id)

    async def _member_of_any(self, user_id: int, guilds: list[Any]) -> bool:
        """Whether the member is in one of `guilds`: one REST read each (the bot has no members intent),
        each taking its turn at the shared pace, the servers they were seen in first, up to the first hit."""
        known = await self.store.notices.known_guilds(user_id)

        async def is_member(guild_id: int) -> bool:
            await self.budget.wait()
            try:
                await self.client.http.get_member(guild_id, user_id)
            except (discord.NotFound, discord.Forbidden) as exc:
                if unserved(exc):
                    raise  # a route this server does not serve: says nothing of the member
                return False
            return True

        return await member_of_any(ask_order(guilds, known), is_member)

    async def _dm_channel(self, user_id: int) -> discord.PartialMessageable:
        """The member's DM channel: opened once, then remembered so an alert costs one request."""
        known = await self.store.subscriptions.dm_channel(user_id)
        if known is None:
            await self.budget.wait()
            channel = await self.client.create_dm(discord.Object(user_id))
            known = channel.id
            await self.store.subscriptions.remember_dm_channel(user_id, known)
        return self.client.get_partial_messageable(known, type=discord.ChannelType.private)

    async def _dm_refused(self, job: Job, exc: discord.HTTPException) -> None:
        """DMs closed (50007) or the user gone: the DM lane is refused, and each alert waiting in it
        becomes one mention in the server they subscribed in instead, unless the feed it would go through
        filters the post out."""
        assert job.user_id is not None
        lane = job.channel_id
        await self.store.jobs.lane_refused(lane, f"{REFUSALS[CANNOT_DM]} ({exc.status} {exc.code})", time.time())
        for waiting in await self.store.jobs.pending_jobs(lane):
            if waiting.user_id is None:
                continue
            key = str((waiting.detail or {}).get("series_key") or "")
            sub = await self.store.subscriptions.get(waiting.user_id, key)
            fallback = None
            if sub is not None and waiting.post_id is not None:
                post = await self.store.posts.post(waiting.post_id)
                community = post.community if post else ""
                fallback = await self.store.feeds.alert_lane(sub.guild_id, community, waiting.post_id, sub.channel_id)
            instead = f"mentioning them in channel {fallback}" if fallback else "no mention (no channel, or filtered)"
            log.info("user %d does not take DMs (%s); %s", waiting.user_id, exc.code, instead)
            await self.store.jobs.dm_refused(waiting, fallback, waiting.user_id)
        self._wake()


def ask_order(guilds: Iterable[Any], known: Collection[int]) -> list[int]:
    """The servers to ask about a member, each once: those they were seen in first, then the rest, in order."""
    ids = list(dict.fromkeys(int(g) for g in guilds))
    return [g for g in ids if g in known] + [g for g in ids if g not in known]


async def member_of_any(guilds: Iterable[int], is_member: Callable[[int], Awaitable[bool]]) -> bool:
    """Asks server by server, stopping at the first the member is in."""
    for guild_id in guilds:
        if await is_member(guild_id):
            return True
    return False
