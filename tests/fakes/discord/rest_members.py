"""Member role routes: PUT/DELETE /guilds/{g}/members/{u}/roles/{r}, with Discord's hierarchy checks."""

from __future__ import annotations

from . import permissions as perms
from .errors import DiscordError
from .rest import Call, Handler, Reply, bot_guild, no_content
from .state import Member, Role


def top_position(call: Call, guild_id: int, user_id: int) -> int:
    """The position of the member's highest role (@everyone is 0)."""
    member = call.state.members[(guild_id, user_id)]
    return max([call.state.roles[r].position for r in member.role_ids if r in call.state.roles], default=0)


def _target(call: Call) -> tuple[Member, Role]:
    """The member and role in the path, if the bot may give that role: Manage Roles, and the role below
    its own highest role, not managed by an integration, not @everyone (403 50013 as Discord says)."""
    state = call.state
    guild_id = bot_guild(call)
    member = state.members.get((guild_id, call.snowflake("user_id", 10007)))
    if member is None:
        raise DiscordError(404, 10007)
    role = state.roles.get(call.snowflake("role_id", 10011))
    if role is None or role.guild_id != guild_id:
        raise DiscordError(404, 10011)
    bot_perms = state.guild_permissions(guild_id, state.bot.id)
    if not bot_perms & perms.MANAGE_ROLES and not bot_perms & perms.ADMINISTRATOR:
        raise DiscordError(403, 50013)
    owner = state.guilds[guild_id].owner_id == state.bot.id
    if not owner and (
        role.managed or role.id == guild_id or role.position >= top_position(call, guild_id, state.bot.id)
    ):
        raise DiscordError(403, 50013)
    return member, role


async def add_member_role(call: Call) -> Reply:
    member, role = _target(call)
    if role.id not in member.role_ids:
        member.role_ids.append(role.id)
    return no_content()


async def remove_member_role(call: Call) -> Reply:
    member, role = _target(call)
    if role.id in member.role_ids:
        member.role_ids.remove(role.id)
    return no_content()


ROUTES: dict[tuple[str, str], Handler] = {
    ("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}"): add_member_role,
    ("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}"): remove_member_role,
}
