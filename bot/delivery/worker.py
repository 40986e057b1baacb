"""Sends what each channel is owed, in order, and records Discord's answer before moving on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable

import aiohttp
import discord

from bot.delivery.planner import plan
from bot.render import badge_embed, post_embed, role_ping, tombstone_embed, votes_embed
from bot.store.delivery import Job
from bot.store.store import PostRow, Store
from bot.text import neutralise

log = logging.getLogger("hivecord.delivery")

# Discord error codes that mean the channel itself is out of reach, not this one message.
CHANNEL_GONE = {10003: "the channel no longer exists", 50001: "the bot cannot see the channel"}
MISSING_PERMISSIONS = 50013
UNKNOWN_MESSAGE = 10008
RETRY_MAX = 300.0
PLAN_AT_LEAST_EVERY = 30.0


class Pace:
    """At most `rate` sends a second across all channels, so a backlog drains without bursts."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            if self._next > now:
                await asyncio.sleep(self._next - now)
            self._next = max(now, self._next) + self.interval


class ChannelBroken(Exception):
    pass


class DeliveryWorker:
    def __init__(
        self,
        client: discord.Client,
        store: Store,
        *,
        max_per_second: float = 5.0,
        requests_per_second: float = 45.0,
        digest_minutes: int = 10,
        stats_refresh_minutes: int = 5,
        idle_poll: float = 1.0,
        stop_grace: float = 3.0,
    ) -> None:
        self.client = client
        self.store = store
        # Channel posts drain at a gentle pace; every request also spends from one budget under
        # Discord's global limit, so a DM fan-out can use all of it when channels are quiet.
        self.pace = Pace(max_per_second)
        self.budget = Pace(requests_per_second)
        self.digest_minutes = digest_minutes
        self.stats_refresh = stats_refresh_minutes * 60.0
        self.idle_poll = idle_poll
        self._wake = asyncio.Event()
        self._senders: dict[int, asyncio.Task[None]] = {}
        self._stopping = False
        self._stopped = asyncio.Event()  # ends retry waits at once on stop
        self.stop_grace = stop_grace
        self.sent = 0

    def wake(self) -> None:
        """New outbox rows or jobs: plan and send now instead of at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        planned_at = -PLAN_AT_LEAST_EVERY
        while not self._stopping:
            woken = self._wake.is_set()
            self._wake.clear()
            try:
                # Planning takes the write lock: only when the follower or a command said there is
                # something new, and now and then in case a writer outside this process did.
                if woken or time.monotonic() - planned_at >= PLAN_AT_LEAST_EVERY:
                    planned_at = time.monotonic()
                    planned = await plan(self.store, digest_minutes=self.digest_minutes)
                    if planned:
                        log.debug("planned %d job(s)", planned)
                for channel_id in await self.store.delivery.channels_with_work():
                    task = self._senders.get(channel_id)
                    if task is None or task.done():
                        self._senders[channel_id] = asyncio.create_task(self._drain(channel_id))
                await self._refresh_stale()
            except Exception:
                log.exception("delivery pass failed; trying again shortly")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.idle_poll)

    async def stop(self) -> None:
        """Lets each channel finish the send in hand (so its answer is recorded), then stops."""
        self._stopping = True
        self._stopped.set()
        self._wake.set()
        senders = [t for t in self._senders.values() if not t.done()]
        if senders:
            _, pending = await asyncio.wait(senders, timeout=self.stop_grace)
            if pending:
                log.warning("%d send(s) still in hand after %g s; cancelling them", len(pending), self.stop_grace)
            for task in pending:
                task.cancel()

    async def _drain(self, channel_id: int) -> None:
        delivery = self.store.delivery
        while not self._stopping:
            job = await delivery.next_job(channel_id)
            if job is None:
                return
            try:
                if job.channel_id >= 0:
                    await self.pace.wait()
                    await self.budget.wait()
                await self._execute(job)
                self.sent += 1
            except ChannelBroken as exc:
                log.warning("channel %d: %s; its feeds are marked broken until re-added", channel_id, exc)
                await delivery.mark_channel_broken(channel_id, str(exc))
                return
            except discord.HTTPException as exc:
                if exc.status >= 500 or exc.status == 429:
                    await self._retry(job, f"Discord answered {exc.status}")
                else:
                    # A 400 means this one message is wrong; holding the channel for it helps no one.
                    log.error("channel %d: dropping job %d (%s): %s", channel_id, job.id, job.action, exc)
                    await delivery.drop_job(job, f"{exc.status} {exc.code}: {exc.text}"[:500])
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                await self._retry(job, f"network: {exc or type(exc).__name__}")

    async def _retry(self, job: Job, reason: str) -> None:
        delay = min(RETRY_MAX, 2.0 ** min(job.attempts, 10))
        log.warning("channel %d: job %d failed (%s); retrying in %.0f s", job.channel_id, job.id, reason, delay)
        await self.store.delivery.retry_later(job, reason)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), delay)

    def _channel(self, channel_id: int) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(channel_id)

    async def _guarded(self, call: Awaitable[discord.Message | None]) -> discord.Message | None:
        """Awaits a send or edit, turning channel-wide refusals into ChannelBroken."""
        try:
            return await call
        except discord.Forbidden as exc:
            if exc.code == MISSING_PERMISSIONS:
                raise ChannelBroken("missing permissions (the bot needs View, Send Messages, Embed Links)") from exc
            raise ChannelBroken(CHANNEL_GONE.get(exc.code, f"Discord refused access ({exc.code})")) from exc
        except discord.NotFound as exc:
            if exc.code == UNKNOWN_MESSAGE:
                return None
            raise ChannelBroken(CHANNEL_GONE.get(exc.code, "the channel was not found")) from exc

    async def _execute(self, job: Job) -> None:
        delivery = self.store.delivery
        channel = self._channel(job.channel_id)
        post = await self.store.post(job.post_id) if job.post_id is not None else None
        if job.action in ("post", "preview"):
            if post is None or (post.deleted and job.action == "post"):
                await delivery.drop_job(job, "the post was deleted before it was delivered")
                return
            feed = await delivery.feed(job.feed_id) if job.feed_id is not None else None
            content, mentions = role_ping(feed.role_id if feed and job.action == "post" else None)
            embed = post_embed(post, await delivery.community_title(post.community), preview=job.action == "preview")
            message = await self._guarded(
                channel.send(content=content, embed=embed, allowed_mentions=mentions, nonce=job.nonce)
            )
            await delivery.finish_job(job, message.id if message else None, mirrors_post=job.action == "post")
        elif job.action in ("edit", "tombstone"):
            message_id = await delivery.mirror(job.channel_id, job.post_id or 0)
            if post is None or message_id is None:
                await delivery.drop_job(job, "no mirrored message to edit")
                return
            if job.action == "edit":
                embed = post_embed(post, await delivery.community_title(post.community))
            else:
                embed = tombstone_embed(post)
            edited = await self._guarded(channel.get_partial_message(message_id).edit(embed=embed))
            if edited is None:
                await delivery.drop_job(job, "the mirrored message was deleted in Discord")
                return
            await delivery.finish_job(job, message_id)
        elif job.action in ("vote", "votes"):
            if post is None:
                await delivery.drop_job(job, "unknown post")
                return
            voters = [(str(v), int(w)) for v, w in job.detail or []]
            embed = votes_embed(post, voters)
            message = await self._guarded(
                channel.send(embed=embed, allowed_mentions=discord.AllowedMentions.none(), nonce=job.nonce)
            )
            await delivery.finish_job(job, message.id if message else None)
        elif job.action == "badge":
            badge = await self.store.badge(job.badge_id or 0)
            if badge is None:
                await delivery.drop_job(job, "unknown badge")
                return
            embed = badge_embed(*badge)
            message = await self._guarded(
                channel.send(embed=embed, allowed_mentions=discord.AllowedMentions.none(), nonce=job.nonce)
            )
            await delivery.finish_job(job, message.id if message else None)
        elif job.action == "alert":
            await self._alert(job, post)
        else:
            await delivery.drop_job(job, f"unknown action {job.action}")

    async def _alert(self, job: Job, post: PostRow | None) -> None:
        """A new review of a subscribed series: by DM in the member's lane, or a mention in a channel."""
        delivery = self.store.delivery
        if post is None or post.deleted or job.user_id is None:
            await delivery.drop_job(job, "the review was deleted before the alert went out")
            return
        series = str((job.detail or {}).get("series") or post.series or "a series you follow")
        embed = post_embed(post, await delivery.community_title(post.community))
        if job.channel_id >= 0:
            content = f"<@{job.user_id}> a new review of **{neutralise(series)}** is out:"
            mentions = discord.AllowedMentions(everyone=False, roles=False, users=[discord.Object(job.user_id)])
            channel = self._channel(job.channel_id)
            message = await self._guarded(
                channel.send(content=content, embed=embed, allowed_mentions=mentions, nonce=job.nonce)
            )
            await delivery.finish_job(job, message.id if message else None)
            return
        try:
            dm = await self._dm_channel(job.user_id)
            await self.budget.wait()
            message = await dm.send(
                content=f"A new review of **{neutralise(series)}** is out:",
                embed=embed,
                allowed_mentions=discord.AllowedMentions.none(),
                nonce=job.nonce,
            )
        except (discord.Forbidden, discord.NotFound) as exc:
            await self._dm_refused(job, exc)
            return
        await delivery.finish_job(job, message.id)

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
        """DMs closed (50007) or the user gone: one mention in the server they subscribed in instead."""
        assert job.user_id is not None
        key = str((job.detail or {}).get("series_key") or "")
        sub = await self.store.subscriptions.get(job.user_id, key)
        fallback = None
        if sub is not None and job.post_id is not None:
            post = await self.store.post(job.post_id)
            community = post.community if post else ""
            fallback = await self.store.delivery.feed_channel_of(sub.guild_id, community) or sub.channel_id
        log.info("user %d does not take DMs (%s); mentioning them in channel %s", job.user_id, exc.code, fallback)
        await self.store.delivery.dm_refused(job, fallback, job.user_id)
        self.wake()

    async def _refresh_stale(self) -> None:
        """Edits mirrored embeds whose vote count moved, at most once per refresh interval each."""
        now = time.time()
        for channel_id, post_id, message_id in await self.store.delivery.stale_mirrors(now - self.stats_refresh):
            post = await self.store.post(post_id)
            if post is None or post.deleted:
                await self.store.delivery.mirror_refreshed(channel_id, post_id, now)
                continue
            embed = post_embed(post, await self.store.delivery.community_title(post.community))
            try:
                await self.pace.wait()
                await self.budget.wait()
                await self._guarded(self._channel(channel_id).get_partial_message(message_id).edit(embed=embed))
            except ChannelBroken as exc:
                await self.store.delivery.mark_channel_broken(channel_id, str(exc))
            except (discord.HTTPException, aiohttp.ClientError, TimeoutError, OSError) as exc:
                log.info("channel %d: vote count refresh failed (%s); later", channel_id, exc)
                continue
            await self.store.delivery.mirror_refreshed(channel_id, post_id, now)
