"""The Store: opens the one SQLite file and hands out its tables by name. All SQL lives in this package."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bot.store.backlog import BacklogQueries
from bot.store.chain_writer import ChainWriter, chain_batch
from bot.store.communities import CommunityTables
from bot.store.curation import CurationTables
from bot.store.db import Database
from bot.store.discord_replies import DiscordReplyTables
from bot.store.engine import Db, is_postgres_url
from bot.store.feeds import FeedTables
from bot.store.jobs import JobTables
from bot.store.links import ChainLinksListener, LinkTables
from bot.store.moderation import ModerationTables
from bot.store.notices import NoticeTables
from bot.store.planning import Planning
from bot.store.posts import PostTables
from bot.store.replies import ReplyTables
from bot.store.roles import RoleTables
from bot.store.subscriptions import SubscriptionTables

T = TypeVar("T")



class Store:
    """The database handle (`db`: connections, write lock, meta) and the tables that share it."""

    def __init__(self, db: Db) -> None:
        self.db = db
        self.posts = PostTables(db)
        self.replies = ReplyTables(db)
        self.feeds = FeedTables(db)
        self.communities = CommunityTables(db)
        self.jobs = JobTables(db)
        self.backlog = BacklogQueries(db)
        self.planning = Planning(db)
        self.subscriptions = SubscriptionTables(db)
        self.links = LinkTables(db)
        self.roles = RoleTables(db)
        self.notices = NoticeTables(db)
        self.curation = CurationTables(db)
        self.moderation = ModerationTables(db)
        self.discord_replies = DiscordReplyTables(db)

    @classmethod
    async def open(cls, location: Path | str) -> Store:
        """Opens (creating it if need be) and migrates the database: a SQLite file's path, or a
        postgresql:// URL."""
        db: Db
        if is_postgres_url(location):
            from bot.store.postgres.database import PgDatabase  # asyncpg only where it is used

            db = await PgDatabase.open(str(location))
        else:
            db = await Database.open(location)
        store = cls(db)
        await store.links.load()
        return store

    async def close(self) -> None:
        await self.db.close()

    async def chain_batch(self, work: Callable[[ChainWriter], T], on_links: ChainLinksListener | None = None) -> T:
        """Runs `work` in one transaction in a worker thread: all a batch of blocks produced, and the
        cursor, or none of it. Holds the write lock, so delivery's writes wait their turn. Links the
        batch completed are told to `on_links` after it commits."""
        return await chain_batch(self.db, work, on_links)
