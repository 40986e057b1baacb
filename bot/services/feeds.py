"""Feeds as admins manage them: which community is mirrored where, and the preview of its latest post."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.domain import Feed, PostRow, ThreadMode, VoteMode
from bot.hive.client import HiveClient, HiveUnavailable, RpcError
from bot.hive.rpc import ANSWER_DEADLINE
from bot.ingest.backfill import backfill
from bot.ingest.follower import Follower
from bot.services import Refused
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


@dataclass(frozen=True, slots=True)
class AddedFeed:
    feed: Feed
    created: bool
    title: str
    queued: int  # posts queued by the backfill


class FeedService:
    def __init__(self, store: Store, hive: HiveClient, follower: Follower, wake: Callable[[], None]) -> None:
        self._store = store
        self._hive = hive
        self._follower = follower
        self._wake = wake

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
        """Adds or updates a feed (clearing a broken mark), follows its community, queues the backfill."""
        title, team = await self.community(request.community)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        await self._store.communities.save_community(request.community, title, team, now)
        feed, created = await self._store.feeds.upsert_feed(
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
        )
        self._follower.follow(request.community)
        queued = await backfill(self._hive, self._store, self._follower, feed, request.backfill)
        self._wake()
        return AddedFeed(feed, created, title, queued)

    async def remove(self, guild_id: int, community: str, channel_id: int | None) -> int:
        return await self._store.feeds.remove_feeds(guild_id, community, channel_id)

    async def of_guild(self, guild_id: int) -> list[Feed]:
        return await self._store.feeds.feeds_of_guild(guild_id)

    async def preview(self, community: str) -> tuple[PostRow, str | None]:
        """The community's latest stored post and its title, for /feed test."""
        post = await self._store.posts.latest_post(community)
        if post is None:
            raise Refused(f"No post of `{community}` is stored yet; a preview needs one. Add a feed and wait for one.")
        return post, await self._store.communities.community_title(community)
