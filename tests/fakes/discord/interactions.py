"""Building INTERACTION_CREATE payloads the way Discord does, and the handle a test holds."""

# Waiting helpers take `timeout=` on purpose: tests read `await handle.response(timeout=5)`.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from . import payloads
from .state import DM_CHANNEL, THREAD_TYPES, FakeDiscordState, InteractionRecord, StoredMessage

if TYPE_CHECKING:
    from .server import FakeDiscord

APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4
MODAL_SUBMIT = 5

SUBCOMMAND = 1
SUBCOMMAND_GROUP = 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 3, 4, 5, 6, 7, 8, 9, 10, 11

OptionValue = str | int | float | bool


class InteractionHandle:
    """What a test holds after sending an interaction: the answer, the original, the followups."""

    def __init__(self, fake: FakeDiscord, record: InteractionRecord) -> None:
        self._fake = fake
        self.record = record

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def token(self) -> str:
        return self.record.token

    @property
    def payload(self) -> dict[str, Any]:
        return self.record.payload

    @property
    def callback(self) -> dict[str, Any] | None:
        """The callback body ({"type": ..., "data": ...}) once the bot answered."""
        return self.record.callback

    @property
    def original(self) -> StoredMessage | None:
        """The response message as it stands now (after any PATCH of @original)."""
        if self.record.original_id is None:
            return None
        return self._fake.state.messages.get(self.record.original_id)

    @property
    def followups(self) -> list[StoredMessage]:
        messages = self._fake.state.messages
        return [messages[i] for i in self.record.followup_ids if i in messages]

    async def response(self, timeout: float = 30.0) -> dict[str, Any]:
        """Wait for the bot's callback (the interaction's first answer) and return its body."""
        return await self._fake.wait_for(lambda: self.record.callback, timeout)

    async def wait_original(
        self, predicate: Callable[[StoredMessage], bool] | None = None, timeout: float = 30.0
    ) -> StoredMessage:
        def check() -> StoredMessage | None:
            message = self.original
            if message is None or (predicate is not None and not predicate(message)):
                return None
            return message

        return await self._fake.wait_for(check, timeout)

    async def wait_followups(self, count: int = 1, timeout: float = 30.0) -> list[StoredMessage]:
        return await self._fake.wait_for(lambda: self.followups if len(self.followups) >= count else None, timeout)

    async def click(
        self, custom_id: str, *, user_id: int | None = None, component_type: int = 2, values: list[str] | None = None
    ) -> InteractionHandle:
        """Press a component on this interaction's response message."""
        message = await self.wait_original()
        return await self._fake.send_component(
            message.id,
            self.record.user_id if user_id is None else user_id,
            custom_id,
            component_type=component_type,
            values=values,
        )

    async def submit_modal(self, values: Mapping[str, str | list[str]], *, timeout: float = 30.0) -> InteractionHandle:
        """Fill in and submit the modal the bot answered with (callback type 9)."""
        body = await self.response(timeout)
        if body.get("type") != 9:
            raise AssertionError(f"the bot answered with callback type {body.get('type')}, not a modal")
        return await self._fake.dispatch_interaction(modal_submit(self._fake.state, self.record, body["data"], values))


# -- payload building --------------------------------------------------------------------------


def _base(
    state: FakeDiscordState, type: int, channel_id: int, user_id: int, data: dict[str, Any]
) -> tuple[dict[str, Any], InteractionRecord]:
    channel = state.channels[channel_id]
    if user_id not in state.users:
        raise ValueError(f"unknown user {user_id}")
    interaction_id = state.ids.next()
    token = "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)
    payload: dict[str, Any] = {
        "id": str(interaction_id),
        "application_id": str(state.application_id),
        "type": type,
        "data": data,
        "token": token,
        "version": 1,
        "locale": "en-US",
        "entitlements": [],
        "entitlement_sku_ids": [],
        "attachment_size_limit": 10 * 1024 * 1024,
        "app_permissions": str(state.permissions_in(channel_id, state.bot.id)),
    }
    channel_payload = payloads.channel(state, channel)
    if channel.guild_id is not None:
        if (channel.guild_id, user_id) not in state.members:
            raise ValueError(f"user {user_id} is not a member of guild {channel.guild_id}")
        member = payloads.member(state, state.members[(channel.guild_id, user_id)])
        member["permissions"] = str(state.permissions_in(channel_id, user_id))
        channel_payload["permissions"] = member["permissions"]
        payload.update(
            guild_id=str(channel.guild_id),
            guild={"id": str(channel.guild_id), "locale": "en-US", "features": []},
            guild_locale="en-US",
            member=member,
            context=0,
            authorizing_integration_owners={"0": str(channel.guild_id)},
        )
    else:
        payload.update(user=payloads.user(state.users[user_id]), context=1, authorizing_integration_owners={"0": "0"})
    payload["channel"] = channel_payload
    payload["channel_id"] = str(channel_id)
    record = InteractionRecord(
        id=interaction_id,
        token=token,
        type=type,
        payload=payload,
        channel_id=channel_id,
        user_id=user_id,
        guild_id=channel.guild_id,
        created=asyncio.get_running_loop().time(),
    )
    return payload, record


