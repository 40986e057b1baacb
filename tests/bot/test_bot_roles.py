"""Roles from Hive facts through the fake Discord and node: given, re-checked, taken back, each change once."""

from __future__ import annotations

import json
import random
import re
import time
from pathlib import Path
from typing import Any

import pytest
from beemgraphenebase.account import PrivateKey
from beemgraphenebase.ecdsasig import sign_message

from bot.services.roles import FACTS_READ_AT
from bot.store.store import Store
from tests.bot_harness import BotProcess, RequestCounter, bot_config, db_rows
from tests.fakes.discord import permissions as perms
from tests.fakes.hive.condenser_api import hive_account
from tests.helpers import ANIME_REALM, SEED_FIRST
from tests.world import World, running_bot

MEMBER_ROLES = "/guilds/{guild_id}/members/{user_id}/roles/{role_id}"
HIGH_REP = 10**12  # score 52
LOW_REP = 10**10  # score 34


def roles_config(world: World, **hive: Any) -> Path:
    """The world's config with `hive` settings (facts_recheck_seconds shrunk, say)."""
    return bot_config(world.folder, world.node.url, world.fake, start_block=SEED_FIRST, hive=hive)


def member(world: World, name: str, *, in_guild: bool = True) -> int:
    user = world.fake.state.add_user(name)
    if in_guild:
        world.fake.state.add_member(world.fake.world.guild_id, user.id)
    return user.id


async def link(db: Path, links: dict[int, str]) -> None:
    """Links made through the store (as /link and /verify complete them), before the bot runs."""
    store = await Store.open(db)
    try:
        for user_id, name in links.items():
            await store.links.open_challenge(
                user_id=user_id, account=name, code="c0de", now=time.time(), ttl=900, per_hour=5
            )
            challenge = await store.links.latest_challenge(user_id)
            assert challenge is not None
            assert await store.links.complete(challenge, proof="signature", at="2026-11-26T00:00:00")
    finally:
        await store.close()


def grant_manage_roles(world: World) -> None:
    bot_role = world.fake.state.roles[world.fake.world.bot_role_id]
    bot_role.permissions |= perms.MANAGE_ROLES


def new_role(world: World, name: str, *, below_bot: bool = True) -> int:
    state = world.fake.state
    position = state.roles[world.fake.world.bot_role_id].position if below_bot else None
    return state.add_role(world.fake.world.guild_id, name, 0, position=position).id


async def roles_command(world: World, name: str, options: dict[str, Any]) -> str:
    """A /roles command as the server owner; everything they were shown, as JSON text."""
    fake = world.fake
    handle = await fake.send_interaction(fake.world.guild_id, world.reviews, fake.world.owner_id, name, options)
    first = await handle.response(timeout=15)
    if first["type"] == 5:
        (answer,) = await handle.wait_followups(1, timeout=30)
        return json.dumps(answer.embeds)
    return json.dumps(first["data"])


async def as_member(world: World, user: int, name: str, options: dict[str, Any] | None = None) -> str:
    fake = world.fake
    handle = await fake.send_interaction(fake.world.guild_id, world.reviews, user, name, options or {})
    first = await handle.response(timeout=15)
    if first["type"] == 5:
        (answer,) = await handle.wait_followups(1, timeout=30)
        return json.dumps(answer.embeds)
    return json.dumps(first["data"])


async def link_on_chain(world: World, user: int, name: str) -> None:
    """/link, then the custom_json carrying its code in the next block, as a wallet broadcasts it."""
    world.node.accounts[name] = hive_account(name, [])
    answer = await as_member(world, user, "link", {"account": name})
    code = re.search(rf"hivecord:link:{re.escape(name)}:{user}:([A-Za-z0-9_-]+)", answer)
    assert code, answer
    proof = json.dumps({"link": str(user), "code": code.group(1)})
    op = {"required_auths": [], "required_posting_auths": [name], "id": "hivecord", "json": proof}
    world.node.add_blocks(
        {world.next_block: {"transactions": [{"operations": [{"type": "custom_json_operation", "value": op}]}]}}
    )
    world.node.head = world.next_block + 2
    world.next_block += 3


def role_requests(world: World, method: str, user: int, role: int) -> list[Any]:
    return [
        r for r in world.fake.find_requests(method, MEMBER_ROLES) if r.path.endswith(f"/members/{user}/roles/{role}")
    ]


def has_role(world: World, user: int, role: int) -> bool:
    found = world.fake.state.members.get((world.fake.world.guild_id, user))
    return found is not None and role in found.role_ids


