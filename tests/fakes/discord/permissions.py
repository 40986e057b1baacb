"""Permission bits and Discord's channel-permission algorithm (base roles, then overwrites)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

CREATE_INSTANT_INVITE = 1 << 0
KICK_MEMBERS = 1 << 1
BAN_MEMBERS = 1 << 2
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
SEND_TTS_MESSAGES = 1 << 12
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
MANAGE_ROLES = 1 << 28
MANAGE_WEBHOOKS = 1 << 29
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_MESSAGES_IN_THREADS = 1 << 38

ALL = (1 << 53) - 1

# What @everyone gets in a new server, trimmed to the bits a text-only bot cares about.
EVERYONE_DEFAULT = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | CREATE_PRIVATE_THREADS
    | SEND_MESSAGES_IN_THREADS
)

# A typical invite link for a posting bot.
BOT_DEFAULT = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES | READ_MESSAGE_HISTORY | ADD_REACTIONS


@dataclass
class Overwrite:
    """A channel permission overwrite; kind 0 = role, 1 = member."""

    target_id: int
    kind: int
    allow: int = 0
    deny: int = 0


def base_permissions(*, is_owner: bool, everyone_permissions: int, role_permissions: Iterable[int]) -> int:
    if is_owner:
        return ALL
    perms = everyone_permissions
    for value in role_permissions:
        perms |= value
    if perms & ADMINISTRATOR:
        return ALL
    return perms


def channel_permissions(
    base: int,
    *,
    guild_id: int,
    member_id: int,
    member_role_ids: Iterable[int],
    overwrites: Iterable[Overwrite],
) -> int:
    if base & ADMINISTRATOR:
        return ALL
    by_target = {(o.kind, o.target_id): o for o in overwrites}
    perms = base
    everyone = by_target.get((0, guild_id))
    if everyone is not None:
        perms = (perms & ~everyone.deny) | everyone.allow
    allow = deny = 0
    for role_id in member_role_ids:
        role_overwrite = by_target.get((0, role_id))
        if role_overwrite is not None:
            allow |= role_overwrite.allow
            deny |= role_overwrite.deny
    perms = (perms & ~deny) | allow
    member_overwrite = by_target.get((1, member_id))
    if member_overwrite is not None:
        perms = (perms & ~member_overwrite.deny) | member_overwrite.allow
    # Implicit rules: no View means nothing; no Send takes the send-dependent bits with it.
    if not perms & VIEW_CHANNEL:
        return 0
    if not perms & SEND_MESSAGES:
        perms &= ~(SEND_TTS_MESSAGES | MENTION_EVERYONE | EMBED_LINKS | ATTACH_FILES)
    return perms