class _Resolver:
    """Collects `resolved` data for user, role, channel and mentionable options."""

    def __init__(self, state: FakeDiscordState, guild_id: int | None, user_id: int) -> None:
        self.state = state
        self.guild_id = guild_id
        self.user_id = user_id
        self.data: dict[str, dict[str, Any]] = {}

    def user(self, user_id: int) -> None:
        state = self.state
        if user_id not in state.users:
            raise ValueError(f"unknown user {user_id}")
        self.data.setdefault("users", {})[str(user_id)] = payloads.user(state.users[user_id])
        if self.guild_id is not None and (self.guild_id, user_id) in state.members:
            member = payloads.member(state, state.members[(self.guild_id, user_id)], with_user=False)
            member["permissions"] = str(state.guild_permissions(self.guild_id, user_id))
            self.data.setdefault("members", {})[str(user_id)] = member

    def role(self, role_id: int) -> None:
        if role_id not in self.state.roles:
            raise ValueError(f"unknown role {role_id}")
        self.data.setdefault("roles", {})[str(role_id)] = payloads.role(self.state.roles[role_id])

    def channel(self, channel_id: int) -> int:
        channel = self.state.channels.get(channel_id)
        if channel is None:
            raise ValueError(f"unknown channel {channel_id}")
        data = {
            "id": str(channel.id),
            "name": channel.name,
            "type": channel.type,
            "permissions": str(self.state.permissions_in(channel.id, self.user_id)),
            "parent_id": None if channel.parent_id is None else str(channel.parent_id),
            "guild_id": None if channel.guild_id is None else str(channel.guild_id),
        }
        if channel.type in THREAD_TYPES:
            data["thread_metadata"] = payloads.thread_metadata(channel)  # discord.py's AppCommandThread needs it
        self.data.setdefault("channels", {})[str(channel_id)] = data
        return channel.type


def _option_value(spec: dict[str, Any], value: Any, resolver: _Resolver, *, focused: bool) -> Any:
    kind = spec["type"]
    name = spec["name"]
    if focused:
        return str(value)  # autocomplete sends what the user has typed so far, as typed
    if kind == STRING:
        if not isinstance(value, str):
            raise ValueError(f"option {name!r} takes a string")
        if not spec.get("min_length", 0) <= len(value) <= spec.get("max_length", 6000):
            raise ValueError(f"option {name!r}: length out of range")
    elif kind == INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"option {name!r} takes an integer")
    elif kind == NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"option {name!r} takes a number")
    elif kind == BOOLEAN:
        if not isinstance(value, bool):
            raise ValueError(f"option {name!r} takes a boolean")
    elif kind == USER:
        resolver.user(int(value))
        return str(value)
    elif kind == ROLE:
        resolver.role(int(value))
        return str(value)
    elif kind == MENTIONABLE:
        if int(value) in resolver.state.users:
            resolver.user(int(value))
        else:
            resolver.role(int(value))
        return str(value)
    elif kind == CHANNEL:
        channel_type = resolver.channel(int(value))
        allowed = spec.get("channel_types")
        if allowed and channel_type not in allowed:
            raise ValueError(f"option {name!r} does not accept channel type {channel_type}")
        return str(value)
    else:
        raise ValueError(f"option {name!r}: type {kind} is not supported by the fake")
    if kind in (INTEGER, NUMBER):
        if "min_value" in spec and value < spec["min_value"]:
            raise ValueError(f"option {name!r} is below its min_value")
        if "max_value" in spec and value > spec["max_value"]:
            raise ValueError(f"option {name!r} is above its max_value")
    choices = spec.get("choices")
    if choices and value not in [c["value"] for c in choices]:
        raise ValueError(f"option {name!r} must be one of its choices")
    return value


def _build_options(
    specs: list[dict[str, Any]],
    path: list[str],
    values: Mapping[str, Any],
    resolver: _Resolver,
    focused: str | None,
) -> list[dict[str, Any]]:
    if path:
        sub = next((s for s in specs if s["name"] == path[0] and s["type"] in (SUBCOMMAND, SUBCOMMAND_GROUP)), None)
        if sub is None:
            raise ValueError(f"no subcommand {path[0]!r}")
        inner = _build_options(sub.get("options") or [], path[1:], values, resolver, focused)
        return [{"type": sub["type"], "name": sub["name"], "options": inner}]
    by_name = {s["name"]: s for s in specs}
    if any(s["type"] in (SUBCOMMAND, SUBCOMMAND_GROUP) for s in specs):
        raise ValueError("this command needs a subcommand: name it, e.g. command='feed add'")
    built = []
    for name, value in values.items():
        if name not in by_name:
            raise ValueError(f"no option {name!r}; the command has {sorted(by_name)}")
        spec = by_name[name]
        option: dict[str, Any] = {
            "type": spec["type"],
            "name": name,
            "value": _option_value(spec, value, resolver, focused=name == focused),
        }
        if name == focused:
            option["focused"] = True
        built.append(option)
    if focused is None:
        missing = [s["name"] for s in specs if s.get("required") and s["name"] not in values]
        if missing:
            raise ValueError(f"required options missing: {missing}")
    return built


