"""Reviews as members read them: ranked searches, their pages, authors, and one review to share."""

from __future__ import annotations

from bot.domain import PostRow
from bot.search.catalog import AuthorCatalog
from bot.search.query import Ranking, SearchPage, Sort, fetch_page, rank
from bot.services import Refused
from bot.store.store import Store


class ReviewService:
    def __init__(self, store: Store) -> None:
        self._store = store
        # Author autocomplete asks on every keystroke: an index in memory, not a GROUP BY each time.
        self.authors = AuthorCatalog(store.posts)

    async def rank(
        self, query: str, *, author: str | None, series: str | None, community: str | None, sort: Sort
    ) -> Ranking:
        return await rank(self._store, query, author=author, series=series, community=community, sort=sort)

    async def page(self, ranking: Ranking, *, offset: int, limit: int, guild_id: int | None = None) -> SearchPage:
        return await fetch_page(self._store, ranking, offset=offset, limit=limit, guild_id=guild_id)

    async def discuss_link(self, post_id: int, guild_id: int | None) -> str | None:
        """The review's thread in the server, when it has one: where its conversation is."""
        return (await self._store.replies.thread_links([post_id], guild_id)).get(post_id)

    async def has_author(self, name: str) -> bool:
        return await self._store.posts.has_author(name)

    async def to_share(self, post_id: int) -> tuple[PostRow, str | None]:
        """The review as it is now (edited or deleted since it was listed?) and its community's title."""
        post = await self._store.posts.post(post_id)
        if post is None or post.deleted:
            raise Refused("That review was deleted on Hive, so there is nothing to post.")
        return post, await self._store.communities.community_title(post.community)
