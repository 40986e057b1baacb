"""Thread and forum routes: a thread on a message, a forum post, active and archived threads, editing one.

As on Discord: a thread started on a message has that message's id (a second one is refused,
400 160004); a forum post's starter message has the post's id; thread creation takes no nonce.
"""

from __future__ import annotations

import datetime
from typing import Any

from . import payloads
from . import permissions as perms
from .errors import DiscordError
from .gateway import INTENT_GUILDS
from .log import Violation
from .messages import new_message
from .rest import Call, Handler, Reply, announce, bot_channel, bot_guild, ok
from .rest_messages import drop_embeds_without_permission
from .state import FORUM_TYPES, NEWS_CHANNEL, TEXT_CHANNEL, Channel
from .threads import announce_thread, set_archived
from .validate import discord_errors

ANNOUNCEMENT_THREAD = 10
PRIVATE_THREAD = 12


def _form_error(field: str, code: str, message: str) -> DiscordError:
    errors = {field: {"_errors": [{"code": code, "message": message}]}}
    return DiscordError(400, 50035, errors=errors, misuse=True)


def _tag_ids(forum: Channel, raw: Any, *, may_moderate: bool) -> list[int]:
    """The applied tags of a forum post: ids of that forum's tags, moderated ones for moderators."""
    known = {t.id: t for t in forum.available_tags}
    ids: list[int] = []
    for value in raw or []:
        tag = known.get(int(value)) if str(value).isdigit() else None
        if tag is None:
            raise _form_error("applied_tags", "TAG_NOT_FOUND", f"Tag {value} is not in this forum.")
        if tag.moderated and not may_moderate:
            raise DiscordError(403, 50013)
        if tag.id not in ids:
            ids.append(tag.id)
    return ids


def _duration(body: dict[str, Any], parent: Channel) -> int:
    value = body.get("auto_archive_duration")
    return int(value) if value is not None else 1440 if parent.type not in FORUM_TYPES else 4320


async def start_thread_on_message(call: Call) -> Reply:
    state = call.state
    channel = bot_channel(call, perms.CREATE_PUBLIC_THREADS)
    if channel.type not in (TEXT_CHANNEL, NEWS_CHANNEL):
        raise DiscordError(400, 50024)
    message = state.messages.get(call.snowflake("message_id", 10008))
    if message is None or message.deleted or message.ephemeral or message.channel_id != channel.id:
        raise DiscordError(404, 10008)
    if message.id in state.channels:
        raise DiscordError(400, 160004)
    body = call.json_object()
    duration = _duration(body, channel)
    thread = state.add_thread(channel.id, body["name"], thread_id=message.id, auto_archive_duration=duration)
    if channel.type == NEWS_CHANNEL:
        thread.type = ANNOUNCEMENT_THREAD
    await announce_thread(call.fake, "THREAD_CREATE", thread)
    return Reply(201, payloads.channel(state, thread))


async def _forum_post(call: Call, forum: Channel) -> Reply:
    state = call.state
    have = state.permissions_in(forum.id, state.bot.id)
    if not have & perms.SEND_MESSAGES:
        raise DiscordError(403, 50013)
    body = call.json_object()
    errors = call.fake.spec.schema_errors("CreateForumThreadRequest", body) if call.fake.validate else []
    if errors:
        call.fake.violations.append(Violation(call.method, call.path, call.template, errors, body))
        raise DiscordError(400, 50035, errors=discord_errors(errors))
    starter = body.get("message")
    if not isinstance(starter, dict):
        raise _form_error("message", "BASE_TYPE_REQUIRED", "This field is required")
    tags = _tag_ids(forum, body.get("applied_tags"), may_moderate=bool(have & perms.MANAGE_THREADS))
    # The starter message's id is the post's id; build it first so an empty one creates nothing.
    message = new_message(state, channel_id=0, author_id=state.bot.id, body=starter, uploads=call.uploads)
    duration = _duration(body, forum)
    thread = state.add_thread(forum.id, body["name"], thread_id=message.id, auto_archive_duration=duration)
    thread.applied_tags = tags
    message.channel_id = thread.id
    message.nonce = None
    drop_embeds_without_permission(call, message)
    state.store_message(message)
    await announce_thread(call.fake, "THREAD_CREATE", thread)
    await announce(call, "MESSAGE_CREATE", message)
    return Reply(201, {**payloads.channel(state, thread), "message": payloads.message(state, message)})


