"""`hivecord ingest`: the follower alone, into the database, with no Discord."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from bot.config.load import Config
from bot.hive.client import HiveClient
from bot.ingest.community_roles import CommunityRoles
from bot.ingest.follower import Follower
from bot.process.progress import ProgressReporter
from bot.store.coordination import coordination_for
from bot.store.store import Store

log = logging.getLogger("hivecord")


async def ingest(
    config: Config,
    from_block: int | None,
    to_block: int | None,
    *,
    on_task: Callable[[Callable[[], None], asyncio.Task[None]], None],
) -> int:
    """Follows the chain into the database until `to_block` (or a signal: `on_task` is given the
    follower's stop and task). On PostgreSQL only while no `hivecord run` follows it: it takes the
    leader's lock, or refuses."""
    where = config.database.target.shown()  # a URL's password blanked
    store = await Store.open(config.database.target.location)
    coordination = coordination_for(config.database.target.location)
    try:
        await coordination.connect()
        if not await coordination.try_lead():
            log.error("another hivecord process follows the chain on %s: ingest runs only while none does", where)
            return 1
        cursor = await store.db.cursor()
        if cursor is not None and from_block is not None and from_block != cursor + 1:
            # --from-block only places a new database's cursor; an existing one always wins.
            log.warning(
                "%s already holds blocks up to %d: resuming at block %d, not at --from-block %d. "
                "To start over at block %d, use a new database (set database.path or HIVECORD_DATABASE__PATH "
                "to a new file) or delete %s first (with its -wal and -shm files, while nothing runs on it).",
                where,
                cursor,
                cursor + 1,
                from_block,
                from_block,
                where,
            )
        if cursor is not None and to_block is not None and cursor >= to_block:
            log.info(
                "%s already holds blocks up to %d: nothing to do for --to-block %d",
                where,
                cursor,
                to_block,
            )
        first = (cursor + 1) if cursor is not None else (from_block or 0)
        reporter = ProgressReporter(first)
        async with HiveClient.from_config(config.hive) as client:
            follower = Follower.from_config(
                client,
                store,
                config.hive,
                config.hive.communities,
                start_block=from_block,
                stop_at=to_block,
                on_progress=reporter,
            )
            # The communities' roles beside it, as in the bot: a moderator's mutePost needs them known.
            roles = CommunityRoles(
                store, client, lambda: follower.communities, refresh_seconds=config.hive.community_roles_refresh_seconds
            )
            follower.on_role_ops = roles.role_ops_seen
            follower.prepare = roles.read_unread
            roles_task = asyncio.create_task(roles.run())
            task = asyncio.create_task(follower.run())
            on_task(follower.stop, task)
            try:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            finally:
                roles.stop()
                roles_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await roles_task
            reporter.finish()
        done = follower.cursor
        log.info("stored up to block %s; %d events written", done, follower.events_written)
        if to_block is not None and (done is None or done < to_block):
            return 1  # stopped by a signal before the end
        return 0
    finally:
        await coordination.close()
        await store.close()