def command_interaction(
    state: FakeDiscordState,
    channel_id: int,
    user_id: int,
    command: str,
    options: Mapping[str, OptionValue] | None,
    *,
    focused: str | None = None,
) -> tuple[dict[str, Any], InteractionRecord]:
    """A slash command (type 2) or, with `focused`, an autocomplete request (type 4)."""
    channel = state.channels[channel_id]
    root, *path = command.split()
    registered, is_guild_command = state.find_command(root, channel.guild_id)
    resolver = _Resolver(state, channel.guild_id, user_id)
    built = _build_options(registered.get("options") or [], path, options or {}, resolver, focused)
    data: dict[str, Any] = {"id": registered["id"], "name": root, "type": 1}
    if built:
        data["options"] = built
    if resolver.data:
        data["resolved"] = resolver.data
    if is_guild_command:
        data["guild_id"] = registered["guild_id"]
    kind = AUTOCOMPLETE if focused is not None else APPLICATION_COMMAND
    return _base(state, kind, channel_id, user_id, data)


def component_interaction(
    state: FakeDiscordState,
    message: StoredMessage,
    user_id: int,
    custom_id: str,
    *,
    component_type: int,
    values: list[str] | None,
) -> tuple[dict[str, Any], InteractionRecord]:
    if not _has_component(message.components, custom_id):
        raise ValueError(f"message {message.id} has no component with custom_id {custom_id!r}")
    data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
    if values is not None:
        data["values"] = values
    payload, record = _base(state, MESSAGE_COMPONENT, message.channel_id, user_id, data)
    message_payload = payloads.message(state, message)
    if state.channels[message.channel_id].type != DM_CHANNEL:
        message_payload["guild_id"] = str(state.channels[message.channel_id].guild_id)
    payload["message"] = message_payload
    record.message_id = message.id
    return payload, record


def _has_component(components: list[Any], custom_id: str) -> bool:
    for item in components:
        if not isinstance(item, dict):
            continue
        if item.get("custom_id") == custom_id:
            return True
        nested = [*(item.get("components") or []), item.get("accessory"), item.get("component")]
        if _has_component(nested, custom_id):
            return True
    return False


def modal_submit(
    state: FakeDiscordState, parent: InteractionRecord, modal: dict[str, Any], values: Mapping[str, str | list[str]]
) -> tuple[dict[str, Any], InteractionRecord]:
    """A modal submit (type 5) answering the modal the bot showed, shaped like the modal's layout."""

    def answer(component: dict[str, Any]) -> dict[str, Any] | None:
        kind = component.get("type")
        if kind == 1:
            inner = [a for a in (answer(c) for c in component.get("components") or []) if a is not None]
            return {"type": 1, "components": inner}
        if kind == 18:
            inner_answer = answer(component.get("component") or {})
            return None if inner_answer is None else {**_id_of(component), "type": 18, "component": inner_answer}
        custom_id = component.get("custom_id")
        if custom_id is None:
            return None
        value = values.get(custom_id, "")
        key = "values" if isinstance(value, list) else "value"
        return {**_id_of(component), "type": kind, "custom_id": custom_id, key: value}

    unknown = set(values) - set(_custom_ids(modal.get("components") or []))
    if unknown:
        raise ValueError(f"the modal has no inputs {sorted(unknown)}")
    components = [a for a in (answer(c) for c in modal.get("components") or []) if a is not None]
    data = {"custom_id": modal["custom_id"], "components": components}
    payload, record = _base(state, MODAL_SUBMIT, parent.channel_id, parent.user_id, data)
    if parent.message_id is not None and parent.message_id in state.messages:
        payload["message"] = payloads.message(state, state.messages[parent.message_id])
        record.message_id = parent.message_id
    return payload, record


def _id_of(component: dict[str, Any]) -> dict[str, Any]:
    return {"id": component["id"]} if "id" in component else {}


def _custom_ids(components: list[Any]) -> list[str]:
    found: list[str] = []
    for item in components:
        if isinstance(item, dict):
            if "custom_id" in item:
                found.append(item["custom_id"])
            found.extend(_custom_ids([*(item.get("components") or []), item.get("component")]))
    return found
