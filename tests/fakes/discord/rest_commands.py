"""Application command routes, global and per guild: bulk overwrite, upsert, get, edit, delete."""

from __future__ import annotations

import copy
from typing import Any

from .errors import DiscordError
from .rest import Call, Handler, Reply, bot_guild, no_content, ok


def _scope(call: Call) -> int | None:
    """None for global commands, else the guild id; checks the application id in the path."""
    if call.params["application_id"] != str(call.state.application_id):
        raise DiscordError(403, 20012)
    return bot_guild(call) if "guild_id" in call.params else None


def _stored(call: Call, scope: int | None, body: dict[str, Any], command_id: int | None) -> dict[str, Any]:
    state = call.state
    permissions = body.get("default_member_permissions")
    command: dict[str, Any] = {
        "id": str(command_id if command_id is not None else state.ids.next()),
        "application_id": str(state.application_id),
        "version": str(state.ids.next()),
        "type": body.get("type") or 1,
        "name": body["name"],
        "name_localizations": body.get("name_localizations"),
        "description": body.get("description") or "",
        "description_localizations": body.get("description_localizations"),
        # Discord answers with the permission bitfield as a string, whatever the client sent.
        "default_member_permissions": None if permissions is None else str(permissions),
        "nsfw": bool(body.get("nsfw", False)),
        "contexts": body.get("contexts"),
        "integration_types": body.get("integration_types") or [0],
        "options": copy.deepcopy(body.get("options") or []),
    }
    if scope is None:
        command["dm_permission"] = body.get("dm_permission", True)
    else:
        command["guild_id"] = str(scope)
    return command


def _find(commands: list[dict[str, Any]], name: str, type: int) -> dict[str, Any] | None:
    return next((c for c in commands if c["name"] == name and c["type"] == type), None)


async def list_commands(call: Call) -> Reply:
    return ok(call.state.commands.get(_scope(call), []))


async def bulk_overwrite(call: Call) -> Reply:
    scope = _scope(call)
    previous = call.state.commands.get(scope, [])
    new: list[dict[str, Any]] = []
    for body in call.body or []:
        # Discord keeps a command's id when a command of the same name and type survives.
        kept = _find(previous, body["name"], body.get("type") or 1)
        new.append(_stored(call, scope, body, None if kept is None else int(kept["id"])))
    call.state.commands[scope] = new
    return ok(new)


async def upsert_command(call: Call) -> Reply:
    scope = _scope(call)
    body = call.json_object()
    commands = call.state.commands.setdefault(scope, [])
    kept = _find(commands, body["name"], body.get("type") or 1)
    command = _stored(call, scope, body, None if kept is None else int(kept["id"]))
    if kept is not None:
        commands[commands.index(kept)] = command
        return ok(command)
    commands.append(command)
    return Reply(201, command)


def _by_id(call: Call) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    commands = call.state.commands.get(_scope(call), [])
    wanted = call.params["command_id"]
    for command in commands:
        if command["id"] == wanted:
            return commands, command
    raise DiscordError(404, 10063)


async def get_command(call: Call) -> Reply:
    return ok(_by_id(call)[1])


async def edit_command(call: Call) -> Reply:
    commands, command = _by_id(call)
    merged = {**command, **call.json_object()}
    updated = _stored(call, _scope(call), merged, int(command["id"]))
    commands[commands.index(command)] = updated
    return ok(updated)


async def delete_command(call: Call) -> Reply:
    commands, command = _by_id(call)
    commands.remove(command)
    return no_content()


ROUTES: dict[tuple[str, str], Handler] = {}
for _base in ("/applications/{application_id}/commands", "/applications/{application_id}/guilds/{guild_id}/commands"):
    ROUTES[("GET", _base)] = list_commands
    ROUTES[("PUT", _base)] = bulk_overwrite
    ROUTES[("POST", _base)] = upsert_command
    ROUTES[("GET", _base + "/{command_id}")] = get_command
    ROUTES[("PATCH", _base + "/{command_id}")] = edit_command
    ROUTES[("DELETE", _base + "/{command_id}")] = delete_command
