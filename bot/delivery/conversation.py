"""A post's conversation in Discord: its forum post or the thread on its message, and the replies in it.

Creating a thread takes no nonce, so a crash between Discord making one and the bot recording it is
covered by looking first: a thread on a message has the message's id (a second one is refused with
160004), and a forum post whose creation was in hand is looked for among the guild's active threads.
Replies themselves are sent with the job's nonce like every other message: exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Literal

import discord

from bot.delivery.answers import Unread, readable
from bot.delivery.failures import unserved
from bot.delivery.render_reply import (
    MUTED_THREAD_NAME,
    forum_tags,
    more_replies_text,
    reply_embed,
    reply_tombstone_embed,
    thread_name,
)
from bot.domain import Feed, Job, PostRow
from bot.process.discord_codes import (
    ARCHIVED_THREAD,
    INVALID_FORM,
    NOT_AUTHOR,
    THREAD_EXISTS,
    UNKNOWN_CHANNEL,
    UNKNOWN_MESSAGE,
)
from bot.store.replies import ThreadState
from bot.store.store import Store
from bot.text.safe import safe_url

log = logging.getLogger("hivecord.delivery")

# A week (the payout window), or the longest the server allows.
ArchiveMinutes = Literal[60, 1440, 4320, 10080]
ARCHIVE_AFTER: tuple[ArchiveMinutes, ...] = (10080, 4320, 1440)
# What becomes of a reply on chain, as the bot's reactions on the member's own message: (add, remove).
OWN_MESSAGE_MARKS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "reply_created": (("\N{WHITE HEAVY CHECK MARK}",), ()),
    "reply_edited": (("\N{PENCIL}\N{VARIATION SELECTOR-16}",), ()),
    "reply_deleted": (("\N{WASTEBASKET}\N{VARIATION SELECTOR-16}",), ("\N{WHITE HEAVY CHECK MARK}",)),
}
# Archived forum posts searched for one made before a restart: it was archived since, so among the newest.
ARCHIVED_LOOKUP = 100


class Conversation:
    """Forum posts, threads and reply messages of the feeds that keep threads."""

    def __init__(
        self,
        client: discord.Client,
        store: Store,
        late_start: Callable[[PostRow], Awaitable[object]] | None = None,
        *,
        replies_per_window: int = 20,
    ) -> None:
        self.client = client
        self.store = store
        # Stores the replies a post already has on chain that the store lacks, before a new thread's
        # late start (the app's asks the node's bridge.get_discussion).
        self.late_start = late_start
        # A new thread's late start shows at most this many of the replies already on chain.
        self.replies_per_window = replies_per_window

    # Forum posts -------------------------------------------------------------------------------

    async def forum_post(
        self,
        job: Job,
        feed: Feed,
        post: PostRow,
        *,
        embed: discord.Embed,
        content: str | None,
        mentions: discord.AllowedMentions,
        view: discord.ui.View | None = None,
        muted: bool = False,
    ) -> None:
        """A new review in a forum: its own post, named after it (a muted one neutrally), with the forum's
        matching tags."""
        forum_id = job.channel_id
        known = await self.store.replies.thread(forum_id, post.id)
        thread_id = known[0] if known else 0
        if known is not None and not thread_id:
            # A creation was in hand when the bot stopped: Discord may have made the post already.
            thread_id = await self._find_forum_post(forum_id, post) or 0
            if thread_id:
                await self._thread_made(feed, post, thread_id, lane=thread_id)
        if not thread_id:
            await self.store.replies.record_thread(forum_id, post.id, 0, forum=True)  # in hand
            forum = await self._forum(forum_id)
            # A moderated tag is the forum's moderators' to apply, never the bot's (Manage Threads or not).
            available = [(t.id, t.name) for t in forum.available_tags if not t.moderated]
            tags = [t for t in (forum.get_tag(i) for i in forum_tags(available, post)) if t is not None]
            made = await forum.create_thread(
                name=MUTED_THREAD_NAME if muted else thread_name(post),
                embed=embed,
                content=content,
                allowed_mentions=mentions,
                applied_tags=tags,
                auto_archive_duration=ARCHIVE_AFTER[0],
                view=view or discord.utils.MISSING,
            )
            thread_id = made.thread.id
            await self._thread_made(feed, post, thread_id, lane=thread_id)
        # The starter message has the post's id: it is the mirror edits and vote counts find.
        await self.store.jobs.finish_job(job, thread_id, mirrors_post=True)

    async def _forum(self, forum_id: int) -> discord.ForumChannel:
        channel = self.client.get_channel(forum_id)
        if not isinstance(channel, discord.ForumChannel):
            fetched = await self.client.fetch_channel(forum_id)
            if not isinstance(fetched, discord.ForumChannel):
                raise RuntimeError(f"channel {forum_id} is not a forum")
            channel = fetched
        return channel

    async def _find_forum_post(self, forum_id: int, post: PostRow) -> int | None:
        """The forum post of `post`: same forum, name and review, among the guild's active threads,
        then among the forum's recently archived ones (closed by a moderator, or by a week's quiet,
        while the bot was down)."""
        forum = await self._forum(forum_id)
        names = (thread_name(post), MUTED_THREAD_NAME)
        for thread in await forum.guild.active_threads():
            if thread.parent_id == forum_id and thread.name in names and await self._starts_with(thread, post):
                return thread.id
        # Listing them takes Read Message History, as reading a starter does: a refusal stops the
        # forum's lane (and says so) rather than make the post twice.
        async for thread in forum.archived_threads(limit=ARCHIVED_LOOKUP):
            if thread.name in names and await self._starts_with(thread, post):
                return thread.id
        return None

    async def _starts_with(self, thread: discord.Thread, post: PostRow) -> bool:
        """Whether the thread's starter message is the mirror of `post` (its embed links to the post)."""
        try:
            starter = await thread.fetch_message(thread.id)
        except discord.NotFound as exc:
            if unserved(exc):
                raise  # says nothing of the starter: never make the post twice on it
            return False
        if starter.embeds and starter.embeds[0].url == safe_url(post.url):
            log.info("forum %d: found the post of %s/%s made before a restart", thread.parent_id, *post_key(post))
            return True
        return False

    async def forum_thread(self, job: Job, feed: Feed | None, post: PostRow | None) -> int | None:
        """The forum post a vote (its review's) or a badge (its recipient's newest review's) goes into."""
        if feed is None:
            return None
        if job.action == "badge":
            badge = await self.store.posts.badge(job.badge_id or 0)
            return await self.store.replies.latest_thread_of_author(feed.channel_id, badge.recipient) if badge else None
        known = await self.store.replies.thread(feed.channel_id, post.id) if post is not None else None
        return known[0] if known is not None and known[0] and known[2] == "ok" else None

    async def rename_for_mute(self, job: Job, post: PostRow) -> None:
        """After a mute's tombstone (or an unmute's edit) of a post's mirror: its thread (a forum post, or
        the thread on its message) named neutrally, or its own name back. Best effort after the edit,
        which reopened an archived thread: a refusal costs one log line, never the lane."""
        detail = job.detail if isinstance(job.detail, dict) else {}
        if "muted" not in detail and "unmuted" not in detail:
            return
        muted, channel_id = "muted" in detail, job.channel_id
        known = await self.store.replies.thread(channel_id, post.id)
        if known is None or not known[0] or known[2] != "ok":
            return
        name = MUTED_THREAD_NAME if muted else thread_name(post)
        try:
            await self.client.http.edit_channel(known[0], name=name)
        except discord.HTTPException as exc:
            if exc.status >= 500:
                raise  # an outage: the lane retries the job
            log.warning("channel %d: could not rename the thread of %s/%s (%s)", channel_id, *post_key(post), exc)

    async def message_channel(self, channel_id: int, post_id: int) -> int:
        """Where the message mirroring a post lives: the forum post's thread, or the channel itself."""
        known = await self.store.replies.thread(channel_id, post_id)
        return known[0] if known is not None and known[1] and known[0] else channel_id

    # Replies -----------------------------------------------------------------------------------

    async def execute(self, job: Job, feed: Feed | None) -> None:
        """Sends, edits or tombstones one reply in its post's thread; a dead thread drops it."""
        if feed is None or job.post_id is None or job.reply_id is None:
            await self.store.jobs.drop_job(job, "no feed for this reply")
            return
        if job.action == "reply_mark":
            await self._mark_own_message(job)
            return
        channel_id = feed.channel_id
        known = await self.store.replies.thread(channel_id, job.post_id)
        if known is not None and known[2] != "ok":
            await self.store.jobs.drop_job(job, f"the post's thread is {known[2]}")
            return
        reply = await self.store.replies.reply(job.reply_id)
        post = await self.store.posts.post(job.post_id)
        if reply is None or post is None:
            await self.store.jobs.drop_job(job, "unknown reply")
            return
        if job.action == "reply":
            if reply.deleted or reply.muted:
                why = "deleted" if reply.deleted else "muted by the community's moderators"
                await self.store.jobs.drop_job(job, f"the reply was {why} before it was delivered")
                return
            if known is None or not known[0]:
                # A forum post is made by its post job; a text channel's thread now, by its first reply.
                if feed.threads != "forum" and await self._open_thread(job, feed, post):
                    return  # the thread's late start queued this reply again, after the older ones
                await self.store.jobs.drop_job(job, "the post has no message or forum post to reply in")
                return
            thread_id = known[0]
            embed = reply_embed(reply, answers=await self.store.replies.parent_author_of(reply))
            thread = self.client.get_partial_messageable(thread_id)
            # A reply posted with /reply post carries its copy's nonce: a copy made before a kill comes back.
            nonce = await self.store.discord_replies.mirror_nonce(channel_id, reply.id) or job.nonce
            sent = await self.in_thread(
                channel_id,
                thread_id,
                lambda: thread.send(embed=embed, allowed_mentions=discord.AllowedMentions.none(), nonce=nonce),
            )
            if sent is None:
                await self.store.jobs.drop_job(job, "the post's thread takes no more replies")
                return
            await self.store.replies.finish_reply_job(job, channel_id, sent.id)
            return
        message_id = await self.store.replies.reply_message(channel_id, reply.id)
        if message_id is None or known is None:
            await self.store.jobs.drop_job(job, "no reply message to edit")
            return
        embed = reply_embed(reply, answers=await self.store.replies.parent_author_of(reply))
        if job.action == "reply_tombstone" or reply.muted:  # an edit never shows a muted reply again
            embed = reply_tombstone_embed(reply)
        message = self.client.get_partial_messageable(known[0]).get_partial_message(message_id)
        edited = await self.in_thread(channel_id, known[0], lambda: message.edit(embed=embed))
        if edited is None:
            await self.store.jobs.drop_job(job, "the reply's message or its thread is gone")
            return
        await self.store.replies.finish_reply_job(job, channel_id, message_id)

    async def _mark_own_message(self, job: Job) -> None:
        """The bot's reactions on a member's own message posted with Post to Hive, which it cannot edit: on
        chain (✅), edited there (✏️), deleted there (🗑 for ✅). Adding or removing its own reaction again
        changes nothing, so a job sent again after a kill is harmless. A refusal (no Add Reactions, the
        message deleted, the thread closed) drops the mark alone: the thread's replies go on."""
        detail = job.detail if isinstance(job.detail, dict) else {}
        add, remove = OWN_MESSAGE_MARKS.get(str(detail.get("kind")), ((), ()))
        thread_id = int(detail["thread"])
        message = self.client.get_partial_messageable(thread_id).get_partial_message(int(detail["message"]))
        assert self.client.user is not None
        for attempt in range(2):
            try:
                for emoji in remove:
                    await message.remove_reaction(emoji, discord.Object(self.client.user.id))
                for emoji in add:
                    await message.add_reaction(emoji)
                break
            except discord.HTTPException as exc:
                if exc.status >= 500 or exc.status == 429:
                    raise  # the lane backs off and tries again
                if not attempt and exc.code == ARCHIVED_THREAD and await self._thread_state(thread_id, exc) == "ok":
                    continue  # a week's quiet archived it: reopened, once more
                await self.store.jobs.drop_job(job, f"the mark on the member's message was refused: {exc.text[:200]}")
                return
        await self.store.jobs.finish_job(job, message.id)

    async def more_replies(self, job: Job, feed: Feed | None) -> None:
        """A window's "N more replies on Hive" line in a post's thread: sent once, then edited as the
        burst goes on (its count adds the window's line already shown)."""
        known = await self.store.replies.thread(feed.channel_id, job.post_id) if feed and job.post_id else None
        post = await self.store.posts.post(job.post_id) if job.post_id is not None else None
        if feed is None or known is None or not known[0] or known[2] != "ok" or post is None:
            await self.store.jobs.drop_job(job, "no usable thread for the more-replies line")
            return
        detail = await self.store.replies.claim_more_replies(job.id)
        count, window = int(detail.get("count", 0)), str(detail.get("window", ""))
        shown = await self.store.replies.more_replies_shown(feed.id, post.id, window) if window else None
        thread = self.client.get_partial_messageable(known[0])
        if shown is not None:
            line = thread.get_partial_message(shown[0])
            text = more_replies_text(post, shown[1] + count)
            edited = await self.in_thread(feed.channel_id, known[0], lambda: line.edit(content=text))
            if edited is None:
                await self.store.jobs.drop_job(job, "the more-replies line or its thread is gone")
                return
            await self.store.replies.finish_more_replies(job, window, shown[0], shown[1] + count)
            return
        text, nonce, none = more_replies_text(post, count), job.nonce, discord.AllowedMentions.none()
        sent = await self.in_thread(
            feed.channel_id, known[0], lambda: thread.send(content=text, allowed_mentions=none, nonce=nonce)
        )
        if sent is None:
            await self.store.jobs.drop_job(job, "the post's thread takes no more replies")
            return
        await self.store.replies.finish_more_replies(job, window, sent.id, count)

    async def _thread_made(self, feed: Feed, post: PostRow, thread_id: int, *, lane: int) -> None:
        """Records a new thread with its late start: the replies the post already has, each once."""
        if self.late_start is not None:
            await self.late_start(post)
        queued = await self.store.replies.thread_made(
            feed.channel_id, post.id, thread_id, forum=feed.threads == "forum", lane=lane, feed_id=feed.id,
            mute=feed.mute, at_most=self.replies_per_window,
        )  # fmt: skip
        log.info("channel %d: thread %d for %s/%s starts with %d reply(s)", feed.channel_id, thread_id, *post_key(post),
                 queued)  # fmt: skip

    async def _open_thread(self, job: Job, feed: Feed, post: PostRow) -> bool:
        """The thread on the post's message in a text channel, made when its first reply comes; False
        when the post has no message to start it on."""
        channel_id = feed.channel_id
        message_id = await self.store.jobs.mirror(channel_id, post.id)
        if message_id is None:
            return False
        made: int | None = None
        for duration in ARCHIVE_AFTER:
            try:
                # The raw route: a partial message has no guild for discord.py's create_thread.
                thread = await self.client.http.start_thread_with_message(
                    channel_id, message_id, name=thread_name(post), auto_archive_duration=duration
                )
            except discord.HTTPException as exc:
                if exc.code == THREAD_EXISTS:
                    made = message_id  # made before a restart: a thread on a message has its id
                    break
                if exc.code == UNKNOWN_MESSAGE:
                    return False  # the mirrored message was deleted in Discord
                if exc.code == INVALID_FORM and "auto_archive_duration" in exc.text and duration != ARCHIVE_AFTER[-1]:
                    continue
                raise
            made = int(thread["id"])
            break
        assert made is not None
        await self._thread_made(feed, post, made, lane=job.channel_id)
        return True

    async def in_thread(
        self, channel_id: int, thread_id: int, call: Callable[[], Awaitable[discord.Message]]
    ) -> discord.Message | Unread | None:
        """Runs a send or edit in a post's thread (of the feed's channel `channel_id`); None when the
        message is gone, or the thread is locked or deleted (then the thread is marked, with one log
        line). An edit in an archived thread reopens it first (a send does so by itself). Other
        failures go to the lane as usual."""
        for _ in range(2):
            try:
                return await readable(call())
            except discord.HTTPException as exc:
                if exc.code in (UNKNOWN_MESSAGE, NOT_AUTHOR):
                    return None  # the message itself was deleted in Discord: nothing to edit
                state = await self._thread_state(thread_id, exc)
                if state == "ok":
                    continue  # reopened: once more
                if state is None:
                    raise
                post = await self.store.replies.set_thread_state(channel_id, thread_id, state)
                log.warning(
                    "channel %d: the thread of %s is %s; its later replies are dropped", channel_id, post, state
                )
                return None
        return None

    async def _thread_state(self, thread_id: int, exc: discord.HTTPException) -> ThreadState | None:
        """What a failure in a thread means: 'gone', 'locked', 'ok' (it was archived and is reopened),
        or None (not the thread's doing: missing permissions, an outage)."""
        if exc.status == 404 and exc.code == UNKNOWN_CHANNEL:
            return "gone"
        if exc.code != ARCHIVED_THREAD and exc.status != 403:
            return None
        try:
            channel = await self.client.fetch_channel(thread_id)
        except discord.NotFound as missing:
            if unserved(missing):
                return None  # says nothing of the thread: the lane retries
            return "gone"
        if not isinstance(channel, discord.Thread):
            return None
        if channel.locked:
            return "locked"
        if channel.archived and exc.code == ARCHIVED_THREAD:
            await channel.edit(archived=False)
            return "ok"
        return None


def post_key(post: PostRow) -> tuple[str, str]:
    return post.author, post.permlink
