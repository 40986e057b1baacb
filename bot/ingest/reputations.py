"""Authors' reputations, read before a feed filtered by `min_reputation` is asked about their posts.

The planner decides in a database transaction and asks no node, so the follower (new posts),
backfill and /feed test look the authors up first, in bulk, and keep them in account_facts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from bot.hive import facts
from bot.hive.client import HiveClient, HiveUnavailable, RpcError
from bot.hive.events import BadgeAwarded, ChainEvent, PostCreated
from bot.store.store import Store

log = logging.getLogger("hivecord.follower")

# A reputation moves slowly: one read a day per author is plenty for a filter.
FRESH_FOR = timedelta(days=1)


async def learn_reputations(hive: HiveClient, store: Store, authors: Iterable[str]) -> None:
    """Reads the reputation of each author not read within FRESH_FOR. A node that does not answer
    leaves it unknown, and an unknown reputation lets a post through (FeedFilter.passes): one log line."""
    now = datetime.now(UTC)
    wanted = await store.roles.reputations_wanted(authors, (now - FRESH_FOR).isoformat(timespec="seconds"))
    if not wanted:
        return
    try:
        scores = await facts.reputations(hive, wanted)
    except (HiveUnavailable, RpcError) as exc:
        log.warning("could not read %d author(s)' reputation (%s): their posts pass min_reputation", len(wanted), exc)
        return
    await store.roles.save_reputations(scores, now.isoformat(timespec="seconds"))


async def learn_new_authors(hive: HiveClient, store: Store, events: Iterable[ChainEvent]) -> None:
    """The reputations of new posts' authors in communities a feed filters by reputation, and of HiveBuzz
    badges' recipients while any feed does (a badge carries no community; its feeds judge the recipient)."""
    created = [e for e in events if isinstance(e, PostCreated | BadgeAwarded)]
    if not created:
        return
    communities = await store.feeds.reputation_communities()
    authors = {e.author for e in created if isinstance(e, PostCreated) and e.community in communities}
    if communities:
        authors |= {e.badge.recipient for e in created if isinstance(e, BadgeAwarded)}
    if authors:
        await learn_reputations(hive, store, authors)
