"""Feeds as admins manage them: which community is mirrored where, and the preview of its latest post."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.domain import NO_FILTER, Feed, FeedFilter, PostRow, ThreadMode, VoteMode
from bot.hive.client import HiveClient, HiveUnavailable, RpcError
from bot.hive.rpc import ANSWER_DEADLINE
from bot.ingest.backfill import backfill
from bot.ingest.community_roles import CommunityRoles
from bot.ingest.follower import Follower
from bot.ingest.reputations import learn_reputations
from bot.services import Refused, counted
from bot.store.store import Store


def thread_mode(*, forum: bool, threads: bool) -> ThreadMode:
    """A forum feed always makes a post per review; a text channel's feed threads only when asked."""
    if forum:
        return "forum"
    return "on" if threads else "off"


@dataclass(frozen=True, slots=True)
class FeedRequest:
    guild_id: int
    channel_id: int
    community: str
    posts: bool
    votes: VoteMode
    curators: Sequence[str]
    badges: bool
    role_id: int | None
    created_by: int
    backfill: int
    threads: ThreadMode = "off"
    mute: Sequence[str] = ()
    mention_authors: bool = True
    # None: no filter option was given, so an existing feed keeps its filter (a new one has none).
    filter: FeedFilter | None = NO_FILTER


@dataclass(frozen=True, slots=True)
class AddedFeed:
    feed: Feed
    created: bool
    title: str
    queued: int  # posts queued by the backfill
    filter_kept: bool = False  # an update kept the feed's filter, as no filter option was given


class FeedService:
    def __init__(
        self,
        store: Store,
        hive: HiveClient,
        follower: Follower,
        wake: Callable[[], None],
        roles: CommunityRoles,
        *,
        max_feeds: int = 50,
        max_curators: int = 50,
        retry_every: float = 300.0,
    ) -> None:
        self._store = store
        self._hive = hive
        self._follower = follower
        self._wake = wake
        self._roles = roles
        self.max_feeds = max_feeds  # per server
        self.max_curators = max_curators  # per feed
        self.retry_every = retry_every  # delivery.refused_retry_seconds: a refused lane's probe pace

    async def community(self, name: str) -> tuple[str, list[str]]:
        """(title, team accounts) from bridge.get_community; Refused when Hive does not know it."""
        try:
            info: Any = await self._hive.call("bridge.get_community", {"name": name}, deadline=ANSWER_DEADLINE)
        except RpcError:
            raise Refused(f"Hive has no community `{name}`. Check the id in the community's address.") from None
        except HiveUnavailable:
            raise Refused("The Hive nodes are not answering right now; try again in a minute.") from None
        if not isinstance(info, dict):
            raise Refused(f"Hive has no community `{name}`.")
        title = str(info.get("title") or name)[:100]
        team = [str(m[0]) for m in info.get("team") or [] if isinstance(m, list) and m and isinstance(m[0], str)]
        return title, team

    async def add(self, request: FeedRequest) -> AddedFeed:
        """Adds or updates a feed (clearing a broken mark), follows its community, queues the backfill.

        Refused when the feed would be one more than the server may have, or lists too many curators.
        """
        if len(request.curators) > self.max_curators:
            raise Refused(
                f"A feed can list at most {counted(self.max_curators, 'curator', 'curators')}, and you named"
                f" {len(request.curators)}."
                " Keep the accounts whose upvotes matter most."
            )
        title, team = await self.community(request.community)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        await self._store.communities.save_community(request.community, title, team, now)
        saved = await self._store.feeds.upsert_feed(
            guild_id=request.guild_id,
            channel_id=request.channel_id,
            community=request.community,
            posts=request.posts,
            votes=request.votes,
            curators=request.curators,
            badges=request.badges,
            role_id=request.role_id,
            created_by=request.created_by,
            at=now,
            threads=request.threads,
            mute=request.mute,
            mention_authors=request.mention_authors,
            feed_filter=request.filter,
            max_feeds=self.max_feeds,
        )
        if saved is None:
            raise Refused(
                f"This server already has {counted(self.max_feeds, 'feed', 'feeds')}, the most one server may have."
                " `/feed remove`"
                " one you no longer need first, or change an existing feed by running `/feed add` for its channel."
            )
        feed, created = saved
        # Its moderators and muted accounts known before its posts are backfilled or followed.
        await self._roles.followed(request.community)
        # Adding a feed (again) says the channel may be fixed: a refused lane is released, at the
        # pace every other change keeps (one probe per retry period), not reset.
        await self._store.jobs.release_lanes([feed.channel_id], now=time.time(), every=self.retry_every)
        self._follower.follow(request.community)
        queued = await backfill(self._hive, self._store, self._follower, feed, request.backfill)
        self._wake()
        kept = request.filter is None and not created and feed.filter != NO_FILTER
        return AddedFeed(feed, created, title, queued, kept)

    async def remove(self, guild_id: int, community: str, channel_id: int | None) -> int:
        return await self._store.feeds.remove_feeds(guild_id, community, channel_id)

    async def of_guild(self, guild_id: int) -> list[Feed]:
        return await self._store.feeds.feeds_of_guild(guild_id)

    async def retries_due(self, feeds: Sequence[Feed]) -> dict[int, float]:
        """When each feed's channel that waits for a retry (a backoff, or a released refusal) may send."""
        return await self._store.jobs.retries_due(sorted({f.channel_id for f in feeds}), time.time())

    async def preview(self, community: str, channel_id: int) -> tuple[PostRow, str | None]:
        """The community's latest stored post that the channel's feed of it would mirror (any post when
        the channel has none), and the community's title, for /feed test."""
        feed = await self._store.feeds.feed_in(channel_id, community)
        feed_filter = feed.filter if feed is not None else NO_FILTER
        if feed_filter.min_reputation is not None:
            await learn_reputations(self._hive, self._store, await self._store.posts.recent_authors(community))
        post = await self._store.posts.latest_passing(community, feed_filter)
        if post is None and not feed_filter.empty:
            raise Refused(
                f"None of the latest stored posts of `{community}` passes that channel's feed filters, so there is"
                " nothing to preview yet. `/feed list` shows the filters."
            )
        if post is None:
            raise Refused(f"No post of `{community}` is stored yet; a preview needs one. Add a feed and wait for one.")
        return post, await self._store.communities.community_title(community)