async def test_roles_follow_links_and_hive_facts_and_refuse_what_the_bot_cannot_give(world: World) -> None:
    alice, bob = member(world, "alice"), member(world, "bob")
    gone = member(world, "gone", in_guild=False)  # linked, but not in this server
    world.node.accounts.update(
        {
            "alice.hive": hive_account("alice.hive", [], reputation=HIGH_REP),
            "bob.hive": hive_account("bob.hive", [], reputation=LOW_REP),
        }
    )
    info = world.node.communities[ANIME_REALM]
    world.node.communities[ANIME_REALM] = {**info, "team": [*info["team"], ["alice.hive", "mod", ""]]}
    grant_manage_roles(world)
    linked, team, rep = new_role(world, "Linked"), new_role(world, "Team"), new_role(world, "Trusted")
    fans = new_role(world, "Fans")
    world.node.subscribers[ANIME_REALM] = [["bob.hive", "guest", "", "2026-01-01 00:00:00"]]
    above = new_role(world, "Above", below_bot=False)
    config = roles_config(world, facts_recheck_seconds=0.5)
    await link(world.db, {alice: "alice.hive", bob: "bob.hive", gone: "gone.hive"})
    bot = BotProcess(config, world.fake)
    await bot.start()
    try:
        refused_above = await roles_command(world, "roles set", {"role": above, "when": "linked"})
        refused_everyone = await roles_command(
            world, "roles set", {"role": world.fake.world.guild_id, "when": "linked"}
        )
        refused_managed = await roles_command(
            world, "roles set", {"role": world.fake.world.bot_role_id, "when": "linked"}
        )
        added = await roles_command(world, "roles set", {"role": linked, "when": "linked"})
        await roles_command(world, "roles set", {"role": team, "when": "team", "community": ANIME_REALM})
        await roles_command(world, "roles set", {"role": rep, "when": "reputation", "min_reputation": 50.0})
        await roles_command(world, "roles set", {"role": fans, "when": "subscriber", "community": ANIME_REALM})
        await world.fake.wait_for(
            lambda: (
                has_role(world, alice, linked)
                and has_role(world, bob, linked)
                and has_role(world, alice, team)
                and has_role(world, alice, rep)
                and role_requests(world, "PUT", gone, linked)
                and has_role(world, bob, fans)
            ),
            timeout=60,
        )
        listing = await roles_command(world, "roles list", {})
        # /roles remove takes the role back from those the bot gave it to.
        removed = await roles_command(world, "roles remove", {"role": str(fans)})
        await world.fake.wait_for(lambda: not has_role(world, bob, fans), timeout=60)

        # Hive facts change at the node: the next bulk re-check takes the roles back.
        world.node.communities[ANIME_REALM] = info
        world.node.accounts["alice.hive"] = hive_account("alice.hive", [], reputation=LOW_REP)
        await world.fake.wait_for(lambda: not has_role(world, alice, team) and not has_role(world, alice, rep), 60)

        # /unlink takes the linked role back.
        unlinked = await as_member(world, bob, "unlink")
        await world.fake.wait_for(lambda: not has_role(world, bob, linked), timeout=60)

        # Without Manage Roles, the bot says so.
        bot_role = world.fake.world.bot_role_id
        await world.fake.update_role(
            bot_role, permissions=world.fake.state.roles[bot_role].permissions & ~perms.MANAGE_ROLES
        )
        missing = await roles_command(world, "roles set", {"role": linked, "when": "linked"})

        # Discord refuses the next change (403): the role's lane stops, and /roles list says why.
        await as_member(world, alice, "unlink")
        await world.fake.wait_for(lambda: role_requests(world, "DELETE", alice, linked), timeout=60)
        refused = f"SELECT 1 FROM lanes WHERE lane_id = {linked} AND state = 'refused'"
        await world.fake.wait_for(lambda: db_rows(world.db, refused), timeout=60)
        refused_listing = await roles_command(world, "roles list", {})
    finally:
        assert await bot.stop() == 0, bot.log
    assert "at or above my highest role" in refused_above
    assert "@everyone" in refused_everyone
    assert "managed by an integration" in refused_managed
    assert "Manage Roles" in missing and "missing" in missing
    assert "Role rule added" in added
    assert "bob.hive" in unlinked
    assert "1 member(s) lose the role" in removed
    assert f"<@&{linked}>" in listing and "team members of **hive-158489**" in listing
    assert "missing Manage Roles" in refused_listing
    (refused_delete,) = role_requests(world, "DELETE", alice, linked)  # tried once, not retried in a loop
    assert refused_delete.status == 403
    assert has_role(world, alice, linked) and not has_role(world, bob, linked)
    # Each change once: no PUT repeated by the re-checks, the member not in the server tried once.
    for user, role in ((alice, linked), (bob, linked), (alice, team), (alice, rep), (gone, linked), (bob, fans)):
        assert len(role_requests(world, "PUT", user, role)) == 1, (user, role)
    for user, role in ((alice, team), (alice, rep), (bob, linked), (bob, fans)):
        (deleted,) = role_requests(world, "DELETE", user, role)
        assert deleted.status == 204, (user, role)
    assert not role_requests(world, "PUT", bob, team) and not role_requests(world, "PUT", bob, rep)
    assert not role_requests(world, "PUT", alice, fans)
    assert not any(r.path.endswith(f"/roles/{above}") for r in world.fake.requests)
    assert not world.fake.violations and not world.fake.unknown_requests


