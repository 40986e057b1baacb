"""Curation from Discord on the real store, on both engines: a second press finds the first vote, the caps
count what is not failed, a final vote is audited once in the server's audit channel, the log pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.domain import CurationRule
from bot.store.store import Store
from tests.store_rows import rows

GUILD, AUDIT, CURATOR = 1, 77, 42


def press(permlink: str, *, user_id: int = CURATOR, voter: str = "curation.acct") -> dict[str, Any]:
    return {
        "community": "hive-158489", "voter": voter, "post_id": 5, "author": "alice", "permlink": permlink,
        "weight": 5000, "guild_id": GUILD, "user_id": user_id, "trx_id": f"trx-{permlink}-{user_id}", "trx": "{}",
        "expiration": "2026-12-06T21:42:18",
    }  # fmt: skip


async def test_a_vote_is_made_once_counted_audited_once_and_paged(db_location: Path | str) -> None:
    store = await Store.open(db_location)
    curation = store.curation
    try:
        await curation.set_rule(CurationRule(GUILD, "hive-158489", 9, 5000, 10, AUDIT), "t")
        assert await curation.rule(GUILD, "hive-158489") == CurationRule(GUILD, "hive-158489", 9, 5000, 10, AUDIT)
        first, made = await curation.record_intent(press("review"), 100.0)
        assert made and first.state == "signed" and first.checks == 0 and first.created_at == 100.0
        again, made_again = await curation.record_intent(press("review", user_id=43), 101.0)  # a second press
        assert not made_again and again == first
        other, _ = await curation.record_intent(press("other"), 102.0)
        assert (await curation.curator_votes_since(GUILD, CURATOR, 100.0), await curation.account_votes_since(
            "curation.acct", 101.0)) == (2, 1)  # fmt: skip

        assert await curation.settle(first.id, "sent", 103.0)
        assert [v.id for v in await curation.open_votes(200.0)] == [first.id, other.id]
        await curation.check_later(first.id, 300.0)
        assert [v.id for v in await curation.open_votes(200.0)] == [other.id]
        assert await curation.settle(first.id, "landed", 104.0)
        assert not await curation.settle(first.id, "failed", 105.0, "late")  # final already
        assert await curation.settle(other.id, "failed", 106.0, "refused by the node")
        assert await rows(db_location, "SELECT channel_id, action, detail FROM jobs ORDER BY id") == [
            (AUDIT, "audit", f'{{"vote": {first.id}}}'),
            (AUDIT, "audit", f'{{"vote": {other.id}}}'),
        ]
        assert await curation.account_votes_since("curation.acct", 0.0) == 1  # a failed vote is not counted
        retry, made = await curation.record_intent(press("other"), 107.0)  # a failed vote may be pressed again
        assert made and retry.id != other.id

        page, total = await curation.log(GUILD, 0, 2)
        assert [v.id for v in page] == [retry.id, other.id] and total == 3
        assert (await curation.vote(other.id)).error == "refused by the node"  # type: ignore[union-attr]
        assert await curation.pressed_by("curation.acct", 5) == CURATOR
        assert await curation.remove_rule(GUILD, "hive-158489") and not await curation.remove_rule(GUILD, "x")
    finally:
        await store.close()
