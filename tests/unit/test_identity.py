"""The pure parts of linking: the hivecord custom_json as the follower reads it, the signed text,
signatures, reputation, and what counts as a pasted private key."""

from __future__ import annotations

import json
import logging
from typing import Any

import msgspec
import pytest
from beemgraphenebase.account import PrivateKey
from beemgraphenebase.ecdsasig import sign_message

from bot.hive.blocks import Block
from bot.hive.events import EventDecoder, LinkClaimed
from bot.hive.identity import BadSignature, read_signature, recover_public_key, reputation_score
from bot.text.keys import REDACTED, RedactingFormatter, looks_like_private_key, redact_private_keys


def custom_json(cid: str, posting: list[str], payload: Any, active: list[str] | None = None) -> dict[str, Any]:
    value = {"required_auths": active or [], "required_posting_auths": posting, "id": cid, "json": payload}
    return {"type": "custom_json_operation", "value": value}


def test_only_hivecord_custom_jsons_with_one_posting_account_become_claims() -> None:
    good = json.dumps({"link": "1234", "code": "abc"})
    ops = [
        custom_json("hivecord", ["alice"], good),
        custom_json("sm_submit_team", ["alice"], good),  # another app's op, same payload
        custom_json("hivecord", ["alice", "bob"], good),  # whose link would it be?
        custom_json("hivecord", [], good, active=["alice"]),  # no posting authority
        custom_json("hivecord", ["alice"], '{"link": "12x", "code": "abc"}'),
        custom_json("hivecord", ["alice"], "not json"),
        custom_json("hivecord", ["carol"], json.dumps({"link": 99, "code": "xyz"})),
    ]
    raw = {"block_id": "0000000a" + "0" * 32, "timestamp": "2026-01-01T00:00:00", "transactions": [{"operations": ops}]}
    block = msgspec.json.decode(json.dumps(raw), type=Block)
    decoder = EventDecoder(set(), set(), set(), claims_until=lambda: "2026-01-01T00:15:00")
    assert decoder.decode([block]) == [
        LinkClaimed(10, "2026-01-01T00:00:00", "alice", 1234, "abc"),
        LinkClaimed(10, "2026-01-01T00:00:00", "carol", 99, "xyz"),
    ]
    assert decoder.skipped_ops == 4  # hivecord's own that could not be used
    # No open code reaches that block's time: its custom_json ops are not even read.
    for until in ("", "2025-12-31T23:59:59"):
        decoder = EventDecoder(set(), set(), set(), claims_until=lambda: until)  # noqa: B023
        assert decoder.decode([block]) == [] and decoder.skipped_ops == 0


def test_signatures_recover_the_signing_key_and_garbage_is_refused() -> None:
    key = PrivateKey()
    signature = sign_message("hivecord:link:alice:1:c", str(key))
    assert recover_public_key("hivecord:link:alice:1:c", read_signature(signature.hex())) == str(key.pubkey)
    assert recover_public_key("hivecord:link:alice:1:d", read_signature(signature.hex())) != str(key.pubkey)
    for bad in ("zz", "1f" + "00" * 10, "00" + "ab" * 64):
        with pytest.raises(BadSignature):
            read_signature(bad)


@pytest.mark.parametrize(("raw", "shown"), [(0, 25), (95_832_978_796_820, 69), (-10_000_000_000, 16), (10**9, 25)])
def test_reputation_as_hive_front_ends_show_it(raw: int, shown: int) -> None:
    assert int(reputation_score(raw)) == shown


def test_private_keys_are_recognised_and_redacted_but_signatures_are_not() -> None:
    wif = str(PrivateKey())
    master = "P" + str(PrivateKey())
    signature = sign_message("x", wif).hex()
    assert looks_like_private_key(f"my key is {wif}!") and looks_like_private_key(master)
    assert not looks_like_private_key(signature) and not looks_like_private_key(wif[:-1])
    assert not looks_like_private_key("5" * 60)  # longer than a key: not cut into one
    assert redact_private_keys(f"a {wif} b") == f"a {REDACTED} b"
    record = logging.LogRecord("discord.gateway", logging.DEBUG, "", 0, "payload %s", ({"value": master},), None)
    assert master not in RedactingFormatter("%(message)s").format(record)
