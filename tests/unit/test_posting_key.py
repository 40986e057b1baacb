"""A curation account's posting key: its variable's name, a holder that never shows it, reading it from
the environment without echoing it, and whether it may sign votes for the account."""

from __future__ import annotations

import logging
import pickle

import pytest
from beemgraphenebase.account import PasswordKey

from bot.hive.identity import HiveAccount, read_account
from bot.hive.names import account_name_problem
from bot.hive.posting_key import (
    BadKey,
    PostingKey,
    env_name,
    key_is_posting_authority,
    other_authority,
    read_posting_keys,
)
from tests.fakes.hive.condenser_api import hive_account

ACCOUNT = "animerealm.cur"
_private = PasswordKey(ACCOUNT, "not a real password", role="posting", prefix="STM").get_private_key()
WIF, PUB = str(_private), str(_private.pubkey)


@pytest.mark.parametrize(
    ("account", "variable"),
    [
        ("animerealm.cur", "HIVECORD_POSTING_KEY_ANIMEREALM_CUR"),
        ("anime-realm", "HIVECORD_POSTING_KEY_ANIME_REALM"),
        ("abc.d-ef.x1y", "HIVECORD_POSTING_KEY_ABC_D_EF_X1Y"),
    ],
)
def test_env_name(account: str, variable: str) -> None:
    assert env_name(account) == variable


def test_the_key_is_held_out_of_sight(caplog: pytest.LogCaptureFixture) -> None:
    key = PostingKey(ACCOUNT, WIF)
    assert key.public_key == PUB and PUB.startswith("STM")
    assert key.wif_for_signing() == WIF
    shown = [
        repr(key),
        str(key),
        f"{key}",
        f"{key!r}",
        f"{key:>80}",
        repr([key]),
        repr({ACCOUNT: key}),
    ]
    logging.getLogger("test").warning("key %s", key)
    shown.append(caplog.text)
    for text in shown:
        assert WIF not in text and WIF[1:20] not in text
    assert repr(key) == f"PostingKey({ACCOUNT}, {PUB[:8]}…)"
    with pytest.raises(TypeError):
        pickle.dumps(key)
    assert key == PostingKey(ACCOUNT, f"  {WIF}\n") and len({key, PostingKey(ACCOUNT, WIF)}) == 1


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (WIF[:-1] + ("2" if WIF[-1] != "2" else "3"), "wrong checksum"),
        (PUB, "public key"),
        ("P5" + WIF[2:], "master password"),
        ("", "not a private key"),
        ("x" * 200, "200 characters"),
    ],
    ids=["checksum", "public key", "master password", "empty", "long"],
)
def test_not_a_key(text: str, says: str) -> None:
    with pytest.raises(BadKey) as info:
        PostingKey(ACCOUNT, text)
    assert says in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None  # no beem error carrying the text
    if text:
        assert text[:20] not in str(info.value)


def test_read_posting_keys() -> None:
    accounts = {"hive-158489": ACCOUNT, "hive-123456": ACCOUNT, "hive-111111": "other.cur", "hive-222222": "third.cur"}
    environ = {
        "HIVECORD_POSTING_KEY_ANIMEREALM_CUR": WIF,
        "HIVECORD_POSTING_KEY_OTHER_CUR": WIF[:-1] + ("2" if WIF[-1] != "2" else "3"),
        "HIVECORD_POSTING_KEY_THIRD_CUR": "  ",  # empty: no key, no problem
    }
    keys, problems = read_posting_keys(accounts, environ)
    assert list(keys) == [ACCOUNT] and keys[ACCOUNT].public_key == PUB
    assert len(problems) == 1
    assert problems[0].startswith("HIVECORD_POSTING_KEY_OTHER_CUR (the posting key of other.cur): ")
    assert WIF[:20] not in problems[0]
    assert read_posting_keys({}, environ) == ({}, [])


def test_key_is_posting_authority() -> None:
    def account(keys: list[tuple[str, int]], threshold: int = 1) -> HiveAccount:
        parsed = read_account(hive_account(ACCOUNT, keys, threshold=threshold))
        assert parsed is not None
        return parsed

    assert key_is_posting_authority(account([(PUB, 1)]), PUB)
    assert not key_is_posting_authority(account([("STM" + "1" * 50, 1)]), PUB)
    assert not key_is_posting_authority(account([(PUB, 1)], threshold=2), PUB)
    assert key_is_posting_authority(account([(PUB, 2)], threshold=2), PUB)


def test_other_authority() -> None:
    answer = hive_account(ACCOUNT, [(PUB, 1)])
    assert other_authority(answer, PUB) is None
    answer["active"]["key_auths"] = [[PUB, 1]]
    assert other_authority(answer, PUB) == "active"
    answer["owner"]["key_auths"] = [[PUB, 1]]
    assert other_authority(answer, PUB) == "owner"
    assert other_authority(None, PUB) is None


@pytest.mark.parametrize(
    "name", ["abc", "animerealm.cur", "a-b-c", "abc.def.ghi", "a1b.c2d", "abcdefghijklmnop", "hive-158489", "a--b"]
)
def test_hive_account_names(name: str) -> None:
    assert account_name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("ab", "3 to 16 characters"),
        ("abcdefghijklmnopq", "3 to 16 characters"),
        ("Abc", "lowercase"),
        ("ab.cde", "3 characters at least"),
        ("abc.", "3 characters at least"),
        ("1abc", "starts with a letter"),
        ("abc-", "does not end with a hyphen"),
        ("abc.de-", "does not end with a hyphen"),
        ("abc_def", "only letters"),
        ("@abc", "starts with a letter"),
    ],
)
def test_not_hive_account_names(name: str, says: str) -> None:
    problem = account_name_problem(name)
    assert problem is not None and says in problem