async def create_thread(call: Call) -> Reply:
    """POST /channels/{id}/threads: a forum post, or a thread without a starter message."""
    state = call.state
    channel = bot_channel(call)
    if channel.type in FORUM_TYPES:
        return await _forum_post(call, channel)
    if channel.type not in (TEXT_CHANNEL, NEWS_CHANNEL):
        raise DiscordError(400, 50024)
    body = call.json_object()
    kind = body.get("type") or (ANNOUNCEMENT_THREAD if channel.type == NEWS_CHANNEL else 11)
    need = perms.CREATE_PRIVATE_THREADS if kind == PRIVATE_THREAD else perms.CREATE_PUBLIC_THREADS
    if need & ~state.permissions_in(channel.id, state.bot.id):
        raise DiscordError(403, 50013)
    thread = state.add_thread(channel.id, body["name"], auto_archive_duration=_duration(body, channel))
    thread.type = int(kind)
    await announce_thread(call.fake, "THREAD_CREATE", thread)
    return Reply(201, payloads.channel(state, thread))


async def list_active_threads(call: Call) -> Reply:
    state = call.state
    guild = state.guilds[bot_guild(call)]
    threads = [
        payloads.channel(state, c)
        for c in (state.channels[i] for i in guild.channel_ids)
        if c.is_thread and not c.archived and state.permissions_in(c.id, state.bot.id) & perms.VIEW_CHANNEL
    ]
    return ok({"threads": threads, "members": [], "has_more": False})


async def list_archived_public_threads(call: Call) -> Reply:
    """A channel's or forum's archived public threads, most recently archived first (`before` an ISO time)."""
    state = call.state
    channel = bot_channel(call, perms.READ_MESSAGE_HISTORY)
    limit = max(2, min(int(call.query.get("limit", "50")), 100))
    found = [
        c
        for c in state.channels.values()
        if c.is_thread and c.parent_id == channel.id and c.archived and c.type != PRIVATE_THREAD
    ]
    found.sort(key=lambda c: c.archive_timestamp or datetime.datetime.min.replace(tzinfo=datetime.UTC), reverse=True)
    before = call.query.get("before")
    if before:
        cut = datetime.datetime.fromisoformat(before)
        found = [c for c in found if c.archive_timestamp is not None and c.archive_timestamp < cut]
    page = found[:limit]
    return ok({"threads": [payloads.channel(state, c) for c in page], "members": [], "has_more": len(found) > limit})


async def _edit_thread(call: Call, thread: Channel) -> Reply:
    state = call.state
    body = call.json_object()
    manage = bool(state.permissions_in(thread.id, state.bot.id) & perms.MANAGE_THREADS)
    owner = thread.owner_id == state.bot.id
    archived, locked = body.get("archived"), body.get("locked")
    if thread.archived and archived is not False:
        raise DiscordError(400, 50083)  # even locking an archived thread needs it reopened first
    if locked is not None and bool(locked) != thread.locked and not manage:
        raise DiscordError(403, 50013)
    if archived is False and thread.locked and locked is not False and not manage:
        raise DiscordError(403, 50013)
    other = {k for k, v in body.items() if v is not None} - {"archived", "locked"}
    if (archived or other) and not (owner or manage):
        raise DiscordError(403, 50013)
    if "name" in other:
        thread.name = body["name"]
    if "auto_archive_duration" in other:
        thread.auto_archive_duration = int(body["auto_archive_duration"])
    if "applied_tags" in other and thread.parent_id in state.channels:
        thread.applied_tags = _tag_ids(state.channels[thread.parent_id], body["applied_tags"], may_moderate=manage)
    if locked is not None:
        thread.locked = bool(locked)
    if archived is not None and bool(archived) != thread.archived:
        await set_archived(call.fake, thread, bool(archived))  # also announces the update
    else:
        await announce_thread(call.fake, "THREAD_UPDATE", thread)
    return ok(payloads.channel(state, thread))


async def edit_channel(call: Call) -> Reply:
    """PATCH /channels/{id}: threads (archive, lock, rename, tags); a guild channel's name and topic."""
    state = call.state
    channel = bot_channel(call)
    if channel.is_thread:
        return await _edit_thread(call, channel)
    if channel.guild_id is None or not state.permissions_in(channel.id, state.bot.id) & perms.MANAGE_CHANNELS:
        raise DiscordError(403, 50013)
    body = call.json_object()
    if body.get("name"):
        channel.name = body["name"]
    if "topic" in body:
        channel.topic = body["topic"]
    data = payloads.channel(state, channel)
    await call.fake.gateway.dispatch("CHANNEL_UPDATE", data, guild_id=channel.guild_id, intent=INTENT_GUILDS)
    return ok(data)


ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "/channels/{channel_id}/messages/{message_id}/threads"): start_thread_on_message,
    ("POST", "/channels/{channel_id}/threads"): create_thread,
    ("GET", "/guilds/{guild_id}/threads/active"): list_active_threads,
    ("GET", "/channels/{channel_id}/threads/archived/public"): list_archived_public_threads,
    ("PATCH", "/channels/{channel_id}"): edit_channel,
}
