"""A community's moderation, the pure parts: its custom_json ops read as hivemind reads them (from the
hivemind mock blocks), the role rules, list_community_roles' answer, the decoder, the muted tombstone."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.delivery.render import tombstone_embed
from bot.domain import PostRow
from bot.hive.blocks import decode_block
from bot.hive.events import EventDecoder, PostMuteOp, RoleSet
from bot.hive.moderation import is_moderator, may_set_role, read_community_op, read_roles
from bot.text.embeds import embed_length
from bot.text.limits import EMBED_TOTAL_MAX
from tests.fakes.chain_gen import community_op, mute_post_op, set_role_op
from tests.unit.test_events import AUTHOR, COMMUNITY, FIRST, PERMLINK, block, trx

MOCK = Path(__file__).resolve().parents[1] / "fixtures" / "hive" / "hivemind-mock" / "community_blocks.json"


def _raw(op: dict[str, Any]) -> bytes:
    return json.dumps(op["value"]).encode()


def test_the_hivemind_mock_ops_read_as_hivemind_reads_them() -> None:
    blocks = json.loads(MOCK.read_text(encoding="utf-8"))
    read: dict[str, int] = {}
    for number in sorted(blocks):
        for transaction in blocks[number]["transactions"]:
            for op in transaction["operations"]:
                if op["type"] == "custom_json_operation" and op["value"]["id"] == "community":
                    found = read_community_op(_raw(op))
                    if found is not None:
                        read[found.action] = read.get(found.action, 0) + 1
    # Every setRole, mutePost and unmutePost of the mock that names a valid role; nothing else.
    assert set(read) == {"setRole", "mutePost", "unmutePost"}
    assert read["mutePost"] >= 40 and read["unmutePost"] >= 15 and read["setRole"] >= 100
    op = read_community_op(_raw(mute_post_op("mod01", "hive-135485", "writer", "secrets1", "spamming")))
    assert op is not None
    assert (op.actor, op.account, op.permlink, op.notes) == ("mod01", "writer", "secrets1", "spamming")


@pytest.mark.parametrize(
    "value",
    [
        # signed with active authority, or by two accounts: hivemind ignores it
        {"required_auths": ["mod01"], "required_posting_auths": [], "id": "community",
         "json": '["mutePost",{"community":"hive-1","account":"a-b","permlink":"p"}]'},
        {"required_auths": [], "required_posting_auths": ["mod01", "mod02"], "id": "community",
         "json": '["mutePost",{"community":"hive-1","account":"abc","permlink":"p"}]'},
        {**community_op("mod01", "setRole", COMMUNITY, account="abc", role="owner")["value"]},  # never by setRole
        {**community_op("mod01", "setRole", COMMUNITY, account="abc", role="king")["value"]},
        {**community_op("mod01", "mutePost", COMMUNITY, account="abc")["value"]},  # no permlink
        {**community_op("mod01", "mutePost", COMMUNITY, account="NOT AN ACCOUNT", permlink="p")["value"]},
        {**community_op("mod01", "pinPost", COMMUNITY, account="abc", permlink="p")["value"]},
        {"required_auths": [], "required_posting_auths": ["mod01"], "id": "community", "json": "{not json"},
        {"required_auths": [], "required_posting_auths": ["mod01"], "id": "community", "json": "[" * 5000},
        {"required_auths": [], "required_posting_auths": ["mod01"], "id": "community", "json": '["mutePost", 3]'},
    ],
)  # fmt: skip
def test_ops_hivemind_would_not_apply_are_not_read(value: dict[str, Any]) -> None:
    assert read_community_op(json.dumps(value).encode()) is None


def test_the_role_rules() -> None:
    assert [is_moderator(r) for r in ("muted", "guest", "member", "mod", "admin", "owner", "nonsense")] == [
        False, False, False, True, True, True, False,
    ]  # fmt: skip
    assert may_set_role("mod", "guest", "muted")
    assert may_set_role("owner", "mod", "admin")
    assert not may_set_role("member", "guest", "muted")  # only mods and above
    assert not may_set_role("mod", "guest", "mod")  # not to its own rank
    assert not may_set_role("mod", "admin", "muted")  # not on a higher role
    assert not may_set_role("admin", "owner", "muted")
    assert may_set_role("admin", "admin", "member", self_change=True)


def test_list_community_roles_answers() -> None:
    answer = [["hive-158489", "owner", ""], ["cur01", "mod", "Curator"], ["spam01", "muted", "x" * 500]]
    expected = [("hive-158489", "owner", ""), ("cur01", "mod", "Curator"), ("spam01", "muted", "x" * 64)]
    assert read_roles(answer) == expected
    assert read_roles([]) == []
    for nonsense in ({"roles": []}, "muted", None, [["cur01"]], [["cur01", "king", ""]], [["Not Valid", "mod", ""]],
                     [[1, "mod", ""]], [["cur01", "mod", ""], "spam01"]):  # fmt: skip
        assert read_roles(nonsense) is None, nonsense


def test_the_decoder_keeps_the_followed_communitys_ops_on_live_posts() -> None:
    decoder = EventDecoder({COMMUNITY}, {(AUTHOR, PERMLINK)}, {AUTHOR}, claims_until=lambda: "")
    raw = block(
        FIRST,
        trx(
            mute_post_op("mod01", COMMUNITY, AUTHOR, PERMLINK, "off topic"),
            mute_post_op("mod01", COMMUNITY, AUTHOR, PERMLINK, mute=False),
            mute_post_op("mod01", COMMUNITY, "someone", "not-stored"),  # not a post we keep
            mute_post_op("mod01", "hive-999999", AUTHOR, PERMLINK),  # another community
            set_role_op("mod01", COMMUNITY, "spam01", "muted"),
            set_role_op("mod01", "hive-999999", "spam01", "muted"),
            community_op("reader01", "subscribe", COMMUNITY),
        ),
    )
    decoded, _ = decode_block(raw)
    events = decoder.decode([decoded])
    assert [type(e) for e in events] == [PostMuteOp, PostMuteOp, RoleSet]
    mute, unmute, role = events
    assert isinstance(mute, PostMuteOp) and isinstance(unmute, PostMuteOp) and isinstance(role, RoleSet)
    assert (mute.actor, mute.community, mute.author, mute.permlink, mute.notes, mute.mute) == (
        "mod01", COMMUNITY, AUTHOR, PERMLINK, "off topic", True,
    )  # fmt: skip
    assert not unmute.mute
    assert (role.actor, role.account, role.role) == ("mod01", "spam01", "muted")
    assert decoder.skipped_ops == 0


def _post(*, deleted: bool = False) -> PostRow:
    return PostRow(
        1, AUTHOR, PERMLINK, COMMUNITY, "Review", "Body", "{}", (), None, None, None, FIRST, "2026-11-23T12:00:00",
        FIRST, "2026-11-23T12:00:00", 0, deleted, 0, None,
    )  # fmt: skip


def test_the_muted_tombstone_says_who_muted_it_and_shows_the_notes_inert() -> None:
    hostile = "@everyone <@&1> [click](https://evil.example) **bold**\n" + "spam " * 2000
    embed = tombstone_embed(_post(), muted=hostile)
    assert embed.title == "Post muted"
    text = embed.description or ""
    # It names the post it stands for: the title made inert, and its author.
    assert text.startswith("The community's moderators muted **Review** by @alienpunklord on Hive.\n"), text
    assert embed.author.name == "@alienpunklord"
    tricky = tombstone_embed(replace(_post(), title="@everyone **free** <@&1> [x](https://evil.example)"), muted="")
    assert "@everyone" not in (tricky.description or "") and "<@&" not in (tricky.description or "")
    assert "](" not in (tricky.description or "")
    assert "Their notes:" in text and "@everyone" not in text and "<@&" not in text and "](" not in text
    assert embed_length(embed) <= EMBED_TOTAL_MAX and len(text) < 600
    assert "notes" not in (tombstone_embed(_post(), muted="").description or "")
    # A post deleted on Hive is a deleted post, muted or not.
    assert tombstone_embed(_post(deleted=True), muted="spam").title == "Post deleted"
    assert tombstone_embed(_post()).title == "Post deleted"
