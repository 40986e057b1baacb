"""Which communities' curation accounts have a posting key the bot may vote with: the key read from the
environment, then checked against the account's posting authority as a node reports it."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.hive.client import HiveClient, HiveUnavailable, RpcError
from bot.hive.identity import read_account
from bot.hive.posting_key import (
    BadKey,
    PostingKey,
    env_name,
    key_is_posting_authority,
    other_authority,
    read_posting_key,
)


class KeyState(enum.Enum):
    MISSING = "missing"  # the variable is unset or empty: curation is off
    MALFORMED = "malformed"  # set, but not a private key
    UNCHECKED = "unchecked"  # a key, but no node answered: not known to be the account's
    NO_ACCOUNT = "no account"  # the node does not know the account
    WRONG = "wrong"  # a key, but not one of the account's posting keys (with enough weight)
    POSTING = "posting"  # one of the account's posting keys: the bot may vote with it

    @property
    def is_problem(self) -> bool:
        return self in (KeyState.MALFORMED, KeyState.NO_ACCOUNT, KeyState.WRONG)


@dataclass(frozen=True)
class CurationKey:
    """One community's curation account and what is known of its key. `detail` never holds the key."""

    community: str
    account: str
    variable: str
    state: KeyState
    detail: str = ""
    key: PostingKey | None = None  # set only when state is POSTING


async def check_curation_keys(
    client: HiveClient, accounts: Mapping[str, str], environ: Mapping[str, str], *, deadline: float
) -> list[CurationKey]:
    """Each community of `accounts` (community -> account) with its key's state, in the table's order.

    The keys come from `environ`; the accounts' authorities from one condenser_api.get_accounts call,
    made only when some key is there to check. No node within `deadline` seconds leaves them UNCHECKED.
    """
    keys: dict[str, PostingKey] = {}
    bad: dict[str, str] = {}
    for account in dict.fromkeys(accounts.values()):
        try:
            key = read_posting_key(account, environ)
        except BadKey as exc:
            bad[account] = exc.reason  # the line already names the variable
            continue
        if key is not None:
            keys[account] = key
    answers: dict[str, Any] = {}
    unchecked = ""
    if keys:
        try:
            found = await client.call("condenser_api.get_accounts", [sorted(keys)], deadline=deadline)
            answers = {a["name"]: a for a in found if isinstance(a, dict) and isinstance(a.get("name"), str)}
        except HiveUnavailable as exc:
            unchecked = str(exc)
        except RpcError as exc:
            unchecked = f"every node refused the question ({exc})"
    out = []
    for community, account in accounts.items():
        variable = env_name(account)
        key = keys.get(account)
        if account in bad:
            out.append(CurationKey(community, account, variable, KeyState.MALFORMED, bad[account]))
        elif key is None:
            out.append(CurationKey(community, account, variable, KeyState.MISSING))
        elif unchecked:
            out.append(CurationKey(community, account, variable, KeyState.UNCHECKED, unchecked))
        else:
            out.append(judge(community, account, key, answers.get(account)))
    return out


def judge(community: str, account: str, key: PostingKey, answer: Any) -> CurationKey:
    """What a get_accounts answer says of `key` for `account`: the one rule check-config and the bot share."""
    variable = env_name(account)
    parsed = read_account(answer)
    if parsed is None:
        detail = f"Hive knows no account {account}"
        return CurationKey(community, account, variable, KeyState.NO_ACCOUNT, detail)
    if (role := other_authority(answer, key.public_key)) is not None:
        # Refused even when it is a posting key too: the bot never holds a key that can move funds.
        detail = f"it is {account}'s {role} key, which can move funds: give the bot a posting key that is nothing else"
    elif key_is_posting_authority(parsed, key.public_key):
        return CurationKey(community, account, variable, KeyState.POSTING, key=key)
    elif key.public_key in parsed.posting_keys:
        detail = f"it is one of {account}'s posting keys, with a weight below the posting threshold"
    else:
        detail = f"it is NOT one of {account}'s posting keys"
    return CurationKey(community, account, variable, KeyState.WRONG, detail)
