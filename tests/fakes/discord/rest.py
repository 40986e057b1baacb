"""REST plumbing shared by the route modules, plus the small routes: login, gateway, users, guilds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import payloads
from . import permissions as perms
from .errors import DiscordError
from .gateway import INTENT_DIRECT_MESSAGES, INTENT_GUILD_MESSAGES
from .messages import Upload
from .state import Channel, FakeDiscordState, StoredMessage

if TYPE_CHECKING:
    from .server import FakeDiscord


@dataclass
class Call:
    """One REST request after routing: the spec template it matched and its parameters."""

    fake: FakeDiscord
    method: str
    path: str
    template: str
    params: dict[str, str]
    query: Mapping[str, str]
    body: Any
    uploads: list[Upload] = field(default_factory=list)

    @property
    def state(self) -> FakeDiscordState:
        return self.fake.state

    def snowflake(self, name: str, unknown_code: int) -> int:
        raw = self.params[name]
        if not raw.isdigit():
            raise DiscordError(404, unknown_code)
        return int(raw)

    def json_object(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) else {}


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # None answers 204 No Content


Handler = Callable[[Call], Awaitable[Reply]]


def ok(body: Any) -> Reply:
    return Reply(200, body)


def no_content() -> Reply:
    return Reply(204, None)


# -- helpers for route modules -----------------------------------------------------------------


def bot_channel(call: Call, need: int = 0) -> Channel:
    """The channel in the path, if the bot may see it and holds `need` there (403 as Discord says)."""
    state = call.state
    channel = state.channels.get(call.snowflake("channel_id", 10003))
    if channel is None:
        raise DiscordError(404, 10003)
    if channel.guild_id is not None:
        have = state.permissions_in(channel.id, state.bot.id)
        if not have & perms.VIEW_CHANNEL:
            raise DiscordError(403, 50001)
        if need & ~have:
            raise DiscordError(403, 50013)
    return channel


async def announce(call: Call, event: str, message: StoredMessage, data: dict[str, Any] | None = None) -> None:
    """MESSAGE_* dispatches go only to sessions that asked for the matching message intent."""
    if message.ephemeral:
        return
    channel = call.state.channels.get(message.channel_id)
    guild_id = channel.guild_id if channel is not None else None
    intent = INTENT_GUILD_MESSAGES if guild_id is not None else INTENT_DIRECT_MESSAGES
    body = data if data is not None else payloads.message(call.state, message, gateway=True)
    await call.fake.gateway.dispatch(event, body, guild_id=guild_id, intent=intent)


def bot_guild(call: Call) -> int:
    state = call.state
    guild_id = call.snowflake("guild_id", 10004)
    if guild_id not in state.guilds:
        raise DiscordError(404, 10004)
    if (guild_id, state.bot.id) not in state.members:
        raise DiscordError(403, 50001)
    return guild_id


# -- small routes ------------------------------------------------------------------------------


async def get_current_user(call: Call) -> Reply:
    return ok(payloads.current_user(call.state.bot))


async def get_application(call: Call) -> Reply:
    return ok(payloads.application(call.state))


async def get_gateway(call: Call) -> Reply:
    return ok({"url": call.fake.gateway_url})


async def get_gateway_bot(call: Call) -> Reply:
    return ok(
        {
            "url": call.fake.gateway_url,
            "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1},
        }
    )


async def get_user(call: Call) -> Reply:
    user = call.state.users.get(call.snowflake("user_id", 10013))
    if user is None:
        raise DiscordError(404, 10013)
    return ok(payloads.user(user))


async def create_dm(call: Call) -> Reply:
    raw = str(call.json_object().get("recipient_id"))
    user_id = int(raw) if raw.isdigit() else 0
    if user_id not in call.state.users:
        raise DiscordError(404, 10013)
    return ok(payloads.channel(call.state, call.state.dm_channel_for(user_id)))


async def get_channel(call: Call) -> Reply:
    return ok(payloads.channel(call.state, bot_channel(call)))


async def trigger_typing(call: Call) -> Reply:
    bot_channel(call, perms.SEND_MESSAGES)
    return no_content()


async def get_guild(call: Call) -> Reply:
    guild = call.state.guilds[bot_guild(call)]
    return ok(payloads.guild(call.state, guild))


async def get_guild_channels(call: Call) -> Reply:
    state = call.state
    guild = state.guilds[bot_guild(call)]
    visible = [
        payloads.channel(state, state.channels[c])
        for c in guild.channel_ids
        if not state.channels[c].is_thread and state.permissions_in(c, state.bot.id) & perms.VIEW_CHANNEL
    ]
    return ok(visible)


async def get_guild_roles(call: Call) -> Reply:
    guild = call.state.guilds[bot_guild(call)]
    return ok([payloads.role(call.state.roles[r]) for r in guild.role_ids])


async def get_guild_member(call: Call) -> Reply:
    guild_id = bot_guild(call)
    member = call.state.members.get((guild_id, call.snowflake("user_id", 10007)))
    if member is None:
        raise DiscordError(404, 10007)
    return ok(payloads.member(call.state, member))


ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "/users/@me"): get_current_user,
    ("GET", "/oauth2/applications/@me"): get_application,
    ("GET", "/gateway"): get_gateway,
    ("GET", "/gateway/bot"): get_gateway_bot,
    ("GET", "/users/{user_id}"): get_user,
    ("POST", "/users/@me/channels"): create_dm,
    ("GET", "/channels/{channel_id}"): get_channel,
    ("POST", "/channels/{channel_id}/typing"): trigger_typing,
    ("GET", "/guilds/{guild_id}"): get_guild,
    ("GET", "/guilds/{guild_id}/channels"): get_guild_channels,
    ("GET", "/guilds/{guild_id}/roles"): get_guild_roles,
    ("GET", "/guilds/{guild_id}/members/{user_id}"): get_guild_member,
}
