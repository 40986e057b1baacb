"""A curation account's posting key: named by an environment variable, read only from there, held so
that printing, logging or formatting it never shows it, and handed out only to the signer.

beem does the key work (it is imported inside the functions: it is slow to import and most commands
never need it). Nothing here ever puts a key's text in a message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn

from bot.text.keys import looks_like_private_key

if TYPE_CHECKING:
    from bot.hive.identity import HiveAccount

ENV_PREFIX = "HIVECORD_POSTING_KEY_"
KEY_PREFIX = "STM"
_NOT_NAME = re.compile(r"[.-]")


def env_name(account: str) -> str:
    """The variable holding `account`'s posting key: animerealm.cur -> HIVECORD_POSTING_KEY_ANIMEREALM_CUR."""
    return ENV_PREFIX + _NOT_NAME.sub("_", account).upper()


class BadKey(ValueError):
    """The text is not a private key in WIF: `reason` says why without repeating it; the message also
    names the variable it came from, when it came from one."""

    def __init__(self, reason: str, variable: str = "", account: str = "") -> None:
        self.reason = reason
        super().__init__(f"{variable} (the posting key of {account}): {reason}" if variable else reason)


class PostingKey:
    """One account's private posting key. Its repr and str name the account and the start of the public
    key only; the WIF comes out through wif_for_signing() alone, so every use of it is easy to find."""

    __slots__ = ("_wif", "account", "public_key")

    def __init__(self, account: str, wif: str) -> None:
        from beemgraphenebase.account import PrivateKey  # slow to import; only key handling needs it

        wif = wif.strip()
        try:
            private = PrivateKey(wif, prefix=KEY_PREFIX)
            # beem checks the checksum with assert, which python -O skips: a WIF that does not come
            # back the same from beem's own encoding is not one.
            same = str(private) == wif
            public = str(private.pubkey)
        except Exception:  # beem raises assorted errors (AssertionError, ValueError) on bad input
            same, public = False, ""
        if not same:
            raise BadKey(_why_not_a_key(wif))
        self.account = account
        self.public_key = public
        self._wif = wif

    def wif_for_signing(self) -> str:
        """The private key itself, for beem's signer and nothing else."""
        return self._wif

    def __repr__(self) -> str:
        return f"PostingKey({self.account}, {self.public_key[:8]}…)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PostingKey) and (other.account, other.public_key) == (self.account, self.public_key)

    def __hash__(self) -> int:
        return hash((self.account, self.public_key))

    def __reduce__(self) -> NoReturn:
        # Pickling would write the WIF wherever the pickle goes (a cache, a database, a queue).
        raise TypeError("a PostingKey is not pickled: read it from the environment where it is needed")


def _why_not_a_key(text: str) -> str:
    # Only the shape is described; the text itself never appears.
    if text.startswith(KEY_PREFIX):
        return "it is a public key (STM...); the bot needs the private posting key (51 characters, starting with 5)"
    if text.startswith("P5"):
        return "it looks like a master password; give the bot only the private posting key (starting with 5)"
    if looks_like_private_key(text):
        return "it is shaped like a private key, with a wrong checksum (a character mistyped or missing?)"
    return f"it is not a private key in WIF (51 characters starting with 5; this is {len(text)} characters)"


def read_posting_key(account: str, environ: Mapping[str, str]) -> PostingKey | None:
    """`account`'s posting key from its variable; None when that is unset or empty (curation off).
    BadKey, naming the variable but never its value, when it holds something else."""
    variable = env_name(account)
    text = environ.get(variable, "").strip()
    if not text:
        return None
    try:
        return PostingKey(account, text)
    except BadKey as exc:
        raise BadKey(exc.reason, variable, account) from None


def read_posting_keys(
    accounts: Mapping[str, str], environ: Mapping[str, str]
) -> tuple[dict[str, PostingKey], list[str]]:
    """The posting key of each distinct account of `accounts` (community -> account) whose variable is
    set, by account; and one problem per variable that is set but holds no usable key (never its value).
    A variable that is unset or empty is no problem: that account simply has no key."""
    keys: dict[str, PostingKey] = {}
    problems: list[str] = []
    for account in dict.fromkeys(accounts.values()):
        try:
            key = read_posting_key(account, environ)
        except BadKey as exc:
            problems.append(str(exc))
            continue
        if key is not None:
            keys[account] = key
    return keys, problems


def key_is_posting_authority(account: HiveAccount, public_key: str) -> bool:
    """Whether `public_key` alone may sign posting operations (a vote) for `account`."""
    return account.posting_key_suffices(public_key)


def other_authority(answer: Any, public_key: str) -> str | None:
    """ "active" or "owner" when `public_key` is one of those keys of the account in a get_accounts answer:
    a key that can move funds, which the bot must never hold. None otherwise."""
    if not isinstance(answer, dict):
        return None
    for role in ("owner", "active"):
        authority = answer.get(role)
        pairs = authority.get("key_auths") if isinstance(authority, dict) else None
        if isinstance(pairs, list) and any(isinstance(p, list) and p[:1] == [public_key] for p in pairs):
            return role
    return None
