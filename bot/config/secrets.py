"""Private keys never live in the config: a key named like one, or a value shaped like one, in the file
or in a setting's variable is a problem saying where keys go, never what the value was. The posting-key
variables themselves (HIVECORD_POSTING_KEY_<ACCOUNT>) are secrets, not settings."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from bot.config.schema import ENV_PREFIX, is_token_key
from bot.hive.posting_key import ENV_PREFIX as POSTING_KEY_PREFIX
from bot.text.keys import looks_like_private_key

WHERE_KEYS_GO = (
    f"posting keys come only from the environment: {POSTING_KEY_PREFIX}<ACCOUNT>, "
    f"e.g. {POSTING_KEY_PREFIX}ANIMEREALM_CUR for animerealm.cur"
)
FILE_KEY_HINT = f"remove this key from the file; {WHERE_KEYS_GO}"
FILE_VALUE_HINT = (
    "this looks like a private key, which is never read from the config file: remove it (and change the key "
    f"if this file was ever shared); {WHERE_KEYS_GO}"
)
ENV_VALUE_HINT = f"this looks like a private key, which is not a setting; {WHERE_KEYS_GO}"
BARE_PREFIX_HINT = f"a posting key's variable names its account: {POSTING_KEY_PREFIX}<ACCOUNT>"
_WORDS = ("postingkey", "privatekey", "activekey", "ownerkey", "memokey", "wif", "password")


def is_key_name(name: str) -> bool:
    """posting_key, postingKey, private-key, wif, a near miss such as postng_key: a name for a secret."""
    squashed = re.sub(r"[^a-z]", "", name.lower())
    return any(word in squashed for word in _WORDS) or bool(
        difflib.get_close_matches(squashed, ["postingkey", "privatekey"], n=1, cutoff=0.8)
    )


def secrets_in(value: object, prefix: str) -> Iterator[tuple[str, str]]:
    """(dotted path, problem) for every key named like a secret and every value shaped like a private
    key, at any depth; token keys are left to their own check."""
    if isinstance(value, dict):
        for key, item in value.items():
            dotted = f"{prefix}.{key}" if prefix else str(key)
            if is_token_key(str(key)):
                continue
            if is_key_name(str(key)):
                yield dotted, FILE_KEY_HINT
            else:
                yield from secrets_in(item, dotted)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from secrets_in(item, f"{prefix}[{i}]")
    elif isinstance(value, str) and looks_like_private_key(value):
        yield prefix, FILE_VALUE_HINT


def without_echoes(problems: list[str], secrets: list[tuple[str, str]]) -> list[str]:
    """The problems less any other one about a place that holds a secret: that place's own check only
    says the (redacted) value is wrong, where the secret's problem says what to do."""
    places = {path for path, _ in secrets}
    own = {f"{path}: {hint}" for path, hint in secrets}
    return [p for p in problems if p in own or p.partition(": ")[0] not in places]


def is_posting_key_variable(upper: str) -> bool:
    """HIVECORD_POSTING_KEY_<something>: a secret read by the curation code, not a setting."""
    return upper.startswith(POSTING_KEY_PREFIX) and len(upper) > len(POSTING_KEY_PREFIX)


def env_name_problem(upper: str) -> str | None:
    """What is wrong with a HIVECORD_ name that is no setting but reads like a posting key's variable."""
    if upper == POSTING_KEY_PREFIX.rstrip("_") or upper == POSTING_KEY_PREFIX:
        return BARE_PREFIX_HINT
    if is_key_name(upper.removeprefix(ENV_PREFIX)):
        return f"unknown setting; {BARE_PREFIX_HINT}"
    return None