@pytest.mark.slow
async def test_sigkill_during_a_batch_of_20_role_grants_puts_each_once(world: World) -> None:
    users = [member(world, f"m{i}") for i in range(20)]
    grant_manage_roles(world)
    role = new_role(world, "Linked")
    config = roles_config(world)
    await link(world.db, {u: f"acct{i:02d}" for i, u in enumerate(users)})
    puts = RequestCounter(world.fake, "PUT", MEMBER_ROLES)
    world.fake.answer_delay = 0.02  # the grant is made before its answer travels back
    rng = random.Random(10)
    bot = BotProcess(config, world.fake)
    await bot.start()
    kills = 0
    target = rng.randint(2, 5)
    await roles_command(world, "roles set", {"role": role, "when": "linked"})
    while await bot.kill_at(lambda: puts() >= target, unless=lambda: puts() >= len(users)):  # noqa: B023
        kills += 1
        target = puts() + rng.randint(2, 5)
        bot = BotProcess(config, world.fake)
        await bot.start(wait_ready=False)
    await world.fake.wait_for(lambda: all(has_role(world, u, role) for u in users), timeout=60)
    # Facts are re-checked hourly here: only the link listeners can make these two changes now.
    late = member(world, "late")
    await link_on_chain(world, late, "late.hive")
    await as_member(world, users[0], "unlink")
    await world.fake.wait_for(lambda: has_role(world, late, role) and not has_role(world, users[0], role), 60)
    assert await bot.stop() == 0, bot.log
    assert kills >= 3
    for user in [*users, late]:
        assert len(role_requests(world, "PUT", user, role)) == 1, user
    # Each life killed with a PUT unanswered read that member's roles instead of sending it again.
    assert len(world.fake.find_requests("GET", "/guilds/{guild_id}/members/{user_id}")) >= kills
    assert not world.fake.violations


async def test_a_link_stored_before_a_kill_gets_its_role_at_start_up(world: World) -> None:
    """A link committed just before a kill never reached the listeners: start-up reconciles it,
    although the hourly re-check of Hive facts is not due."""
    user = member(world, "quick")
    grant_manage_roles(world)
    role = new_role(world, "Linked")
    await link(world.db, {user: "quick.hive"})
    store = await Store.open(world.db)
    try:
        await store.roles.set_rule(
            guild_id=world.fake.world.guild_id, role_id=role, kind="linked", community=None,
            min_reputation=None, created_by=world.fake.world.owner_id, at="2026-11-26T00:00:00",
        )  # fmt: skip
        await store.db.set_meta(FACTS_READ_AT, str(time.time()))
    finally:
        await store.close()
    async with running_bot(roles_config(world), world.fake):
        await world.fake.wait_for(lambda: has_role(world, user, role), timeout=60)
    assert len(role_requests(world, "PUT", user, role)) == 1


async def test_a_member_linked_on_chain_and_one_linked_by_signature_get_the_linked_role_until_unlink(
    world: World,
) -> None:
    """Issue 10's first acceptance item end to end: both proofs, /whois, the role given and taken back."""
    chained, signed = member(world, "chained"), member(world, "signed")
    key = PrivateKey()
    grant_manage_roles(world)
    role = new_role(world, "Linked")
    async with running_bot(roles_config(world), world.fake):
        await roles_command(world, "roles set", {"role": role, "when": "linked"})
        await link_on_chain(world, chained, "chained.hive")
        world.node.accounts["signed.hive"] = hive_account("signed.hive", [(str(key.pubkey), 1)])
        answer = await as_member(world, signed, "link", {"account": "signed.hive"})
        text = re.search(rf"hivecord:link:signed\.hive:{signed}:[A-Za-z0-9_-]+", answer)
        assert text, answer
        verified = await as_member(world, signed, "verify", {"signature": sign_message(text.group(), str(key)).hex()})
        assert "signed.hive" in verified
        await world.fake.wait_for(lambda: has_role(world, chained, role) and has_role(world, signed, role), 60)
        assert "chained.hive" in await as_member(world, signed, "whois", {"member": chained})
        assert str(signed) in await as_member(world, chained, "whois", {"account": "signed.hive"})
        for user in (chained, signed):
            await as_member(world, user, "unlink")
        await world.fake.wait_for(lambda: not has_role(world, chained, role) and not has_role(world, signed, role), 60)
    for user in (chained, signed):
        assert len(role_requests(world, "PUT", user, role)) == 1
        assert len(role_requests(world, "DELETE", user, role)) == 1
    assert not world.fake.violations


