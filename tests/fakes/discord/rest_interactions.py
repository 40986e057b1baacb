"""Interaction answers: the callback, then @original and followups through the webhook routes."""

from __future__ import annotations

import asyncio
from typing import Any

from . import payloads
from .errors import DiscordError
from .interactions import APPLICATION_COMMAND, AUTOCOMPLETE, MESSAGE_COMPONENT, MODAL_SUBMIT
from .messages import apply_edit, new_message
from .rest import Call, Handler, Reply, announce, no_content, ok
from .state import EPHEMERAL_FLAG, LOADING_FLAG, InteractionRecord, StoredMessage

TOKEN_LIFETIME = 15 * 60

# Callback types each interaction type may answer with.
ALLOWED_CALLBACKS: dict[int, set[int]] = {
    APPLICATION_COMMAND: {4, 5, 9},
    MESSAGE_COMPONENT: {4, 5, 6, 7, 9},
    AUTOCOMPLETE: {8},
    MODAL_SUBMIT: {4, 5, 6, 7},
}


def _message_type(record: InteractionRecord) -> int:
    return 20 if record.type == APPLICATION_COMMAND else 0  # 20 = CHAT_INPUT_COMMAND


def _age(record: InteractionRecord) -> float:
    return asyncio.get_running_loop().time() - record.created


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true")


async def interaction_callback(call: Call) -> Reply:
    state = call.state
    record = state.interactions.get(call.snowflake("interaction_id", 10062))
    if record is None:
        raise DiscordError(404, 10062)
    if record.token != call.params["interaction_token"]:
        raise DiscordError(401, 50027)
    if record.callback is not None:
        raise DiscordError(400, 40060, misuse=True)
    deadline = call.fake.interaction_deadline
    if deadline is not None and _age(record) > deadline:
        raise DiscordError(404, 10062)  # answered too late: Discord has forgotten it
    body = call.json_object()
    kind = body.get("type")
    allowed = ALLOWED_CALLBACKS.get(record.type, set())
    if kind in (6, 7) and record.message_id is None:
        allowed = allowed - {6, 7}  # a modal opened by a slash command has no message to update
    if kind not in allowed:
        error = {"code": "INTERACTION_CALLBACK_TYPE_INVALID", "message": f"Callback type {kind} is not valid here."}
        raise DiscordError(400, 50035, errors={"type": {"_errors": [error]}}, misuse=True)
    data = body.get("data") or {}
    resource: dict[str, Any] | None = None
    message: StoredMessage | None = None
    if kind == 4:
        message = new_message(
            state,
            channel_id=record.channel_id,
            author_id=state.bot.id,
            body=data,
            uploads=call.uploads,
            type=_message_type(record),
            webhook_id=state.application_id,
            interaction_id=record.id,
        )
        state.store_message(message)
        record.original_id = message.id
        resource = {"type": 4, "message": payloads.message(state, message)}
        await announce(call, "MESSAGE_CREATE", message)
    elif kind == 5:
        message = new_message(
            state,
            channel_id=record.channel_id,
            author_id=state.bot.id,
            body={},
            uploads=[],
            type=_message_type(record),
            webhook_id=state.application_id,
            interaction_id=record.id,
            extra_flags=LOADING_FLAG | (int(data.get("flags") or 0) & EPHEMERAL_FLAG),
            allow_empty=True,
        )
        state.store_message(message)
        record.original_id = message.id
        resource = {"type": 5}
    elif kind == 6:
        record.original_id = record.message_id
        resource = {"type": 6}
    elif kind == 7:
        assert record.message_id is not None
        message = state.messages[record.message_id]
        apply_edit(state, message, data, call.uploads)
        record.original_id = message.id
        resource = {"type": 7, "message": payloads.message(state, message)}
        await announce(call, "MESSAGE_UPDATE", message)
    # Recorded last, so a refused answer leaves the interaction unanswered.
    record.callback = body
    if not _truthy(call.query.get("with_response")):
        return no_content()
    interaction: dict[str, Any] = {"id": str(record.id), "type": record.type}
    if message is not None:
        interaction["response_message_id"] = str(message.id)
        interaction["response_message_loading"] = bool(message.flags & LOADING_FLAG)
        interaction["response_message_ephemeral"] = message.ephemeral
    answer: dict[str, Any] = {"interaction": interaction}
    if resource is not None and kind != 6:
        answer["resource"] = resource
    return ok(answer)


