"""Sends what each channel is owed, in order, and records Discord's answer before moving on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import aiohttp
import discord

from bot.delivery.alerts import Alerts
from bot.delivery.answers import Unread, readable, record_answers
from bot.delivery.buttons import upvote_view
from bot.delivery.conversation import Conversation
from bot.delivery.failed_replies import mark_failed_copy
from bot.delivery.failures import classify
from bot.delivery.pace import FairPace, Pace
from bot.delivery.permits import linked_author
from bot.delivery.planner import ReplyPace, plan
from bot.delivery.render import audit_embed, badge_embed, post_embed, role_ping, tombstone_embed, votes_embed
from bot.delivery.roles import change_role
from bot.delivery.senders import Senders
from bot.domain import DAY, ROLE_ACTIONS, Feed, Job, PostRow, is_dm_lane
from bot.process.backoff import doubling
from bot.process.discord_codes import NOT_AUTHOR, UNKNOWN_MESSAGE
from bot.process.retry import describe
from bot.store.coordination import Coordination, SingleProcess
from bot.store.store import Store

log = logging.getLogger("hivecord.delivery")

RETRY_BASE = 2.0  # a failed lane waits 2 s, then 4, 8, ... up to RETRY_CAP
RETRY_CAP = 300.0
PASS_RETRY_CAP = 30.0  # a delivery pass that keeps failing (the database away) is tried at least this often
PLAN_AT_LEAST_EVERY = 30.0
PRUNE_EVERY = 3600.0


class DeliveryWorker:
    def __init__(
        self,
        client: discord.Client,
        store: Store,
        *,
        max_per_second: float = 5.0,
        requests_per_second: float = 45.0,
        digest_minutes: int = 10,
        replies: ReplyPace | None = None,
        stats_refresh_minutes: int = 5,
        idle_poll: float = 1.0,
        retry_base: float = RETRY_BASE,
        retry_cap: float = RETRY_CAP,
        retention_days: float = 14,
        stop_grace: float = 3.0,
        upvotes: Callable[[str], bool] = lambda community: False,
        late_start: Callable[[PostRow], Awaitable[object]] | None = None,
        coordination: Coordination | None = None,
    ) -> None:
        self.client = client
        self.upvotes = upvotes  # whether a community's mirrors carry an Upvote button (it can vote)
        self.store = store
        # Channel posts drain at a gentle pace shared fairly by servers; every request also spends
        # from one budget under Discord's global limit, so a DM fan-out can use all of it when quiet.
        self.pace = FairPace(max_per_second)
        self.budget = Pace(requests_per_second)
        self.rates = (max_per_second, requests_per_second)  # this process's shares are these split (share())
        # The leader plans, refreshes vote counts and prunes; every process sends the lanes it claims.
        self.coordination = coordination or SingleProcess()
        self.digest_minutes = digest_minutes
        self.replies = replies or ReplyPace()
        self.stats_refresh = stats_refresh_minutes * 60.0
        self.idle_poll = idle_poll
        self.retry_base = retry_base
        self.retry_cap = retry_cap
        self.retention = retention_days * DAY
        self._stopped = asyncio.Event()
        self._wake = asyncio.Event()
        # One sender per lane with work, while this process holds the lane's claim.
        self.senders = Senders(self.coordination, self._drain_lane)
        self._unrecorded: dict[int, int] = {}  # lanes' failures in a row that could not be recorded
        self._prune_at = 0.0
        self._stopping = False
        self.stop_grace = stop_grace
        self.sent = 0
        # A 2xx whose body discord.py cannot read is a send or edit done, not a failure (answers.py).
        record_answers(client.http)
        # A new thread first stores the replies its post already has on chain (`late_start`).
        self.conversation = Conversation(client, store, late_start, replies_per_window=self.replies.per_window)
        self.alerts = Alerts(client, store, self.budget, self._guarded, self.wake)

    def wake(self) -> None:
        """New outbox rows or jobs: plan and send now instead of at the next poll."""
        self._wake.set()

    def share(self, processes: int) -> None:
        """Paces at 1/`processes` of the configured rates: the processes sending together stay within them."""
        self.pace.set_rate(self.rates[0] / processes)
        self.budget.set_rate(self.rates[1] / processes)

    async def run(self) -> None:
        planned_at = -PLAN_AT_LEAST_EVERY
        failed = 0  # passes failed in a row (the database away): waited out longer each time
        while not self._stopping:
            woken = self._wake.is_set()
            self._wake.clear()
            try:
                # Planning takes the write lock: only when the follower or a command said there is
                # something new, and now and then in case a writer outside this process did.
                leading = self.coordination.leading
                if leading and (woken or time.monotonic() - planned_at >= PLAN_AT_LEAST_EVERY):
                    planned_at = time.monotonic()
                    planned = await plan(self.store, digest_minutes=self.digest_minutes, replies=self.replies)
                    if planned:
                        log.debug("planned %d job(s)", planned)
                # Refused lanes and lanes backing off are not listed: no sender, no request.
                self.senders.start(await self.store.jobs.channels_with_work(time.time()))
                if leading:
                    await self._refresh_stale()
                    await self._prune()
                failed = 0
            except Exception as exc:
                failed += 1
                wait = doubling(self.idle_poll, PASS_RETRY_CAP, failed - 1)
                if failed == 1:
                    log.exception("delivery pass failed; trying again in %.0f s", wait)
                else:
                    log.warning("delivery pass failed again (%s); trying again in %.0f s", describe(exc), wait)
                await self._pause(wait)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.idle_poll)

    async def _pause(self, seconds: float) -> None:
        """Waits `seconds`, or less if stopped: a wake does not cut a wait after a failure short."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), seconds)

    async def stop(self) -> None:
        """Lets each channel finish the send in hand (so its answer is recorded), then stops."""
        self._stopping = True
        self._stopped.set()
        self._wake.set()
        await self.senders.stop(self.stop_grace)

    async def _drain_lane(self, lane: int) -> None:
        """Sends the lane's jobs in order until it has none, or a failure stops it (recorded)."""
        while not self._stopping:
            job: Job | None = None
            try:
                # A send racing this sender (a vote-count refresh) may have refused the lane.
                if not await self.store.jobs.lane_may_send(lane, time.time()):
                    return
                job = await self.store.jobs.next_job(lane)
                if job is None:
                    return
                feed = await self.store.feeds.feed(job.feed_id) if job.feed_id is not None else None
                if job.action in ROLE_ACTIONS:
                    await self.budget.wait()  # not a message: only the request budget applies
                elif not is_dm_lane(job.channel_id):
                    # Whose turn it takes at the fair pace: its feed's server, else its lane's own (an
                    # alert's fallback, an audit line).
                    await self.pace.wait(("guild", feed.guild_id) if feed else ("lane", job.channel_id))
                    await self.budget.wait()
                await self._execute(job, feed)
                self.sent += 1
                self._unrecorded.pop(lane, None)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # every failure is recorded on the lane: the sender never dies
                if not await self._failed(lane, job, exc):
                    return

    async def _failed(self, lane: int, job: Job | None, exc: Exception) -> bool:
        """Records a failed send on its job and lane; returns whether the lane may go on."""
        outcome, reason = classify(exc, role=job is not None and job.action in ROLE_ACTIONS)
        try:
            if outcome == "rejected" and job is not None and isinstance(exc, discord.HTTPException):
                log.error("lane %d: Discord rejected job %d (%s): %s", lane, job.id, job.action, reason)
                broken = await self.store.jobs.reject_job(job, exc.status, exc.code, exc.text)
                if broken:
                    log.warning("lane %d: feed %s marked broken: %s", lane, job.feed_id, broken)
                return True
            if outcome == "refused":
                log.warning("lane %d refused: %s; nothing is sent there until something changes", lane, reason)
                await self.store.jobs.lane_refused(lane, reason, time.time())
                return False
            delay = await self.store.jobs.lane_failed(
                lane, reason, base=self.retry_base, cap=self.retry_cap, now=time.time(), job=job
            )
            unexpected = not isinstance(exc, discord.HTTPException | aiohttp.ClientError | TimeoutError | OSError)
            log.warning(
                "lane %d: %s failed (%s); trying again in %.0f s",
                lane,
                f"job {job.id}" if job else "a send",
                reason,
                delay,
                exc_info=exc if unexpected else None,
            )
        except Exception:
            # Not even the failure could be recorded (the database restarting?): hold the lane here
            # instead, from RETRY_BASE doubling to the cap, so a database back in a second costs seconds.
            unrecorded = self._unrecorded.get(lane, 0)
            self._unrecorded[lane] = unrecorded + 1
            delay = doubling(self.retry_base, self.retry_cap, unrecorded)
            log.exception("lane %d: could not record a failed send; holding the lane for %.0f s", lane, delay)
            self.senders.hold(lane, delay)
            return False
        self._unrecorded.pop(lane, None)
        return False

    def _channel(self, channel_id: int) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(channel_id)

    async def _guarded(self, call: Awaitable[discord.Message | None]) -> discord.Message | Unread | None:
        """Awaits a send or edit; None when the message itself is gone (the lane is fine)."""
        try:
            return await readable(call)
        except (discord.NotFound, discord.Forbidden) as exc:
            if exc.code in (UNKNOWN_MESSAGE, NOT_AUTHOR):
                return None
            raise

    async def _in(
        self, lane: int, where: int, call: Callable[[], Awaitable[discord.Message]]
    ) -> discord.Message | Unread | None:
        """A send or edit: in a forum post's thread (`where` is not the lane's channel), one that
        knows archived, locked and deleted threads; else guarded as usual."""
        if where != lane:
            return await self.conversation.in_thread(lane, where, call)
        return await self._guarded(call())

    async def _execute(self, job: Job, feed: Feed | None) -> None:
        channel = self._channel(job.channel_id)
        post = await self.store.posts.post(job.post_id) if job.post_id is not None else None
        if job.action == "replies_more":
            await self.conversation.more_replies(job, feed)
            return
        if job.reply_id is not None:
            await self.conversation.execute(job, feed)
            return
        forum = feed is not None and feed.threads == "forum"
        if forum and job.action in ("vote", "votes", "badge"):
            # A forum takes posts only: these go into the review's own post.
            target = await self.conversation.forum_thread(job, feed, post)
            if target is None:
                await self.store.jobs.drop_job(job, "no forum post to put it in")
                return
            channel = self._channel(target)
        if job.action in ("post", "preview"):
            if post is None or (post.deleted and job.action == "post"):
                await self.store.jobs.drop_job(job, "the post was deleted before it was delivered")
                return
            # Muted while it waited: sent as the tombstone (no ping, no button), for an unmute to edit back.
            muted = await self.store.moderation.mute_notes(post.id) if job.action == "post" else None
            mention = job.action == "post" and feed is not None and muted is None
            author = await linked_author(self.client, self.store, feed, post) if mention and feed else None
            content, mentions = role_ping(feed.role_id if feed and mention else None, author)
            embed = post_embed(
                post, await self.store.communities.community_title(post.community), preview=job.action == "preview"
            )
            view = upvote_view(post.id) if job.action == "post" and self.upvotes(post.community) else None
            if muted is not None:
                embed, view = tombstone_embed(post, muted=muted), None
            if forum and job.action == "post":
                assert feed is not None
                await self.conversation.forum_post(
                    job, feed, post, embed=embed, content=content, mentions=mentions, view=view, muted=muted is not None
                )
                return
            message = await self._guarded(
                channel.send(content=content, embed=embed, allowed_mentions=mentions, nonce=job.nonce,
                             view=view or discord.utils.MISSING)
            )
            await self.store.jobs.finish_job(job, message.id if message else None, mirrors_post=job.action == "post")
        elif job.action in ("edit", "tombstone"):
            message_id = await self.store.jobs.mirror(job.channel_id, job.post_id or 0)
            if post is None or message_id is None:
                await self.store.jobs.drop_job(job, "no mirrored message to edit")
                return
            if job.action == "edit":
                embed = post_embed(post, await self.store.communities.community_title(post.community))
            else:
                muted = job.detail.get("muted") if isinstance(job.detail, dict) else None
                embed = tombstone_embed(post, muted=muted if isinstance(muted, str) else None)
            where = await self.conversation.message_channel(job.channel_id, post.id)
            mirror = self._channel(where).get_partial_message(message_id)
            # An edit leaves the Upvote button as it is; a tombstone takes it away, an unmute gives it back.
            if job.action == "edit":
                unmuted = isinstance(job.detail, dict) and job.detail.get("unmuted") and self.upvotes(post.community)
                view = upvote_view(post.id) if unmuted else discord.utils.MISSING
                edited = await self._in(job.channel_id, where, lambda: mirror.edit(embed=embed, view=view))
            else:
                edited = await self._in(job.channel_id, where, lambda: mirror.edit(embed=embed, view=None))
            if edited is None:
                await self.store.jobs.drop_job(job, "the mirrored message was deleted in Discord")
                return
            await self.conversation.rename_for_mute(job, post)
            await self.store.jobs.finish_job(job, message_id)
        elif job.action in ("vote", "votes", "badge"):
            if job.action == "badge":
                badge = await self.store.posts.badge(job.badge_id or 0)
                if badge is None:
                    await self.store.jobs.drop_job(job, "unknown badge")
                    return
                embed = badge_embed(badge)
            elif post is None:
                await self.store.jobs.drop_job(job, "unknown post")
                return
            else:
                voters = [(str(v), int(w)) for v, w in job.detail or []]
                pressed = await self.store.curation.pressed_by(voters[0][0], post.id) if len(voters) == 1 else None
                embed = votes_embed(post, voters, pressed_by=pressed)
            nonce, none = job.nonce, discord.AllowedMentions.none()
            sent = await self._in(
                job.channel_id, channel.id, lambda: channel.send(embed=embed, allowed_mentions=none, nonce=nonce)
            )
            await self.store.jobs.finish_job(job, sent.id if sent else None)
        elif job.action == "alert":
            await self.alerts.alert(job, post)
        elif job.action in ROLE_ACTIONS:
            await change_role(self.client, self.store, job)
        elif job.action == "notice":
            await self.alerts.notice(job, post)
        elif job.action == "audit":
            await self._audit(job)
        elif job.action == "reply_failed":
            await mark_failed_copy(self.client, self.store, self.conversation, job)
        else:
            await self.store.jobs.drop_job(job, f"unknown action {job.action}")

    async def _audit(self, job: Job) -> None:
        """A vote made from Discord, reported in its server's audit channel once it is settled."""
        detail = job.detail if isinstance(job.detail, dict) else {}
        vote = await self.store.curation.vote(int(detail.get("vote", 0)))
        if vote is None:
            await self.store.jobs.drop_job(job, "unknown vote")
            return
        post = await self.store.posts.post(vote.post_id)
        none = discord.AllowedMentions.none()
        channel = self._channel(job.channel_id)
        sent = await self._guarded(channel.send(embed=audit_embed(vote, post), allowed_mentions=none, nonce=job.nonce))
        await self.store.jobs.finish_job(job, sent.id if sent else None)

    async def _refresh_stale(self) -> None:
        """Edits mirrored embeds whose vote count moved, at most once per refresh interval each.

        A refresh is a send in its channel's lane: a failure backs the lane off or refuses it.
        """
        now = time.time()
        failed: set[int] = set()
        for channel_id, post_id, message_id in await self.store.jobs.stale_mirrors(now - self.stats_refresh, now):
            if channel_id in failed or self.senders.is_held(channel_id):
                continue
            try:
                post = await self.store.posts.post(post_id)
                if post is None or post.deleted or await self.store.moderation.is_muted(post_id):
                    await self.store.jobs.mirror_refreshed(channel_id, post_id, now)
                    continue
                embed = post_embed(post, await self.store.communities.community_title(post.community))
                await self.pace.wait(("lane", channel_id))
                await self.budget.wait()
                where = await self.conversation.message_channel(channel_id, post_id)
                mirror = self._channel(where).get_partial_message(message_id)
                await self._in(channel_id, where, lambda: mirror.edit(embed=embed))  # noqa: B023
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                outcome, reason = classify(exc)
                if outcome == "rejected":
                    # This embed is wrong, not the lane: skip this refresh rather than repeat it.
                    log.error("channel %d: vote count refresh rejected (%s)", channel_id, reason)
                    await self.store.jobs.mirror_refreshed(channel_id, post_id, now)
                    continue
                failed.add(channel_id)
                await self._failed(channel_id, None, exc)
                continue
            await self.store.jobs.mirror_refreshed(channel_id, post_id, now)

    async def _prune(self) -> None:
        """Now and then: finished jobs and delivered outbox rows older than the retention go."""
        if time.monotonic() < self._prune_at:
            return
        self._prune_at = time.monotonic() + PRUNE_EVERY
        cutoff = time.time() - self.retention
        chain_cutoff = datetime.fromtimestamp(cutoff, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        jobs, outbox = await self.store.jobs.prune(cutoff, chain_cutoff)
        if jobs or outbox:
            log.info("pruned %d finished job(s) and %d delivered outbox row(s)", jobs, outbox)
