"""The delivery path on the real store, on both engines: the chain's rows planned into one feed's jobs,
sent lane by lane in order, their mirrors recorded, then pruned; what the worker and planner rely on
(order within a lane, ids, counts) is the same on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bot.delivery.planner import plan
from bot.domain import LaneCounts
from bot.hive.blocks import decode_block
from bot.hive.events import EventDecoder
from bot.ingest.ledger import apply_events
from bot.store.store import Store
from tests.store_rows import rows
from tests.unit.test_events import AUTHOR, COMMUNITY, FIRST, PERMLINK, block, comment, delete, notice, trx, vote

CHANNEL, OTHER = 20, 30


async def ingest(store: Store, decoder: EventDecoder, num: int, *ops: Any) -> None:
    decoded, _ = decode_block(block(num, *(trx(op, num=num) for op in ops)))
    events = decoder.decode([decoded])

    def write(tx: Any) -> None:
        apply_events(tx, events)
        tx.set_cursor(num, decoded.timestamp)

    await store.chain_batch(write)


async def send_all(store: Store) -> list[tuple[int, str, int | None]]:
    """Every pending job, lane by lane as the worker takes them, answered with a message id."""
    sent: list[tuple[int, str, int | None]] = []
    for lane in sorted(await store.jobs.channels_with_work(time.time())):
        while (job := await store.jobs.next_job(lane)) is not None:
            sent.append((lane, job.action, job.post_id))
            await store.jobs.finish_job(job, 1000 + job.id, mirrors_post=job.action == "post")
    return sent


async def test_a_feeds_jobs_are_planned_sent_in_order_and_pruned(db_location: Path | str) -> None:
    store = await Store.open(db_location)
    decoder = EventDecoder({COMMUNITY}, set(), set(), set())
    try:
        for channel, votes in ((CHANNEL, "curators"), (OTHER, "off")):
            await store.feeds.upsert_feed(
                guild_id=1, channel_id=channel, community=COMMUNITY, posts=True, votes=votes, curators=("reader01",),
                badges=True, role_id=None, created_by=1, at="2026-12-01T00:00:00",
            )  # fmt: skip
        await ingest(store, decoder, FIRST, comment(), comment("writer02", "second", title="Second"))
        await ingest(
            store, decoder, FIRST + 1,
            vote("reader01"), vote("stranger", weight=5000), vote("reader01", "writer02", "second", weight=-100),
            notice(AUTHOR),
        )  # fmt: skip
        assert await plan(store, digest_minutes=0) == 7
        assert (await store.backlog.pending_count(1), await store.backlog.pending_count(2)) == (7, 0)  # /status
        await store.jobs.lane_failed(OTHER, "503", base=2.0, cap=300.0, now=time.time())
        lanes = await store.backlog.lane_counts(1, time.time(), 0.0)
        assert lanes == LaneCounts(ok=1, backoff=1, refused=0, rejected=0)
        assert await store.jobs.channels_with_work(time.time()) == [CHANNEL]  # the other backs off
        await store.jobs.mirror_refreshed(OTHER, 0, time.time())  # an answer there: healthy again
        first = await send_all(store)
        post, second = [r[0] for r in await rows(db_location, "SELECT id FROM posts ORDER BY id")]
        assert first == [
            (CHANNEL, "post", post), (CHANNEL, "post", second), (CHANNEL, "vote", post), (CHANNEL, "badge", None),
            (OTHER, "post", post), (OTHER, "post", second), (OTHER, "badge", None),
        ]  # fmt: skip
        assert await store.jobs.mirror(CHANNEL, second) is not None and await store.jobs.mirror(OTHER, post) is not None
        assert await send_all(store) == [] and await plan(store, digest_minutes=0) == 0  # nothing twice

        # An edit and a delete follow the mirror in every channel; a vote no feed relays marks the mirrors
        # of its post stale, for a refresh of their count.
        await ingest(
            store, decoder, FIRST + 2, comment(body="A finer show."), delete("writer02", "second"), vote("reader02")
        )
        assert await plan(store, digest_minutes=0) == 4
        assert await send_all(store) == [
            (CHANNEL, "edit", post), (CHANNEL, "tombstone", second),
            (OTHER, "edit", post), (OTHER, "tombstone", second),
        ]  # fmt: skip
        stale = await store.jobs.stale_mirrors(time.time() + 1, time.time())
        assert sorted((c, p) for c, p, _m in stale) == [(CHANNEL, post), (OTHER, post)]

        # Pruning: every finished job goes; outbox rows every cursor passed go, the newest stays.
        outbox = [r[0] for r in await rows(db_location, "SELECT id FROM outbox ORDER BY id")]
        jobs, pruned = await store.jobs.prune(time.time() + 1, "2100-01-01T00:00:00")
        assert (jobs, pruned) == (11, len(outbox) - 1)
        assert await rows(db_location, "SELECT id FROM outbox") == [(outbox[-1],)]
        assert await rows(db_location, "SELECT count(*) FROM jobs") == [(0,)]
    finally:
        await store.close()


def reply(author: str, permlink: str, body: str = "Nice.") -> dict[str, Any]:
    return comment(author, permlink, parent_author=AUTHOR, parent_permlink=PERMLINK, title="", body=body)


async def test_a_threads_late_start_queues_the_replies_it_owes_in_chain_order(db_location: Path | str) -> None:
    store = await Store.open(db_location)
    decoder = EventDecoder({COMMUNITY}, set(), set(), set())
    thread = 555
    try:
        saved = await store.feeds.upsert_feed(
            guild_id=1, channel_id=CHANNEL, community=COMMUNITY, posts=True, votes="off", curators=(), badges=False,
            role_id=None, created_by=1, at="2026-12-01T00:00:00", threads="on",
        )  # fmt: skip
        assert saved is not None
        feed = saved[0]
        await ingest(store, decoder, FIRST, comment())
        await ingest(store, decoder, FIRST + 1, reply("reader01", "re-1"), reply("reader02", "re-2"))
        await ingest(store, decoder, FIRST + 2, reply("reader03", "re-3"), reply("reader04", "re-4"))
        assert await plan(store, digest_minutes=0) == 5  # the post, then its replies in the channel's lane
        post_job = await store.jobs.next_job(CHANNEL)
        assert post_job is not None and post_job.action == "post"
        await store.jobs.finish_job(post_job, thread, mirrors_post=True)
        replies = {r[1]: r[0] for r in await rows(db_location, "SELECT id, permlink FROM replies ORDER BY id")}

        # The thread is made: the waiting reply jobs give way to the late start, reader02 muted by the feed.
        queued = await store.replies.thread_made(
            CHANNEL, post_job.post_id or 0, thread, forum=False, lane=thread, feed_id=feed.id, mute=("Reader02",),
            at_most=2,
        )  # fmt: skip
        assert queued == 2
        assert await store.jobs.next_job(CHANNEL) is None
        waiting = [(j.action, j.reply_id, j.detail) for j in await store.jobs.pending_jobs(thread)]
        assert waiting == [
            ("reply", replies["re-1"], None), ("reply", replies["re-3"], None),
            ("replies_more", None, {"window": "", "count": 1}),
        ]  # fmt: skip

        first, second, more = await store.jobs.pending_jobs(thread)
        await store.replies.finish_reply_job(first, thread, 9001)
        await store.replies.finish_reply_job(second, thread, 9002)
        assert await store.replies.reply_message(thread, replies["re-3"]) == 9002
        assert await store.replies.claim_more_replies(more.id) == {"window": "", "count": 1}
        await store.replies.finish_more_replies(more, "", 9003, 1)
        assert await store.replies.more_replies_shown(feed.id, post_job.post_id or 0, "") == (9003, 1)
        assert await store.replies.latest_thread_of_author(CHANNEL, AUTHOR) == thread
    finally:
        await store.close()