async def test_a_member_who_joins_after_their_link_gets_the_role_at_their_first_command_there(world: World) -> None:
    """No member events without a privileged intent: the first interaction in the server shows the
    bot a member it once found missing, and their role is given then, once."""
    late = member(world, "late", in_guild=False)
    grant_manage_roles(world)
    role = new_role(world, "Linked")
    await link(world.db, {late: "late.hive"})
    absent = f"SELECT 1 FROM role_grants WHERE user_id = {late} AND state = 'absent'"
    async with running_bot(roles_config(world, facts_recheck_seconds=0.5), world.fake):
        await roles_command(world, "roles set", {"role": role, "when": "linked"})
        await world.fake.wait_for(lambda: db_rows(world.db, absent), timeout=60)
        # The re-checks of Hive facts run meanwhile; none of them tries the missing member again.
        recheck = f"SELECT 1 FROM meta WHERE key = '{FACTS_READ_AT}' AND CAST(value AS REAL) > {time.time()}"
        await world.fake.wait_for(lambda: db_rows(world.db, recheck), timeout=60)
        assert len(role_requests(world, "PUT", late, role)) == 1
        world.fake.state.add_member(world.fake.world.guild_id, late)
        await as_member(world, late, "search", {"query": "review"})
        await world.fake.wait_for(lambda: has_role(world, late, role), timeout=60)
        # Later commands of a member with the role change nothing.
        await as_member(world, late, "search", {"query": "review"})
    assert [r.status for r in role_requests(world, "PUT", late, role)] == [404, 204]
    assert not db_rows(world.db, absent)
    assert not world.fake.violations


async def test_a_deleted_roles_rule_goes_and_frees_its_place_under_the_cap(world: World) -> None:
    """Deleted while the bot runs (GUILD_ROLE_DELETE), a role's rule, grants and queue go, with nothing
    sent for it; deleted while the bot missed it, /roles remove lists and takes its rule anyway."""
    alice = member(world, "alice")
    grant_manage_roles(world)
    first, second, third, fourth = (new_role(world, name) for name in ("First", "Second", "Third", "Fourth"))
    await link(world.db, {alice: "alice.hive"})
    config = roles_config(world)
    config.write_text(config.read_text(encoding="utf-8") + "\n[limits]\nrole_rules_per_server = 2\n", "utf-8")
    fake = world.fake
    async with running_bot(config, fake):
        await roles_command(world, "roles set", {"role": first, "when": "linked"})
        await roles_command(world, "roles set", {"role": second, "when": "linked"})
        await fake.wait_for(lambda: has_role(world, alice, first) and has_role(world, alice, second), timeout=60)
        full = await roles_command(world, "roles set", {"role": third, "when": "linked"})

        await fake.delete_role(first)
        await fake.wait_for(lambda: not db_rows(world.db, f"SELECT 1 FROM role_rules WHERE role_id = {first}"), 60)
        freed = await roles_command(world, "roles set", {"role": third, "when": "linked"})
        await fake.wait_for(lambda: has_role(world, alice, third), timeout=60)
    # Deleted while the bot was offline: the rule is listed and removable after its restart.
    fake.state.roles.pop(second)
    fake.state.guilds[fake.world.guild_id].role_ids.remove(second)
    async with running_bot(config, fake):
        handle = await fake.send_autocomplete(
            fake.world.guild_id, world.reviews, fake.world.owner_id, "roles remove", {"role": ""}, "role"
        )
        listed = (await handle.response(timeout=15))["data"]["choices"]
        removed = await roles_command(world, "roles remove", {"role": str(second)})
        after = await roles_command(world, "roles set", {"role": fourth, "when": "linked"})
        await fake.wait_for(lambda: has_role(world, alice, fourth), timeout=60)
    assert "already has 2 role rules" in full
    assert "Role rule added" in freed and "Role rule added" in after
    assert {"name": f"deleted role {second}", "value": str(second)} in listed
    assert {"name": "@Third", "value": str(third)} in listed
    assert "Removed the rule of the deleted role" in removed
    for role in (first, second):
        assert not role_requests(world, "DELETE", alice, role)  # nothing taken back from a deleted role
        assert not db_rows(world.db, f"SELECT 1 FROM role_grants WHERE role_id = {role}")
        assert not db_rows(world.db, f"SELECT 1 FROM jobs WHERE channel_id = {role} AND state = 'pending'")
    assert not fake.violations
