"""Discord JSON shapes for the fake's state objects, with the keys discord.py reads."""

from __future__ import annotations

from typing import Any

from .snowflake import iso_time, snowflake_time
from .state import (
    DM_CHANNEL,
    FORUM_TYPES,
    THREAD_TYPES,
    Channel,
    FakeDiscordState,
    ForumTag,
    Guild,
    Member,
    Role,
    StoredMessage,
    User,
)

HAS_THREAD_FLAG = 1 << 5


def user(u: User) -> dict[str, Any]:
    return {
        "id": str(u.id),
        "username": u.username,
        "discriminator": "0",
        "global_name": u.global_name,
        "avatar": None,
        "avatar_decoration_data": None,
        "banner": None,
        "accent_color": None,
        "public_flags": 0,
        "flags": 0,
        "bot": u.bot,
        "system": False,
        "primary_guild": None,
        "collectibles": None,
    }


def current_user(u: User) -> dict[str, Any]:
    return {**user(u), "verified": True, "mfa_enabled": False, "locale": "en-US", "email": None}


def role(r: Role) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(r.id),
        "name": r.name,
        "description": None,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": r.position,
        "permissions": str(r.permissions),
        "managed": r.managed,
        "mentionable": r.mentionable,
        "flags": 0,
    }
    if r.bot_id is not None:
        data["tags"] = {"bot_id": str(r.bot_id)}
    return data


def member(state: FakeDiscordState, m: Member, *, with_user: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "nick": m.nick,
        "avatar": None,
        "banner": None,
        "roles": [str(r) for r in m.role_ids],
        "joined_at": iso_time(m.joined_at),
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "communication_disabled_until": None,
    }
    if with_user:
        data["user"] = user(state.users[m.user_id])
    return data


def overwrites(c: Channel) -> list[dict[str, Any]]:
    return [{"id": str(o.target_id), "type": o.kind, "allow": str(o.allow), "deny": str(o.deny)} for o in c.overwrites]


def thread_metadata(c: Channel) -> dict[str, Any]:
    """What Discord sends with every thread channel (discord.py's Thread requires it)."""
    created = iso_time(snowflake_time(c.id))
    return {
        "archived": c.archived,
        "auto_archive_duration": c.auto_archive_duration,
        "archive_timestamp": created if c.archive_timestamp is None else iso_time(c.archive_timestamp),
        "locked": c.locked,
        "create_timestamp": created,
    }


def forum_tag(t: ForumTag) -> dict[str, Any]:
    return {
        "id": str(t.id),
        "name": t.name,
        "moderated": t.moderated,
        "emoji_id": None if t.emoji_id is None else str(t.emoji_id),
        "emoji_name": t.emoji_name,
    }


def channel(state: FakeDiscordState, c: Channel) -> dict[str, Any]:
    last = None if c.last_message_id is None else str(c.last_message_id)
    if c.type == DM_CHANNEL:
        assert c.recipient_id is not None
        return {
            "id": str(c.id),
            "type": DM_CHANNEL,
            "last_message_id": last,
            "flags": 0,
            "recipients": [user(state.users[c.recipient_id])],
        }
    data: dict[str, Any] = {
        "id": str(c.id),
        "type": c.type,
        "guild_id": str(c.guild_id),
        "name": c.name,
        "position": c.position,
        "permission_overwrites": overwrites(c),
        "topic": c.topic,
        "nsfw": False,
        "last_message_id": last,
        "rate_limit_per_user": c.slowmode,
        "parent_id": None if c.parent_id is None else str(c.parent_id),
        "flags": 0,
        "default_auto_archive_duration": 1440,
    }
    if c.type in THREAD_TYPES:
        assert c.guild_id is not None
        owner = c.owner_id if c.owner_id is not None else state.guilds[c.guild_id].owner_id
        data.update(
            owner_id=str(owner),
            message_count=len(state.channel_messages.get(c.id, [])),
            member_count=1,
            total_message_sent=len(state.channel_messages.get(c.id, [])),
            thread_metadata=thread_metadata(c),
            applied_tags=[str(t) for t in c.applied_tags],
        )
        del data["permission_overwrites"]  # a thread has none: its parent's apply
        del data["topic"], data["default_auto_archive_duration"], data["nsfw"]
    if c.type in FORUM_TYPES:
        data.update(
            available_tags=[forum_tag(t) for t in c.available_tags],
            default_reaction_emoji=None,
            default_thread_rate_limit_per_user=0,
            default_sort_order=None,
            default_forum_layout=0,
            default_tag_setting="match_some",
        )
    return data


