"""The pure parts of curation: post links, TaPoS, the vote beem signs, and node refusals in words."""

from __future__ import annotations

import struct

import pytest
from beembase.signedtransactions import Signed_Transaction
from beemgraphenebase.account import PrivateKey, PublicKey
from beemgraphenebase.chains import known_chains

from bot.hive.names import post_ref
from bot.hive.transactions import HIVE_CHAIN, HIVE_CHAIN_ID, sign_vote, tapos
from bot.services.vote_refusals import explain, is_authority_refusal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://hive.blog/hive-158489/@alice/my-review", ("alice", "my-review")),
        ("https://peakd.com/@Alice/My-Review", ("alice", "my-review")),
        ("https://ecency.com/anime/@bob.two/a-b-c?ref=x#top", ("bob.two", "a-b-c")),
        ("https://www.peakd.com/hive-158489/@alice/p", ("alice", "p")),
        ("@alice/my-review", ("alice", "my-review")),
        ("  @alice/my-review  ", ("alice", "my-review")),
        ("https://evil.example/@alice/my-review", None),
        ("javascript://hive.blog/@alice/x", None),
        ("https://hive.blog/@alice", None),
        ("@a/x", None),
        ("alice/my-review", None),
        ("@alice/my review", None),
        ("", None),
    ],
)
def test_post_ref_reads_the_links_people_paste(text: str, expected: tuple[str, str] | None) -> None:
    assert post_ref(text) == expected


class _Key:
    def __init__(self, wif: str) -> None:
        self._wif = wif

    def wif_for_signing(self) -> str:
        return self._wif


def test_tapos_is_the_head_blocks_number_and_id_prefix() -> None:
    block_id = "0605e2a1" + "00112233" + "44" * 12
    ref = tapos(0x0605E2A1, block_id, "2026-12-06T20:00:00")
    assert ref.ref_block_num == 0xE2A1
    assert ref.ref_block_prefix == struct.unpack("<I", bytes.fromhex("00112233"))[0]
    with pytest.raises(ValueError):
        tapos(1, "abcd", "2026-12-06T20:00:00")


def test_a_vote_is_signed_for_hives_chain_id_and_recovers_the_signers_key() -> None:
    assert known_chains[HIVE_CHAIN]["chain_id"] == HIVE_CHAIN_ID  # beem's "HIVE" is the old all-zero id
    key = PrivateKey()
    ref = tapos(1000, "000003e8" + "ab" * 16, "2026-12-06T20:00:00")
    signed = sign_vote(_Key(str(key)), "realm.curator", "alice", "my-review", 5000, ref)
    assert signed.trx["operations"] == [
        ["vote", {"voter": "realm.curator", "author": "alice", "permlink": "my-review", "weight": 5000}]
    ]
    assert signed.trx["expiration"] == "2026-12-06T20:01:00"
    again = Signed_Transaction(**signed.trx)
    assert again.id == signed.id
    (recovered,) = again.verify(chain=HIVE_CHAIN, recover_parameter=True)
    assert str(PublicKey(recovered, prefix="STM")) == str(key.pubkey)
    # Over the old chain id the same signature recovers another key: hived would refuse it.
    (other,) = Signed_Transaction(**signed.trx).verify(chain="HIVE", recover_parameter=True)
    assert str(PublicKey(other, prefix="STM")) != str(key.pubkey)
    with pytest.raises(ValueError):
        sign_vote(_Key(str(key)), "realm.curator", "alice", "my-review", 10001, ref)


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ("Assert Exception:... You have already voted in a similar way.", "already voted"),
        ("Votes evaluating for comment that is paid out is forbidden. Cannot vote after payout", "payout window"),
        ("rc_plugin exception: Account: x has 0 RC, needs 1000 RC.", "resource credits"),
        ("Account does not have enough mana to vote.", "voting mana"),
        ("missing required posting authority:Missing Posting Authority x", "not a posting key"),
        ("Assert Exception:comment not found", "not found on chain"),
        ("something new", "the node refused it: something new"),
    ],
)
def test_node_refusals_are_explained(message: str, words: str) -> None:
    assert words in explain(message, "x")


def test_only_a_missing_authority_turns_curation_off() -> None:
    assert is_authority_refusal("missing required posting authority:Missing Posting Authority x")
    assert not is_authority_refusal("You have already voted in a similar way.")
