"""A reply from Discord that ends failed: the job that marks its copy is stored with the failure, once, in
its thread's lane (none for a reply posted from the member's own message); the copy's new words are safe
and within Discord's limits; the text comes from the signed transaction."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from beemgraphenebase.account import PrivateKey

from bot.delivery.render_reply import failed_copy
from bot.hive.grants import reply_metadata
from bot.hive.posting_key import PostingKey
from bot.hive.transactions import comment_body, sign_comment, tapos
from bot.store.store import Store
from tests.unit.test_render import HOSTILE_BODY, as_dict, assert_inert, assert_within_limits

THREAD, CHANNEL = 900, 800


def intent(permlink: str, *, own_message: int | None = None) -> dict[str, Any]:
    return {
        "guild_id": 1, "channel_id": CHANNEL, "thread_id": THREAD, "post_id": 5, "user_id": 42, "author": "alice",
        "permlink": permlink, "parent_author": "bob", "parent_permlink": "review", "message_id": own_message,
        "own_message": int(own_message is not None), "trx_id": permlink, "trx": "{}",
        "expiration": "2026-12-06T21:42:18",
    }  # fmt: skip


async def jobs(store: Store) -> list[tuple[int, str, Any, str]]:
    async with store.db.reader.execute("SELECT channel_id, action, detail, state FROM jobs ORDER BY id") as cur:
        return [(r[0], r[1], json.loads(r[2]), r[3]) for r in await cur.fetchall()]


async def test_a_failed_reply_queues_one_mark_of_its_copy_in_its_threads_lane(db_location: Path | str) -> None:
    store = await Store.open(db_location)
    try:
        tables = store.discord_replies
        copy = await tables.record_intent(intent("re-1"), time.time())
        own = await tables.record_intent(intent("re-2", own_message=77), time.time())
        landed = await tables.record_intent(intent("re-3"), time.time())
        assert copy is not None and own is not None and landed is not None
        assert await tables.settle(copy.id, "sent", time.time())
        assert await jobs(store) == []  # not final yet
        assert await tables.settle(copy.id, "failed", time.time(), "raw node text", why="in words")
        assert not await tables.settle(copy.id, "failed", time.time(), "again", why="again")  # final already
        assert await tables.settle(own.id, "failed", time.time(), "raw", why="words")  # the member's own message
        assert await tables.settle(landed.id, "landed", time.time())
        assert await jobs(store) == [(THREAD, "reply_failed", {"reply": copy.id, "why": "in words"}, "pending")]
    finally:
        await store.close()


def test_the_marked_copy_says_it_is_not_on_hive_safely_and_within_limits() -> None:
    content, embed = failed_copy(42, "alice", "My **reply** text", "the transaction expired before a block")
    assert content == "<@42>'s reply as **@alice** did not reach Hive."
    data = as_dict(embed)
    assert data["title"] == "Not posted on Hive" and "url" not in data
    assert data["description"] == "My reply text"
    assert data["fields"] == [{"name": "Why", "value": "the transaction expired before a block", "inline": False}]
    hostile = as_dict(failed_copy(42, "alice", HOSTILE_BODY, "@everyone " + "x" * 5000)[1])
    assert_inert(hostile)
    assert_within_limits(hostile)


def test_the_text_is_read_back_from_the_signed_comment() -> None:
    ref = tapos(1234, "000004d2" + "ab" * 16, "2026-12-06T21:41:18")
    signed = sign_comment(
        PostingKey("hivecord.app", str(PrivateKey())), author="alice", permlink="re-x-1", parent_author="bob",
        parent_permlink="x", body="Hi 👋", json_metadata=reply_metadata(), ref=ref,
    )  # fmt: skip
    assert comment_body(json.dumps(signed.trx)) == "Hi 👋"
    for broken in ("", "[]", "{", '{"operations": [["vote", {}]]}', '{"operations": [1]}'):
        assert comment_body(broken) == ""
