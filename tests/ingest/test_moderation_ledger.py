"""The community's moderation through the real decoder and ledger into the real SQLite file: setRole and
mutePost / unmutePost applied by the roles stored, in the batch's transaction with the cursor; a muted
author's post stored nowhere, so neither backfill nor /feed test can show it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.domain import NO_FILTER, Feed
from bot.hive.blocks import decode_block
from bot.hive.events import EventDecoder
from bot.ingest.ledger import apply_events
from bot.store.store import Store
from tests.fakes.chain_gen import mute_post_op, set_role_op
from tests.helpers import stored_roles
from tests.store_rows import rows
from tests.unit.test_events import AUTHOR, COMMUNITY, FIRST, PERMLINK, block, comment, trx

ROLES = [(COMMUNITY, "owner", ""), ("mod01", "mod", "Moderator"), ("spam01", "muted", "")]


async def ingest(store: Store, decoder: EventDecoder, num: int, *ops: Any) -> int:
    decoded, _ = decode_block(block(num, *(trx(op, num=num) for op in ops)))
    events = decoder.decode([decoded])

    def write(tx: Any) -> int:
        applied = apply_events(tx, events)
        tx.set_cursor(num, decoded.timestamp)
        return applied

    return await store.chain_batch(write)


async def test_mutes_and_roles_apply_only_from_the_communitys_moderators(db_location: Path | str) -> None:
    store = await Store.open(db_location)
    decoder = EventDecoder({COMMUNITY}, set(), set(), claims_until=lambda: "")
    try:
        await store.moderation.replace_roles(COMMUNITY, ROLES, 1.0)
        await ingest(store, decoder, FIRST, comment(), comment("spam01", "buy-now", title="Buy now"))
        assert [r[0] for r in await rows(db_location, "SELECT author FROM posts")] == [
            AUTHOR
        ]  # the muted author's: nowhere
        (post_id,) = [r[0] for r in await rows(db_location, "SELECT id FROM posts")]
        # An ordinary account's mutePost changes nothing; the moderator's mutes; a second mute is no news.
        assert await ingest(store, decoder, FIRST + 1, mute_post_op("reader01", COMMUNITY, AUTHOR, PERMLINK)) == 0
        assert await rows(db_location, "SELECT * FROM muted_posts") == []
        await ingest(
            store,
            decoder,
            FIRST + 2,
            mute_post_op("mod01", COMMUNITY, AUTHOR, PERMLINK, "off topic"),
            mute_post_op("mod01", COMMUNITY, AUTHOR, PERMLINK, "again"),
        )
        assert await rows(db_location, "SELECT post_id, notes, muted_by FROM muted_posts") == [
            (post_id, "off topic", "mod01")
        ]
        assert await store.moderation.is_muted(post_id)
        # The owner's unmute lifts it; a reader's does nothing; each change is one outbox row.
        await ingest(store, decoder, FIRST + 3, mute_post_op("reader01", COMMUNITY, AUTHOR, PERMLINK, mute=False))
        assert await store.moderation.is_muted(post_id)
        await ingest(store, decoder, FIRST + 4, mute_post_op(COMMUNITY, COMMUNITY, AUTHOR, PERMLINK, mute=False))
        assert not await store.moderation.is_muted(post_id)
        assert await rows(db_location, "SELECT kind, post_id, block_num FROM outbox WHERE kind LIKE 'post_%muted'") == [
            ("post_muted", post_id, FIRST + 2),
            ("post_unmuted", post_id, FIRST + 4),
        ]
        # setRole: a mod mutes a guest, right away; a member cannot; a mod cannot make an admin.
        await ingest(
            store,
            decoder,
            FIRST + 5,
            set_role_op("mod01", COMMUNITY, "later01", "muted"),
            set_role_op("reader01", COMMUNITY, AUTHOR, "muted"),
            set_role_op("mod01", COMMUNITY, "reader01", "admin"),
        )
        roles = {account: role for account, role, _ in await stored_roles(store, COMMUNITY)}
        assert roles["later01"] == "muted" and AUTHOR not in roles and "reader01" not in roles
        assert roles["mod01"] == "mod"
        # Muted in the block before: the next post of that account is not mirrored.
        await ingest(store, decoder, FIRST + 6, comment("later01", "first-post", title="Hello"))
        assert ("later01",) not in await rows(db_location, "SELECT author FROM posts")
        assert await rows(db_location, "SELECT value FROM meta WHERE key = 'cursor'") == [(str(FIRST + 6),)]
    finally:
        await store.close()


async def test_backfill_and_preview_pass_over_what_the_community_muted(db_location: Path | str) -> None:
    store = await Store.open(db_location)
    decoder = EventDecoder({COMMUNITY}, set(), set(), claims_until=lambda: "")
    try:
        await ingest(store, decoder, FIRST, comment(), comment("writer02", "second", title="Second"))
        await ingest(store, decoder, FIRST + 1, comment("writer03", "third", title="Third"))
        # writer03 is muted after posting (the list read from hivemind), writer02's post by a mod.
        await store.moderation.replace_roles(COMMUNITY, [*ROLES, ("writer03", "muted", "")], 2.0)
        await ingest(store, decoder, FIRST + 2, mute_post_op("mod01", COMMUNITY, "writer02", "second"))
        latest = await store.posts.latest_passing(COMMUNITY, NO_FILTER)
        assert latest is not None and latest.author == AUTHOR
        feed = Feed(1, 10, 20, COMMUNITY, True, "off", (), False, None, 0, None)
        async with store.db.write() as conn:
            await conn.execute(
                "INSERT INTO feeds (id, guild_id, channel_id, community, outbox_cursor, created_by, created_at)"
                " VALUES (1, 10, 20, ?, 0, 1, 't')",
                (COMMUNITY,),
            )
        assert await store.jobs.backfill(feed, 10) == 1
        assert await rows(db_location, "SELECT p.author FROM jobs j JOIN posts p ON p.id = j.post_id") == [(AUTHOR,)]
    finally:
        await store.close()


async def test_replies_muted_by_the_community_are_hidden_and_an_unmute_survives_a_restart(
    db_location: Path | str,
) -> None:
    store = await Store.open(db_location)
    decoder = EventDecoder({COMMUNITY}, set(), set(), claims_until=lambda: "")
    try:
        await store.moderation.replace_roles(COMMUNITY, ROLES, 1.0)
        post = (AUTHOR, PERMLINK)
        await ingest(
            store,
            decoder,
            FIRST,
            comment(),
            comment("spam01", "re-spam", parent_author=AUTHOR, parent_permlink=PERMLINK, body="Buy now"),
            comment("reader01", "re-fine", parent_author=AUTHOR, parent_permlink=PERMLINK, body="Fine"),
        )
        # The muted account's reply is stored nowhere; the other is.
        assert await rows(db_location, "SELECT author, deleted FROM replies") == [("reader01", 0)]
        (reply_id,) = [r[0] for r in await rows(db_location, "SELECT id FROM replies")]
        # A reader's mutePost of the reply changes nothing; the moderator's hides it, once.
        assert await ingest(store, decoder, FIRST + 1, mute_post_op("reader01", COMMUNITY, "reader01", "re-fine")) == 0
        await ingest(
            store,
            decoder,
            FIRST + 2,
            mute_post_op("mod01", COMMUNITY, "reader01", "re-fine", "rude"),
            mute_post_op("mod01", COMMUNITY, "reader01", "re-fine", "again"),
        )
        assert await rows(db_location, "SELECT deleted FROM replies") == [(2,)]
        # Its edit is not shown while it is muted.
        edit = comment("reader01", "re-fine", parent_author=AUTHOR, parent_permlink=PERMLINK, body="Edited")
        assert await ingest(store, decoder, FIRST + 3, edit) == 0
        # After a restart the follower still knows it, so the moderator's unmutePost brings it back.
        fresh = EventDecoder(
            {COMMUNITY}, {post}, {AUTHOR}, await store.replies.live_reply_keys(), claims_until=lambda: ""
        )
        await ingest(store, fresh, FIRST + 4, mute_post_op("mod01", COMMUNITY, "reader01", "re-fine", mute=False))
        assert await rows(db_location, "SELECT deleted FROM replies") == [(0,)]
        assert await rows(db_location, "SELECT kind, post_id, reply_id FROM outbox WHERE kind LIKE 'reply_%muted'") == [
            ("reply_muted", 1, reply_id),
            ("reply_unmuted", 1, reply_id),
        ]
    finally:
        await store.close()
