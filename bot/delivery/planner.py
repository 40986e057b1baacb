"""Turns the chain's outbox into the jobs each feed's channel is owed, in one transaction a pass."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.domain import Feed, JobAction, OutboxRow, dm_lane
from bot.store.planning import PlanningTx
from bot.store.store import Store

log = logging.getLogger("hivecord.delivery")

ROWS_PER_PASS = 2000


def _chain_time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.removesuffix("Z"))
    except (ValueError, AttributeError):
        # The follower stores only valid times; an unreadable one must not stop planning forever.
        return datetime(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class ReplyPace:
    """How many replies of one post each feed's thread shows one by one per window of chain time; the
    rest of a burst are counted in one "N more replies on Hive" line per window."""

    per_window: int = 20
    window_minutes: int = 10

    def window_start(self, at: str) -> str:
        """The start of the window (aligned on the epoch) a chain time falls in, as the chain writes it."""
        seconds = int((_chain_time(at) - _EPOCH).total_seconds())
        start = seconds - seconds % (self.window_minutes * 60)
        return (_EPOCH + timedelta(seconds=start)).strftime("%Y-%m-%dT%H:%M:%S")


_EPOCH = datetime(1970, 1, 1)


def is_curator(voter: str, feed: Feed, team: Iterable[str]) -> bool:
    return voter in feed.curators or voter in team


async def plan(store: Store, *, digest_minutes: int, replies: ReplyPace | None = None) -> int:
    """Plans every feed up to the end of the outbox (or ROWS_PER_PASS rows); returns jobs added.

    The feed cursors move in the same transaction as the jobs, so a crash re-plans nothing twice.
    """
    window = timedelta(minutes=digest_minutes)
    pace = replies or ReplyPace()
    added = 0
    async with store.planning.transaction() as p:
        feeds = await p.feeds()
        last_id = await p.last_outbox_id()
        teams: dict[str, tuple[str, ...]] = {}
        for feed in feeds:
            if feed.outbox_cursor >= last_id:
                continue
            if feed.community not in teams:
                teams[feed.community] = await p.community_team(feed.community)
            rows = await p.outbox_after(feed.outbox_cursor, feed.community, ROWS_PER_PASS)
            for row in rows:
                added += await _plan_row(p, feed, row, teams[feed.community], window, pace)
            # With a full page there may be more rows; otherwise everything up to last_id was seen.
            cursor = rows[-1].id if len(rows) == ROWS_PER_PASS else last_id
            await p.set_feed_cursor(feed.id, cursor)
        added += await _close_due_windows(p, {f.id: f for f in feeds}, window)
        added += await _plan_alerts(p, last_id)
        added += await _plan_notices(p, feeds, last_id)
    return added


def curated_in(feeds: Iterable[Feed], community: str) -> dict[str, list[int]]:
    """Each curator a feed of `community` lists, with every server whose feeds list them: the author's
    membership is asked at send time, server by server until the first one they are in."""
    found: dict[str, list[int]] = {}
    for feed in feeds:
        if feed.community == community:
            for curator in feed.curators:
                guilds = found.setdefault(curator, [])
                if feed.guild_id not in guilds:
                    guilds.append(feed.guild_id)
    return found


async def _plan_notices(p: PlanningTx, feeds: list[Feed], last_id: int) -> int:
    """A DM to a linked author who asked (/notify) for each curator upvote on their post and each
    HiveBuzz badge they earn. Curators: the community's team, and the curators a feed of the
    community lists in a server the author is a member of (checked at send time: `guilds`)."""
    cursor = await p.notices_cursor()
    if cursor is None or cursor >= last_id:
        if cursor is None or cursor > last_id:
            await p.set_notices_cursor(last_id)  # from now on, not the whole history
        return 0
    events = await p.notice_events(cursor, ROWS_PER_PASS)
    closed = await p.closed_dms() if events else set()
    teams: dict[str, set[str]] = {}
    curators: dict[str, dict[str, list[int]]] = {}
    added = 0
    for event in events:
        user_id = int(event["user_id"])
        if user_id in closed:
            continue  # DMs refused: nothing to fall back to for a personal notice
        if event["kind"] == "vote":
            if event["post_id"] in await p.muted():
                continue  # the community's moderators muted the post: its votes are no news
            community = str(event["community"])
            if community not in teams:
                teams[community] = set(await p.community_team(community))
                curators[community] = curated_in(feeds, community)
            detail: dict[str, Any] = {"voter": event["voter"], "weight": event["weight"]}
            if event["voter"] not in teams[community]:
                guilds = curators[community].get(event["voter"])
                if not guilds:
                    continue
                detail["guilds"] = guilds  # one server's curators are not every server's
            await p.add_job(dm_lane(user_id), "notice", post_id=event["post_id"], user_id=user_id, detail=detail)
        else:
            await p.add_job(dm_lane(user_id), "notice", badge_id=event["badge_id"], user_id=user_id)
        added += 1
    await p.set_notices_cursor(events[-1]["id"] if len(events) == ROWS_PER_PASS else last_id)
    return added


async def _plan_alerts(p: PlanningTx, last_id: int) -> int:
    """One alert per subscriber of a new review's series: a DM lane, or a mention in the server, which
    follows the filter of the server's feed it goes through (a DM is the member's own choice)."""
    cursor = await p.alerts_cursor()
    if cursor is None:
        # First run: subscriptions hear of reviews from now on, not of the whole history.
        await p.set_alerts_cursor(last_id)
        return 0
    added = 0
    reviews = await p.new_reviews_after(cursor, ROWS_PER_PASS)
    closed = await p.closed_dms() if reviews else set()
    muted = await p.muted() if reviews else {}
    for _outbox_id, post_id, series_key, community in reviews:
        if post_id in muted:
            continue  # muted by the community's moderators before its alerts were planned
        rows: list[tuple[int, int, int, Any]] = []
        lanes: dict[tuple[int | None, int | None], int | None] = {}  # one read per server and channel, not per member
        for sub in await p.subscribers(series_key):
            detail = {"series": sub.series, "series_key": sub.series_key}
            lane: int | None
            if sub.delivery == "dm" and sub.user_id not in closed:
                lane = dm_lane(sub.user_id)  # a DM waits in its member's own lane; the channel opens at send time
            else:
                where = (sub.guild_id, sub.channel_id)
                if where not in lanes:
                    lanes[where] = await p.alert_lane(sub.guild_id, community, post_id, sub.channel_id)
                lane = lanes[where]
            if lane is not None:
                rows.append((lane, post_id, sub.user_id, detail))
        await p.add_alerts(rows)
        added += len(rows)
    if reviews:
        await p.set_alerts_cursor(reviews[-1][0] if len(reviews) == ROWS_PER_PASS else last_id)
    elif cursor < last_id:
        await p.set_alerts_cursor(last_id)
    return added


async def _plan_row(
    p: PlanningTx, feed: Feed, row: OutboxRow, team: tuple[str, ...], window: timedelta, pace: ReplyPace
) -> int:
    if row.post_id is not None and row.kind in _MUTED_STOPS and row.post_id in await p.muted():
        return 0  # muted by the community's moderators: no news of it, no reply, no count to refresh
    if row.kind == "post_created":
        # The filter decides once, here: a post it keeps out has no job, so its edits, deletes,
        # votes and replies find nothing to follow in this channel either.
        if feed.posts and row.post_id is not None and await p.passes_filter(feed, row.post_id):
            await p.add_job(feed.channel_id, "post", feed_id=feed.id, post_id=row.post_id)
            return 1
    elif row.kind in ("post_edited", "post_deleted"):
        if row.post_id is not None and await p.has_post_job(feed.channel_id, row.post_id):
            action: JobAction = "edit" if row.kind == "post_edited" else "tombstone"
            await p.add_job(feed.channel_id, action, feed_id=feed.id, post_id=row.post_id)
            return 1
    elif row.kind in ("post_muted", "post_unmuted"):
        return await _plan_mute(p, feed, row)
    elif row.kind in ("reply_muted", "reply_unmuted"):
        return await _plan_reply_mute(p, feed, row)
    elif row.kind == "vote":
        return await _plan_vote(p, feed, row, team, window)
    elif row.kind in _REPLY_ACTIONS:
        return await _plan_reply(p, feed, row, pace)
    elif (
        row.kind == "badge"
        and feed.badges
        and row.badge_id is not None
        and await p.badge_recipient_posted_in(row.badge_id, feed.community)
        and await p.badge_passes_filter(feed, row.badge_id)
    ):
        await p.add_job(feed.channel_id, "badge", feed_id=feed.id, badge_id=row.badge_id)
        return 1
    return 0


# What a muted post no longer gets; a deletion, and a reply's edit or deletion, still show.
_MUTED_STOPS = ("post_created", "post_edited", "vote", "reply_created")


async def _plan_mute(p: PlanningTx, feed: Feed, row: OutboxRow) -> int:
    """A mutePost turns the channel's mirror into a tombstone with the moderators' notes, through the
    deletion's path; an unmutePost edits it back to the post. Planned by the state now, so a mute lifted
    since (or made again) costs no edit in between."""
    if row.post_id is None or not await p.has_post_job(feed.channel_id, row.post_id):
        return 0
    notes = (await p.muted()).get(row.post_id)
    if row.kind == "post_muted" and notes is not None:
        await p.add_job(feed.channel_id, "tombstone", feed_id=feed.id, post_id=row.post_id, detail={"muted": notes})
        return 1
    if row.kind == "post_unmuted" and notes is None:
        await p.add_job(feed.channel_id, "edit", feed_id=feed.id, post_id=row.post_id, detail={"unmuted": True})
        return 1
    return 0


async def _plan_reply_mute(p: PlanningTx, feed: Feed, row: OutboxRow) -> int:
    """A mutePost of a reply turns its message in the thread into a tombstone, through the reply
    deletion's path; an unmutePost edits it back. Only where the reply is shown or owed, by the state now."""
    if feed.threads == "off" or row.post_id is None or row.reply_id is None:
        return 0
    if not await p.reply_owed(feed.id, feed.channel_id, row.reply_id):
        return 0
    muted = row.reply_id in await p.muted_replies()
    if muted != (row.kind == "reply_muted"):
        return 0  # lifted since, or muted again since: the later row plans it
    lane = await p.reply_lane(feed.channel_id, row.post_id)
    action: JobAction = "reply_tombstone" if muted else "reply_edit"
    await p.add_job(lane, action, feed_id=feed.id, post_id=row.post_id, reply_id=row.reply_id)
    return 1


