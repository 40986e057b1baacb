"""A loopback fake of Discord (REST + gateway) that the real discord.py client logs into.

    async with FakeDiscord(token="t") as fake, point_discord_py_at(fake.url):
        ...run a discord.Client with token "t"; drive it with fake.send_interaction(...)

Modules: server (FakeDiscord, the request pipeline), gateway (websocket sessions), state and
payloads (the world and its JSON), rest* (route handlers), interactions (INTERACTION_CREATE
payloads and handles), validate (OpenAPI + documented limits), ratelimit, faults, log, patching.
"""

from . import permissions
from .faults import Fault
from .interactions import InteractionHandle
from .log import RecordedRequest, Violation
from .patching import point_discord_py_at
from .permissions import Overwrite
from .ratelimit import DISCORD_LIKE_ROUTE_LIMITS
from .server import FakeDiscord
from .state import Channel, DefaultWorld, FakeDiscordState, ForumTag, StoredMessage
from .validate import FieldError, OpenApiSpec

__all__ = [
    "DISCORD_LIKE_ROUTE_LIMITS",
    "Channel",
    "DefaultWorld",
    "FakeDiscord",
    "FakeDiscordState",
    "Fault",
    "FieldError",
    "ForumTag",
    "InteractionHandle",
    "OpenApiSpec",
    "Overwrite",
    "RecordedRequest",
    "StoredMessage",
    "Violation",
    "permissions",
    "point_discord_py_at",
]
