"""A community's own moderation on chain: its role names and ranks, the `community` custom_json ops
(setRole, mutePost, unmutePost) and bridge.list_community_roles' answer, read as hivemind reads them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from bot.hive.names import is_account

COMMUNITY_JSON_ID = "community"
# hivemind's ranks: an actor acts only on roles below its own.
ROLE_RANKS = {"muted": -2, "guest": 0, "member": 2, "mod": 4, "admin": 6, "owner": 8}
MODERATOR = ROLE_RANKS["mod"]
SETTABLE_ROLES = ("muted", "guest", "member", "mod", "admin")  # setRole never makes an owner
NOTES_MAX = 500  # kept of a mutePost's notes; the chain bounds the whole op anyway
TITLE_MAX = 64

CommunityAction = Literal["setRole", "mutePost", "unmutePost"]
_ACTIONS: tuple[CommunityAction, ...] = ("setRole", "mutePost", "unmutePost")


class _Envelope(msgspec.Struct):
    required_auths: list[str] = []
    required_posting_auths: list[str] = []
    id: str = ""
    json: str = ""


_envelope = msgspec.json.Decoder(_Envelope)
_payload = msgspec.json.Decoder(tuple[str, dict[str, Any]])


@dataclass(frozen=True, slots=True)
class CommunityOp:
    """One setRole, mutePost or unmutePost, with the one posting account that signed it (`actor`)."""

    action: CommunityAction
    actor: str
    community: str
    account: str  # whose role is set, or the muted post's author
    permlink: str = ""
    role: str = ""
    notes: str = ""


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def read_community_op(raw: msgspec.Raw | bytes) -> CommunityOp | None:
    """The op in a custom_json with id `community`, or None when it is another command or unreadable.

    As hivemind: signed by exactly one posting account and no active one (that account is the actor).
    """
    try:
        envelope = _envelope.decode(raw)
        if envelope.id != COMMUNITY_JSON_ID or envelope.required_auths or len(envelope.required_posting_auths) != 1:
            return None
        action, body = _payload.decode(envelope.json)
    except (msgspec.MsgspecError, RecursionError):
        return None
    if action not in _ACTIONS:
        return None
    actor = envelope.required_posting_auths[0]
    community, account = _text(body.get("community")), _text(body.get("account"))
    if community is None or account is None or not is_account(actor) or not is_account(account):
        return None
    if action == "setRole":
        role = _text(body.get("role"))
        if role not in SETTABLE_ROLES:
            return None
        return CommunityOp("setRole", actor, community, account, role=role)
    permlink = _text(body.get("permlink"))
    if not permlink:
        return None
    notes = _text(body.get("notes")) or ""
    return CommunityOp(action, actor, community, account, permlink=permlink, notes=notes[:NOTES_MAX])


def is_moderator(role: str) -> bool:
    """Whether a role may mute posts and set roles: mod, admin or owner."""
    return ROLE_RANKS.get(role, 0) >= MODERATOR


def may_set_role(actor_role: str, current_role: str, new_role: str, *, self_change: bool = False) -> bool:
    """hivemind's rule for setRole: a mod or above, only to a rank below its own, and only on an account
    ranked below it (its own role aside)."""
    actor = ROLE_RANKS.get(actor_role, 0)
    if actor < MODERATOR or new_role not in SETTABLE_ROLES or ROLE_RANKS[new_role] >= actor:
        return False
    return self_change or ROLE_RANKS.get(current_role, 0) < actor


def read_roles(answer: Any) -> list[tuple[str, str, str]] | None:
    """bridge.list_community_roles' rows as (account, role, title); None when the answer is not such a
    list (nonsense is never taken for "nobody holds a role")."""
    if not isinstance(answer, list):
        return None
    rows: list[tuple[str, str, str]] = []
    for row in answer:
        if not isinstance(row, list) or len(row) < 2:
            return None
        account, role = row[0], row[1]
        title = row[2] if len(row) > 2 else ""
        if not isinstance(account, str) or not is_account(account) or role not in ROLE_RANKS:
            return None
        rows.append((account, role, title[:TITLE_MAX] if isinstance(title, str) else ""))
    return rows