_REPLY_ACTIONS: dict[str, JobAction] = {
    "reply_created": "reply",
    "reply_edited": "reply_edit",
    "reply_deleted": "reply_tombstone",
}


async def _plan_reply(p: PlanningTx, feed: Feed, row: OutboxRow, pace: ReplyPace) -> int:
    """A reply goes to its post's thread when the feed keeps threads, the channel shows the post,
    the thread still takes replies, and its author is not muted by the feed; past the window's
    share of its post's replies, it is counted in the window's "more replies" line instead. An edit
    or a delete goes only where the reply is shown or owed."""
    if feed.threads == "off" or row.post_id is None or row.reply_id is None:
        return 0
    if not await p.has_post_job(feed.channel_id, row.post_id):
        # Not shown there: a post from before the feed (nothing to say), or one whose send was dropped.
        dropped = await p.post_not_delivered(feed.channel_id, row.post_id)
        if dropped is not None and row.kind == "reply_created":
            log.info(
                "channel %d: reply %d not sent: its post %d was never delivered there (%s)",
                feed.channel_id, row.reply_id, row.post_id, dropped,
            )  # fmt: skip
        return 0
    author = await p.reply_author(row.reply_id)
    if author is None or author.lower() in {m.lower() for m in feed.mute}:
        return 0
    if row.kind != "reply_deleted" and (
        row.reply_id in await p.muted_replies() or author in await p.muted_authors(feed.community)
    ):
        return 0  # hidden by the community's moderators (the reply, or its author): hivemind hides it too
    if not await p.thread_usable(feed.channel_id, row.post_id):
        return 0
    own = await p.own_message_of(feed.channel_id, row.reply_id)
    if own is not None:
        # Posted with Post to Hive: the member's own message is the reply there; its reactions tell the rest.
        detail = {"kind": row.kind, "thread": own[0], "message": own[1]}
        await p.add_job(own[0], "reply_mark", feed_id=feed.id, post_id=row.post_id, reply_id=row.reply_id,
                        detail=detail)  # fmt: skip
        return 1
    owed = await p.reply_owed(feed.id, feed.channel_id, row.reply_id)
    if owed != (row.kind != "reply_created"):
        return 0  # a new reply queued already by a thread's late start, or a change to one never shown
    echo = await p.echo_of(feed.channel_id, row.reply_id) if row.kind == "reply_created" else None
    if echo == "shown":
        return 0  # posted from this thread: no second copy
    lane = await p.reply_lane(feed.channel_id, row.post_id)
    if row.kind == "reply_created" and echo is None:  # an owed copy is its own message, never counted
        start = pace.window_start(row.at)
        if await p.replies_in_window_before(row.post_id, start, row.reply_id) >= pace.per_window:
            return await _count_more_replies(p, feed, row.post_id, lane, start)
    await p.add_job(lane, _REPLY_ACTIONS[row.kind], feed_id=feed.id, post_id=row.post_id, reply_id=row.reply_id)
    return 1


