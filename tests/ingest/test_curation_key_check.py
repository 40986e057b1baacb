"""The bot's own check of a curation key, through the real node client against the loopback node: a key the
chain does not list as the account's posting key turns curation off for its community, in one log line."""

from __future__ import annotations

import logging

import pytest
from beemgraphenebase.account import PrivateKey

from bot.hive.client import HiveClient
from bot.hive.posting_key import PostingKey
from bot.services.curation_keys import CurationKeys
from tests.fakes.hive import FakeHiveNode, hive_account

ACCOUNT = "realm.curator"
COMMUNITY = "hive-158489"


@pytest.mark.parametrize("which", ["another key", "the active key"])
async def test_a_key_the_chain_does_not_list_turns_curation_off_once(
    which: str, caplog: pytest.LogCaptureFixture
) -> None:
    posting, held = PrivateKey(), PrivateKey()
    account = hive_account(ACCOUNT, [(str(posting.pubkey), 1)])
    if which == "the active key":
        account["active"]["key_auths"] = [[str(held.pubkey), 1]]
        account["posting"]["key_auths"].append([str(held.pubkey), 1])
    node = FakeHiveNode({1: {}}, head=1)
    node.accounts[ACCOUNT] = account
    async with node, HiveClient([node.url]) as hive:
        keys = CurationKeys(hive, {COMMUNITY: ACCOUNT}, {ACCOUNT: PostingKey(ACCOUNT, str(held))})
        assert keys.usable(COMMUNITY)  # not asked yet: the first vote asks
        with caplog.at_level(logging.INFO, logger="hivecord.curation"):
            assert await keys.verify_all()
            assert await keys.verify(ACCOUNT) is False
    assert not keys.usable(COMMUNITY)
    assert "not a posting key" in keys.off_reason(COMMUNITY)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and f"curation for {COMMUNITY} is off" in errors[0].getMessage()
    assert str(held) not in caplog.text


async def test_the_accounts_posting_key_is_usable() -> None:
    key = PrivateKey()
    node = FakeHiveNode({1: {}}, head=1)
    node.accounts[ACCOUNT] = hive_account(ACCOUNT, [(str(key.pubkey), 1)])
    async with node, HiveClient([node.url]) as hive:
        keys = CurationKeys(hive, {COMMUNITY: ACCOUNT}, {ACCOUNT: PostingKey(ACCOUNT, str(key))})
        assert await keys.verify(ACCOUNT) is True
    assert keys.usable(COMMUNITY)
