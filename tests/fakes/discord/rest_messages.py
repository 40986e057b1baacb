"""Channel message routes: create (with nonce dedupe), fetch, edit, delete, and the bot's own reaction."""

from __future__ import annotations

import time

from . import payloads
from . import permissions as perms
from .errors import DiscordError
from .messages import apply_edit, new_message
from .rest import Call, Handler, Reply, announce, bot_channel, no_content, ok
from .state import FORUM_TYPES, StoredMessage
from .threads import check_change, check_send, set_archived


def drop_embeds_without_permission(call: Call, message: StoredMessage) -> None:
    # Without Embed Links, Discord keeps the message but silently drops its embeds.
    channel = call.state.channels[message.channel_id]
    if channel.guild_id is None or not message.embeds:
        return
    if not call.state.permissions_in(channel.id, call.state.bot.id) & perms.EMBED_LINKS:
        message.embeds = []
        message.embeds_dropped = True


def _recent_with_nonce(call: Call, channel_id: int, nonce: object) -> StoredMessage | None:
    horizon = time.time() - call.fake.nonce_window
    for message in reversed(call.state.channel_history(channel_id)):
        if message.created_at.timestamp() < horizon:
            return None
        if message.author_id == call.state.bot.id and message.nonce is not None and str(message.nonce) == str(nonce):
            return message
    return None


async def create_message(call: Call) -> Reply:
    state = call.state
    channel = bot_channel(call)
    if channel.guild_id is None and channel.recipient_id in state.closed_dms:
        raise DiscordError(403, 50007)
    body = call.json_object()
    if channel.type in FORUM_TYPES:
        raise DiscordError(400, 50008)  # a forum takes posts (threads), not messages
    if channel.guild_id is not None:
        # In a thread, Send Messages in Threads (on the parent) is what counts.
        send = perms.SEND_MESSAGES_IN_THREADS if channel.is_thread else perms.SEND_MESSAGES
        need = send | (perms.READ_MESSAGE_HISTORY if body.get("message_reference") else 0)
        if need & ~state.permissions_in(channel.id, state.bot.id):
            raise DiscordError(403, 50013)
    if channel.is_thread:
        check_send(call.fake, channel)
    nonce = body.get("nonce")
    if nonce is not None and body.get("enforce_nonce"):
        existing = _recent_with_nonce(call, channel.id, nonce)
        if existing is not None:
            return ok(payloads.message(state, existing))
    message = new_message(state, channel_id=channel.id, author_id=state.bot.id, body=body, uploads=call.uploads)
    drop_embeds_without_permission(call, message)
    if channel.archived:
        await set_archived(call.fake, channel, False)  # a send reopens an archived, unlocked thread
    state.store_message(message)
    await announce(call, "MESSAGE_CREATE", message)
    return ok(payloads.message(state, message))


def _message_in_channel(call: Call) -> StoredMessage:
    channel = bot_channel(call)
    message = call.state.messages.get(call.snowflake("message_id", 10008))
    if message is None or message.deleted or message.ephemeral or message.channel_id != channel.id:
        raise DiscordError(404, 10008)
    return message


async def get_message(call: Call) -> Reply:
    bot_channel(call, perms.READ_MESSAGE_HISTORY)
    return ok(payloads.message(call.state, _message_in_channel(call)))


async def list_messages(call: Call) -> Reply:
    state = call.state
    channel = bot_channel(call)
    if not state.permissions_in(channel.id, state.bot.id) & perms.READ_MESSAGE_HISTORY:
        return ok([])  # documented: no history permission, no messages
    limit = max(1, min(int(call.query.get("limit", "50")), 100))
    history = state.channel_history(channel.id)
    if "before" in call.query:
        history = [m for m in history if m.id < int(call.query["before"])]
    if "after" in call.query:
        history = [m for m in history if m.id > int(call.query["after"])]
        history = history[:limit]
    if "around" in call.query:
        around = int(call.query["around"])
        older = [m for m in history if m.id <= around][-((limit + 1) // 2) :]
        newer = [m for m in history if m.id > around][: limit // 2]
        history = older + newer
    newest_first = list(reversed(history))[:limit]
    return ok([payloads.message(state, m) for m in newest_first])


async def edit_message(call: Call) -> Reply:
    state = call.state
    message = _message_in_channel(call)
    if message.author_id != state.bot.id:
        raise DiscordError(403, 50005)
    if state.channels[message.channel_id].is_thread:
        check_change(call.fake, state.channels[message.channel_id])
    apply_edit(state, message, call.json_object(), call.uploads)
    drop_embeds_without_permission(call, message)
    await announce(call, "MESSAGE_UPDATE", message)
    return ok(payloads.message(state, message))


async def delete_message(call: Call) -> Reply:
    state = call.state
    message = _message_in_channel(call)
    channel = state.channels[message.channel_id]
    if channel.is_thread:
        check_change(call.fake, channel)
    if message.author_id != state.bot.id and not (
        channel.guild_id is not None and state.permissions_in(channel.id, state.bot.id) & perms.MANAGE_MESSAGES
    ):
        raise DiscordError(403, 50013)
    message.deleted = True
    data = {"id": str(message.id), "channel_id": str(message.channel_id)}
    if channel.guild_id is not None:
        data["guild_id"] = str(channel.guild_id)
    await announce(call, "MESSAGE_DELETE", message, data)
    return no_content()


async def add_my_reaction(call: Call) -> Reply:
    """PUT .../reactions/{emoji}/@me: takes Read Message History, and Add Reactions for a new emoji."""
    bot_channel(call, perms.READ_MESSAGE_HISTORY)
    message = _message_in_channel(call)
    emoji = call.params["emoji_name"]
    if emoji not in message.reactions and not call.state.permissions_in(message.channel_id, call.state.bot.id) & \
            perms.ADD_REACTIONS:
        raise DiscordError(403, 50013)
    message.reactions.setdefault(emoji, set()).add(call.state.bot.id)
    return no_content()


async def remove_my_reaction(call: Call) -> Reply:
    """DELETE .../reactions/{emoji}/@me: the bot's own reaction, gone (204 whether or not it was there)."""
    bot_channel(call, perms.READ_MESSAGE_HISTORY)
    message = _message_in_channel(call)
    emoji = call.params["emoji_name"]
    users = message.reactions.get(emoji, set())
    users.discard(call.state.bot.id)
    if not users:
        message.reactions.pop(emoji, None)
    return no_content()


ROUTES: dict[tuple[str, str], Handler] = {
    ("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me"): add_my_reaction,
    ("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me"): remove_my_reaction,
    ("POST", "/channels/{channel_id}/messages"): create_message,
    ("GET", "/channels/{channel_id}/messages"): list_messages,
    ("GET", "/channels/{channel_id}/messages/{message_id}"): get_message,
    ("PATCH", "/channels/{channel_id}/messages/{message_id}"): edit_message,
    ("DELETE", "/channels/{channel_id}/messages/{message_id}"): delete_message,
}