async def _count_more_replies(p: PlanningTx, feed: Feed, post_id: int, lane: int, start: str) -> int:
    """One more reply for the window's line: the pending line gains one, else a new one is queued (the
    worker edits the window's line already shown, if any)."""
    pending = await p.pending_more_replies(lane, feed.id, post_id)
    if pending is not None and pending[1].get("window") == start:
        job_id, detail = pending
        await p.set_job_detail(job_id, {**detail, "count": int(detail.get("count", 0)) + 1})
        return 0
    await p.add_job(lane, "replies_more", feed_id=feed.id, post_id=post_id, detail={"window": start, "count": 1})
    return 1


async def _plan_vote(p: PlanningTx, feed: Feed, row: OutboxRow, team: tuple[str, ...], window: timedelta) -> int:
    if row.post_id is not None:
        await p.mark_mirror_stale(feed.channel_id, row.post_id)
    if feed.votes == "off" or row.post_id is None or row.voter is None or (row.weight or 0) <= 0:
        return 0  # only upvotes are news; a removed vote or a downvote is not relayed
    if feed.posts and not await p.has_post_job(feed.channel_id, row.post_id):
        return 0  # a vote on a post this channel never showed
    if not feed.posts and not await p.passes_filter(feed, row.post_id):
        return 0  # a votes-only feed relays votes on the posts its filter passes
    if feed.votes == "curators":
        # A vote a curator pressed in Discord is a curator's vote, whatever account cast it.
        if not is_curator(row.voter, feed, team) and not await p.curated_from_discord(row.voter, row.post_id):
            return 0
        await p.add_job(feed.channel_id, "vote", feed_id=feed.id, post_id=row.post_id, detail=[[row.voter, row.weight]])
        return 1
    # "all": gather into one message per post per window of chain time.
    added = 0
    current = await p.vote_window(feed.id, row.post_id)
    voters: list[list[Any]] = []
    opens_at = row.at
    if current is not None:
        if _chain_time(row.at) < _chain_time(current[0]) + window:
            opens_at, voters = current
        else:
            await p.add_job(feed.channel_id, "votes", feed_id=feed.id, post_id=row.post_id, detail=current[1])
            added = 1
    voters = [v for v in voters if v[0] != row.voter] + [[row.voter, row.weight]]
    await p.save_vote_window(feed.id, row.post_id, opens_at, voters)
    return added


async def _close_due_windows(p: PlanningTx, feeds: dict[int, Feed], window: timedelta) -> int:
    now = await p.chain_time()
    if not now:
        return 0
    cutoff = (_chain_time(now) - window).isoformat()
    added = 0
    for feed_id, post_id, _opens_at, voters in await p.vote_windows_opened_before(cutoff):
        feed = feeds.get(feed_id)
        if feed is not None:
            await p.add_job(feed.channel_id, "votes", feed_id=feed_id, post_id=post_id, detail=voters)
            added += 1
        await p.close_vote_window(feed_id, post_id)
    return added