def guild(state: FakeDiscordState, g: Guild) -> dict[str, Any]:
    return {
        "id": str(g.id),
        "name": g.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(g.owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "widget_enabled": False,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [role(state.roles[r]) for r in g.role_ids],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "max_members": 500000,
        "vanity_url_code": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "max_video_channel_users": 25,
    }


def guild_create(state: FakeDiscordState, g: Guild) -> dict[str, Any]:
    """The GUILD_CREATE dispatch: the REST guild plus channels, members and join details."""
    me = state.members[(g.id, state.bot.id)]
    return {
        **guild(state, g),
        "joined_at": iso_time(me.joined_at),
        "large": False,
        "unavailable": False,
        "member_count": len(g.member_ids),
        "members": [member(state, state.members[(g.id, u)]) for u in g.member_ids],
        "channels": [
            channel(state, state.channels[c]) for c in g.channel_ids if state.channels[c].type not in THREAD_TYPES
        ],
        # Only active threads come with the guild, as on Discord.
        "threads": [channel(state, state.channels[c]) for c in g.channel_ids if _active_thread(state.channels[c])],
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def _active_thread(c: Channel) -> bool:
    return c.type in THREAD_TYPES and not c.archived


def message(state: FakeDiscordState, m: StoredMessage, *, gateway: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(m.id),
        "type": m.type,
        "channel_id": str(m.channel_id),
        "author": user(state.users[m.author_id]),
        "content": m.content,
        "timestamp": iso_time(snowflake_time(m.id)),
        "edited_timestamp": None if m.edited_at is None else iso_time(m.edited_at),
        "tts": m.tts,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": m.attachments,
        "embeds": m.embeds,
        "components": m.components,
        "pinned": False,
        "flags": m.flags,
    }
    if m.nonce is not None:
        data["nonce"] = m.nonce
    started = state.channels.get(m.id)
    if started is not None and started.is_thread and started.id != m.channel_id:
        # A thread was started on this message (it carries the message's id): HAS_THREAD.
        data["thread"] = channel(state, started)
        data["flags"] = m.flags | HAS_THREAD_FLAG
    if m.message_reference is not None:
        data["message_reference"] = m.message_reference
    if m.webhook_id is not None:
        data["webhook_id"] = str(m.webhook_id)
        data["application_id"] = str(state.application_id)
    if m.interaction_id is not None and m.interaction_id in state.interactions:
        record = state.interactions[m.interaction_id]
        data["interaction_metadata"] = {
            "id": str(record.id),
            "type": record.type,
            "user": user(state.users[record.user_id]),
            "authorizing_integration_owners": {"0": str(record.guild_id)} if record.guild_id else {},
        }
    channel_obj = state.channels.get(m.channel_id)
    if gateway and channel_obj is not None and channel_obj.guild_id is not None:
        # Gateway messages carry the guild and the author's member; REST answers do not.
        data["guild_id"] = str(channel_obj.guild_id)
        author_member = state.members.get((channel_obj.guild_id, m.author_id))
        if author_member is not None:
            data["member"] = member(state, author_member, with_user=False)
    return data


def application(state: FakeDiscordState) -> dict[str, Any]:
    return {
        "id": str(state.application_id),
        "name": state.bot.username,
        "icon": None,
        "description": "",
        "summary": "",
        "type": None,
        "hook": True,
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "flags": 0,
        "owner": user(state.owner),
        "team": None,
        "bot": user(state.bot),
        "rpc_origins": [],
        "tags": [],
        "redirect_uris": [],
        "interactions_endpoint_url": None,
        "approximate_guild_count": len(state.guilds),
        "integration_types_config": {"0": {}},
    }
