"""Replies through the real decoder and ledger into the real SQLite file: roots, edits, deletes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.domain import NO_FILTER, ReplyRow
from bot.hive.blocks import decode_block
from bot.hive.events import EventDecoder
from bot.ingest.ledger import apply_events
from bot.store.store import Store
from tests.store_rows import rows
from tests.unit.test_events import AUTHOR, COMMUNITY, FIRST, PERMLINK, block, comment, delete, notice, trx


async def ingest(store: Store, decoder: EventDecoder, num: int, *ops: Any) -> None:
    decoded, _ = decode_block(block(num, *(trx(op, num=num) for op in ops)))
    events = decoder.decode([decoded])
    await store.chain_batch(lambda tx: apply_events(tx, events))


def reply(author: str, permlink: str, parent: tuple[str, str], body: str) -> dict[str, Any]:
    return comment(author, permlink, parent_author=parent[0], parent_permlink=parent[1], title="", body=body)


async def live_replies(store: Store, post_id: int) -> list[ReplyRow]:
    """The post's live replies in chain order, each read as the bot reads one (Store.replies.reply)."""
    async with store.db.reader.execute(
        "SELECT id FROM replies WHERE post_id = ? AND deleted = 0 ORDER BY created_block, id", (post_id,)
    ) as cur:
        ids = [int(r[0]) for r in await cur.fetchall()]
    return [row for row in [await store.replies.reply(i) for i in ids] if row is not None]


async def test_nested_replies_edits_and_deletes(db_location: Path | str) -> None:
    store = await Store.open(db_location)
    decoder = EventDecoder({COMMUNITY}, set(), set(), set())
    try:
        await ingest(store, decoder, FIRST, comment())
        await ingest(
            store,
            decoder,
            FIRST + 1,
            reply("reader01", "re-1", (AUTHOR, PERMLINK), "Nice review of the show."),
            reply(AUTHOR, "re-2", ("reader01", "re-1"), "Thanks!"),
            reply("reader02", "re-3", (AUTHOR, "re-2"), "Agreed."),
            notice(AUTHOR),
            reply("reader03", "re-elsewhere", ("stranger", "other-post"), "Not ours."),
        )
        await ingest(
            store,
            decoder,
            FIRST + 2,
            reply("reader01", "re-1", (AUTHOR, PERMLINK), "@@ -1,4 +1,5 @@\n-Nice\n+Great\n"),
            delete("reader02", "re-3"),
        )
        # The stored bodies after the edit: the patch applied, like a post's.
        (post_id,) = [p for p in [await store.posts.latest_passing(COMMUNITY, NO_FILTER)] if p]
        live = await live_replies(store, post_id.id)
        assert [(r.author, r.permlink, r.post_id) for r in live] == [
            ("reader01", "re-1", post_id.id),
            (AUTHOR, "re-2", post_id.id),  # nested: its root is found from its parent
        ]
        assert live[0].body == "Great review of the show." and live[0].edits == 1
        assert await store.replies.parent_author_of(live[1]) == "reader01"
        assert await store.replies.parent_author_of(live[0]) is None
    finally:
        await store.close()
    deleted = await rows(db_location, "SELECT author, deleted FROM replies WHERE permlink = 're-3'")
    kinds = [r[0] for r in await rows(db_location, "SELECT kind FROM outbox ORDER BY id")]
    assert deleted == [("reader02", 1)]
    assert kinds == [
        "post_created", "reply_created", "reply_created", "reply_created", "badge", "reply_edited", "reply_deleted"
    ]  # fmt: skip