def _webhook_record(call: Call) -> InteractionRecord:
    state = call.state
    if call.params["webhook_id"] != str(state.application_id):
        raise DiscordError(404, 10015)
    token = call.params["webhook_token"]
    record = next((r for r in state.interactions.values() if r.token == token), None)
    if record is None or _age(record) > TOKEN_LIFETIME:
        raise DiscordError(401, 50027)
    if record.callback is None:
        raise DiscordError(404, 10015, misuse=True)  # no answer yet, so no webhook to use
    return record


def _webhook_message(call: Call, record: InteractionRecord) -> StoredMessage:
    raw = call.params.get("message_id", "@original")
    message_id = record.original_id if raw == "@original" else int(raw) if raw.isdigit() else None
    allowed = {record.original_id, *record.followup_ids}
    message = call.state.messages.get(message_id) if message_id in allowed and message_id is not None else None
    if message is None or message.deleted:
        raise DiscordError(404, 10008)
    return message


async def create_followup(call: Call) -> Reply:
    state = call.state
    record = _webhook_record(call)
    body = call.json_object()
    original = state.messages.get(record.original_id) if record.original_id is not None else None
    if original is not None and original.flags & LOADING_FLAG:
        # After a defer, the first followup replaces the "thinking..." message.
        apply_edit(state, original, {k: v for k, v in body.items() if k != "flags"}, call.uploads)
        original.flags &= ~LOADING_FLAG
        message = original
        await announce(call, "MESSAGE_UPDATE", message)
    else:
        message = new_message(
            state,
            channel_id=record.channel_id,
            author_id=state.bot.id,
            body=body,
            uploads=call.uploads,
            type=_message_type(record),
            webhook_id=state.application_id,
            interaction_id=record.id,
        )
        state.store_message(message)
        await announce(call, "MESSAGE_CREATE", message)
    record.followup_ids.append(message.id)
    if _truthy(call.query.get("wait")):
        return ok(payloads.message(state, message))
    return no_content()


async def get_webhook_message(call: Call) -> Reply:
    record = _webhook_record(call)
    return ok(payloads.message(call.state, _webhook_message(call, record)))


async def edit_webhook_message(call: Call) -> Reply:
    record = _webhook_record(call)
    message = _webhook_message(call, record)
    apply_edit(call.state, message, call.json_object(), call.uploads)
    message.flags &= ~LOADING_FLAG
    await announce(call, "MESSAGE_UPDATE", message)
    return ok(payloads.message(call.state, message))


async def delete_webhook_message(call: Call) -> Reply:
    record = _webhook_record(call)
    message = _webhook_message(call, record)
    message.deleted = True
    channel = call.state.channels[message.channel_id]
    data = {"id": str(message.id), "channel_id": str(message.channel_id)}
    if channel.guild_id is not None:
        data["guild_id"] = str(channel.guild_id)
    await announce(call, "MESSAGE_DELETE", message, data)
    return no_content()


_ORIGINAL = "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
_BY_ID = "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"

ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "/interactions/{interaction_id}/{interaction_token}/callback"): interaction_callback,
    ("POST", "/webhooks/{webhook_id}/{webhook_token}"): create_followup,
    ("GET", _ORIGINAL): get_webhook_message,
    ("PATCH", _ORIGINAL): edit_webhook_message,
    ("DELETE", _ORIGINAL): delete_webhook_message,
    ("GET", _BY_ID): get_webhook_message,
    ("PATCH", _BY_ID): edit_webhook_message,
    ("DELETE", _BY_ID): delete_webhook_message,
}

# Interaction answers need no bot token and do not count against the global rate limit.
UNAUTHENTICATED = {template for _, template in ROUTES}
