"""The pure parts of replies from Discord: the grant read from get_accounts, the permlink, the signed
comment (the bot's key, Hive's chain id), a node's refusal in words."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from beembase.signedtransactions import Signed_Transaction
from beemgraphenebase.account import PrivateKey, PublicKey

from bot.hive.grants import grant_of, hivesigner_grant_url, reply_metadata, reply_permlink
from bot.hive.posting_key import PostingKey
from bot.hive.transactions import sign_comment, tapos
from bot.services.reply_intents import explain
from bot.store.store import Store
from bot.text.mentions import mention_ids, plain_mentions
from tests.fakes.hive import hive_account
from tests.unit.test_failed_reply_copy import intent

BOT = "hivecord.app"


@pytest.mark.parametrize(
    ("auths", "threshold", "expected"),
    [
        ([(BOT, 1)], 1, "granted"),
        ([("someone.else", 1)], 1, "not granted"),
        ([(BOT, 1)], 2, "not granted"),  # below the threshold: the bot's key alone cannot sign
        ([(BOT, 2)], 2, "granted"),
        ([], 1, "not granted"),
    ],
)
def test_the_grant_is_the_bot_in_posting_account_auths_at_the_threshold(
    auths: list[tuple[str, int]], threshold: int, expected: str
) -> None:
    answer = hive_account("alice", [("STM" + "1" * 50, 1)], threshold=threshold, account_auths=auths)
    assert grant_of(answer, "alice", BOT) == expected


def test_a_grant_of_another_account_or_garbage_is_no_grant() -> None:
    answer = hive_account("mallory", [], account_auths=[(BOT, 1)])
    assert grant_of(answer, "alice", BOT) == "no account"
    assert grant_of({"name": "alice", "posting": {"weight_threshold": "1", "account_auths": [[BOT, 1]]}}, "alice",
                    BOT) == "not granted"  # fmt: skip
    assert grant_of({"name": "alice", "posting": {"weight_threshold": 1, "account_auths": [[BOT, "9"]]}}, "alice",
                    BOT) == "not granted"  # fmt: skip
    assert grant_of(None, "alice", BOT) == "no account"


def test_the_permlink_is_hives_reply_style_and_fits() -> None:
    when = datetime(2026, 12, 6, 21, 41, 18, 123456, tzinfo=UTC)
    assert reply_permlink("Review-Metallic_Rouge", when) == "re-review-metallic-rouge-20261206t214118123z"
    long = reply_permlink("x" * 300, when)
    assert len(long) <= 255 and long.startswith("re-x") and long.endswith("t214118123z")


def test_links_and_metadata() -> None:
    assert hivesigner_grant_url(BOT) == "https://hivesigner.com/authorize/hivecord.app"
    meta = json.loads(reply_metadata())
    assert meta["app"].startswith("hivecord/") and meta["format"] == "markdown"


def test_a_comment_is_signed_with_the_bots_key_for_the_members_account() -> None:
    key = PrivateKey()
    ref = tapos(1234, "000004d2" + "ab" * 16, "2026-12-06T21:41:18")
    signed = sign_comment(
        PostingKey(BOT, str(key)), author="alice", permlink="re-x-1", parent_author="bob", parent_permlink="x",
        body="Hi 👋", json_metadata=reply_metadata(), ref=ref,
    )  # fmt: skip
    trx = Signed_Transaction(**json.loads(json.dumps(signed.trx)))
    recovered = [str(PublicKey(k, prefix="STM")) for k in trx.verify(chain="HIVE2", recover_parameter=True)]
    assert recovered == [str(key.pubkey)]
    (op,) = signed.trx["operations"]
    assert op[0] == "comment" and op[1]["author"] == "alice" and op[1]["body"] == "Hi 👋" and op[1]["title"] == ""
    with pytest.raises(ValueError, match="at most"):
        sign_comment(PostingKey(BOT, str(key)), author="a", permlink="p", parent_author="b", parent_permlink="x",
                     body="x" * 65537, json_metadata="{}", ref=ref)  # fmt: skip


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ("rc_plugin exception: Account: alice has 0 RC, needs 1000 RC", "resource credits"),
        ("missing required posting authority:Missing Posting Authority alice", "does not grant @hivecord.app"),
        ("Assert Exception: You may only comment once every 3 seconds.", "every 3 seconds"),
        ("Assert Exception:comment_ptr != nullptr: Comment bob/x does not exist", "no longer on chain"),
        ("something new", "the node refused it: something new"),
    ],
)
def test_a_nodes_refusal_in_words(message: str, words: str) -> None:
    assert words in explain(message, "alice", BOT)


def test_mentions_become_the_names_discord_shows_in_one_pass() -> None:
    text = "<@1> <@!2> <#3> <@&4> <:blob:5> <a:wave:6> <@7> @everyone @here <@2>"
    ids = mention_ids(text)
    assert (ids.users, ids.channels, ids.roles) == ({1, 2, 7}, {3}, {4})
    users = {1: "Ann", 2: "<@1> Ben"}  # a name holding mention syntax is not read again
    got = plain_mentions(text, users, {3: "talk"}, {4: "Night Readers"})
    assert got == "@Ann @<@1> Ben #talk @Night Readers :blob: :wave: @unknown member @everyone @here @<@1> Ben"
    assert plain_mentions("no <@> <@x> <#> mentions", {}, {}, {}) == "no <@> <@x> <#> mentions"


async def test_the_cap_is_checked_in_the_insert_for_the_member_and_the_account(db_location: Path | str) -> None:
    """Replies recorded at the same instant: only the first is stored, whether the second is the same member's
    or another member's linked to the same account (two of one author can never share a millisecond)."""
    store = await Store.open(db_location)
    try:
        tables, now = store.discord_replies, time.time()
        first = await tables.record_intent(intent("re-a"), now, interval=20)
        assert not isinstance(first, str)
        assert await tables.record_intent(intent("re-b"), now, interval=20) == "too soon"
        assert await tables.record_intent({**intent("re-c"), "user_id": 43}, now, interval=20) == "too soon"
        assert await tables.record_intent({**intent("re-a"), "author": "carol", "user_id": 44}, now, interval=20) \
            != "too soon"  # another member and account: their own cap
        later = await tables.record_intent(intent("re-d"), now + 21, interval=20)
        assert not isinstance(later, str)
        assert await tables.record_intent(intent("re-d"), now + 50, interval=20) == "posted"  # the same permlink
    finally:
        await store.close()
