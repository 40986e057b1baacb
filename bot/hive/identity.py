"""Proving a Hive account without a key: the hivecord custom_json, the signed text Keychain signs, the
public key recovered from its signature, an account's posting authority and its reputation score."""

from __future__ import annotations

import json
import math
from binascii import hexlify
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import msgspec

CUSTOM_JSON_ID = "hivecord"
KEY_PREFIX = "STM"
SIGNATURE_BYTES = 65  # header (recovery id + 31) + r + s


class CustomJsonId(msgspec.Struct):
    """Only the id of a custom_json: the cheap check before anything else is decoded."""

    id: str = ""


class CustomJsonOp(msgspec.Struct):
    required_auths: list[str]
    required_posting_auths: list[str]
    id: str
    json: str


class LinkPayload(msgspec.Struct):
    link: str | int  # the Discord user id, a string as the /link answer writes it
    code: str


_op = msgspec.json.Decoder(CustomJsonOp)
_payload = msgspec.json.Decoder(LinkPayload)


@dataclass(frozen=True, slots=True)
class LinkClaim:
    """What a hivecord custom_json asks: link `account` (the one posting authority that signed it) to
    Discord user `user_id`, with `code`."""

    account: str
    user_id: int
    code: str


def read_link_claim(raw: msgspec.Raw | bytes) -> LinkClaim | None:
    """The claim in a custom_json with id hivecord, or None when it is not one hivecord can use (more or
    fewer than one posting account, a payload of another shape)."""
    try:
        op = _op.decode(raw)
        payload = _payload.decode(op.json)
    except (msgspec.MsgspecError, RecursionError):
        return None
    if op.id != CUSTOM_JSON_ID or len(op.required_posting_auths) != 1 or not payload.code:
        return None
    user = payload.link
    if isinstance(user, str):
        if not (user.isascii() and user.isdigit() and len(user) <= 20):
            return None
        user = int(user)
    if not 0 < user < 2**64:
        return None
    return LinkClaim(op.required_posting_auths[0], user, payload.code)


def signed_text(account: str, user_id: int, code: str) -> str:
    """The text a member signs with Keychain's sign-message to prove `account`."""
    return f"hivecord:link:{account}:{user_id}:{code}"


def hivesigner_url(account: str, user_id: int, code: str) -> str:
    """A HiveSigner link that signs and broadcasts the hivecord custom_json as `account`."""
    query = {
        "required_auths": "[]",
        "required_posting_auths": json.dumps([account]),
        "id": CUSTOM_JSON_ID,
        "json": json.dumps({"link": str(user_id), "code": code}, separators=(",", ":")),
    }
    return "https://hivesigner.com/sign/custom-json?" + urlencode(query)


class BadSignature(ValueError):
    """Not a signature a public key can be recovered from."""


def read_signature(text: str) -> bytes:
    """The 65 bytes of a Keychain signature given as hex; BadSignature when it is not one."""
    cleaned = text.strip().removeprefix("0x")
    try:
        raw = bytes.fromhex(cleaned)
    except ValueError:
        raise BadSignature("that is not hexadecimal") from None
    if len(raw) != SIGNATURE_BYTES:
        raise BadSignature(f"a signature is {SIGNATURE_BYTES * 2} hex characters, not {len(cleaned)}")
    if not 31 <= raw[0] <= 34:
        raise BadSignature("its first byte is not a compressed-key recovery header (1f to 22)")
    return raw


def recover_public_key(text: str, signature: bytes) -> str:
    """The public key (STM...) that signed sha256(`text`). Slow (~0.1 s) and synchronous: run it in a
    thread. BadSignature when no key can be recovered."""
    # Imported here: beem loads a good deal at import, and only this path needs it.
    from beemgraphenebase.account import PublicKey
    from beemgraphenebase.ecdsasig import verify_message

    try:
        # verify_message hashes the text itself and returns the recovered compressed public key.
        recovered = verify_message(text, signature)
    except Exception as exc:  # beem raises assorted errors for points off the curve
        raise BadSignature(f"no public key can be recovered from it ({type(exc).__name__})") from None
    if not recovered:
        raise BadSignature("no public key can be recovered from it")
    return str(PublicKey(hexlify(recovered).decode(), prefix=KEY_PREFIX))


@dataclass(frozen=True, slots=True)
class HiveAccount:
    """What identity needs of condenser_api.get_accounts: the posting authority and the reputation."""

    name: str
    posting_threshold: int
    posting_keys: dict[str, int]  # public key -> weight
    reputation: int  # raw, as the chain keeps it

    def posting_key_suffices(self, key: str) -> bool:
        """Whether `key` alone reaches the posting threshold."""
        weight = self.posting_keys.get(key, 0)
        return weight > 0 and weight >= self.posting_threshold


def read_account(answer: Any) -> HiveAccount | None:
    """One account of a get_accounts answer; None when it is not there or not readable."""
    if not isinstance(answer, dict) or not isinstance(answer.get("name"), str):
        return None
    posting = answer.get("posting")
    if not isinstance(posting, dict):
        return None
    keys: dict[str, int] = {}
    for pair in posting.get("key_auths") or ():
        if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) and type(pair[1]) is int:
            keys[pair[0]] = pair[1]
    threshold = posting.get("weight_threshold")
    if type(threshold) is not int:
        return None
    raw_rep = answer.get("reputation", 0)
    try:
        reputation = int(raw_rep)
    except (TypeError, ValueError):
        reputation = 0
    return HiveAccount(answer["name"], threshold, keys, reputation)


def reputation_score(raw: int) -> float:
    """The reputation Hive front ends show (25 for a new account), from the chain's raw value."""
    if raw == 0:
        return 25.0
    score = max(math.log10(abs(raw)) - 9, 0.0)
    return (-score if raw < 0 else score) * 9 + 25
