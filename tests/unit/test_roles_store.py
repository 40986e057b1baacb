"""Role reconciliation on the real store: only differences are queued, and a change undone before it
was sent cancels instead of queueing its opposite (no flapping); reputation rules read the stored scores."""

from __future__ import annotations

import time
from pathlib import Path

from bot.hive.identity import reputation_score
from bot.store.store import Store

GUILD, ROLE, USER = 10, 20, 30


async def linked(store: Store, user: int, account: str) -> None:
    await store.links.open_challenge(user_id=user, account=account, code="x", now=time.time(), ttl=900, per_hour=5)
    challenge = await store.links.latest_challenge(user)
    assert challenge is not None and await store.links.complete(challenge, proof="signature", at="2026-01-01")


async def role_jobs(store: Store) -> list[tuple[str, str]]:
    async with store.db.reader.execute("SELECT action, state FROM jobs ORDER BY id") as cur:
        return [(r["action"], r["state"]) for r in await cur.fetchall()]


async def test_reconcile_queues_differences_once_and_cancels_unsent_opposites(db_location: Path | str) -> None:
    store = await Store.open(db_location)
    try:
        await linked(store, USER, "reader01")
        await store.roles.set_rule(
            guild_id=GUILD, role_id=ROLE, kind="linked", community=None, min_reputation=None, created_by=1, at="t"
        )
        assert (await store.roles.reconcile()).added == 1
        assert (await store.roles.reconcile()).added == 0  # already queued: nothing twice
        await store.links.unlink(USER)
        changes = await store.roles.reconcile()
        assert (changes.added, changes.removed) == (0, 0)  # the unsent grant is cancelled instead
        assert await role_jobs(store) == [("role_add", "dropped")]

        await linked(store, USER, "reader01")
        assert (await store.roles.reconcile()).added == 1
        async with store.db.reader.execute("SELECT max(id) AS id FROM jobs") as cur:
            row = await cur.fetchone()
        assert row is not None and await store.roles.sending(int(row["id"]))  # it may have reached Discord
        await store.links.unlink(USER)
        assert (await store.roles.reconcile()).removed == 1  # so it is undone by a removal
        assert await role_jobs(store) == [("role_add", "dropped"), ("role_add", "pending"), ("role_remove", "pending")]
    finally:
        await store.close()


async def test_reputation_rules_read_the_stored_scores(db_location: Path | str) -> None:
    store = await Store.open(db_location)
    try:
        await linked(store, USER, "reader01")
        await store.roles.set_rule(
            guild_id=GUILD, role_id=ROLE, kind="reputation", community=None, min_reputation=50, created_by=1, at="t"
        )
        assert (await store.roles.reconcile()).added == 0  # no score known yet: nothing given
        await store.roles.save_reputations({"reader01": reputation_score(10**12)}, "t")
        assert (await store.roles.reconcile()).added == 1
        await store.roles.save_reputations({"reader01": reputation_score(10**10)}, "t")
        assert (await store.roles.reconcile()).added == 0
    finally:
        await store.close()

