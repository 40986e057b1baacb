"""Message context-menu commands (command type 3), built the way Discord sends them."""

from __future__ import annotations

from typing import Any

from . import payloads
from .interactions import APPLICATION_COMMAND, _base
from .state import FakeDiscordState, InteractionRecord, StoredMessage


def message_command_interaction(
    state: FakeDiscordState, message: StoredMessage, user_id: int, name: str
) -> tuple[dict[str, Any], InteractionRecord]:
    """A message context-menu command (command type 3) on `message`: the message comes resolved, content
    included, as Discord sends it to bots without the Message Content intent."""
    channel = state.channels[message.channel_id]
    registered, is_guild_command = state.find_command(name, channel.guild_id, type=3)
    data: dict[str, Any] = {
        "id": registered["id"],
        "name": name,
        "type": 3,
        "target_id": str(message.id),
        "resolved": {"messages": {str(message.id): payloads.message(state, message)}},
    }
    if is_guild_command:
        data["guild_id"] = registered["guild_id"]
    return _base(state, APPLICATION_COMMAND, message.channel_id, user_id, data)
