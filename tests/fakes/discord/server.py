"""FakeDiscord: one loopback aiohttp server for REST (/api/v10/...) and the gateway websocket."""

# Waiting helpers take `timeout=` on purpose: tests read `await handle.response(timeout=5)`.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import web

from . import payloads, pipeline
from .context_menus import message_command_interaction
from .faults import Fault, FaultRules, RequestFacts
from .gateway import INTENT_DIRECT_MESSAGES, INTENT_GUILD_MESSAGES, INTENT_GUILDS, Gateway, Session
from .interactions import InteractionHandle, OptionValue, command_interaction, component_interaction
from .log import Notifier, RecordedRequest, Violation
from .messages import new_message
from .permissions import Overwrite
from .ratelimit import DEFAULT_ROUTE_LIMIT, DEFAULT_THREAD_CREATE_LIMIT, GlobalLimiter, RouteBuckets
from .state import Channel, DefaultWorld, FakeDiscordState, InteractionRecord, StoredMessage
from .thread_helpers import ThreadHelpers
from .validate import OpenApiSpec

T = TypeVar("T")


class FakeDiscord(ThreadHelpers):
    """A loopback Discord the real discord.py client logs into.

    `state` holds the world (a default server is seeded unless a state is passed); `requests`,
    `violations` and `unknown_requests` record what the bot did; the fail_* methods inject errors;
    forum and thread helpers (add_forum_channel, lock_thread, ...) come from ThreadHelpers.
    """

    def __init__(
        self,
        token: str = "fake-bot-token",
        *,
        tokens: Iterable[str] = (),
        state: FakeDiscordState | None = None,
        heartbeat_interval_ms: int = 2000,
        global_rate_limit: int | None = None,
        route_limits: Mapping[str, tuple[int, float]] | None = None,
        default_route_limit: tuple[int, float] = DEFAULT_ROUTE_LIMIT,
        thread_create_limit: tuple[int, float] = DEFAULT_THREAD_CREATE_LIMIT,
        interaction_deadline: float | None = 3.0,
        nonce_window: float = 300.0,
        validate: bool = True,
        answer_delay: float = 0.0,
    ) -> None:
        self.token = token
        self.answer_delay = answer_delay
        # While set to an unset Event, the REST answers `hold_if` picks wait for it (the request is
        # recorded and its change made first, and it is listed in `held`): a client caught mid-request.
        self.hold: asyncio.Event | None = None
        self.hold_if: Callable[[RecordedRequest], bool] = lambda request: True  # which answers wait
        self.held: list[RecordedRequest] = []
        # When set, a 2xx answer goes out as rewrite_answer(request, answer) returns it, the change made
        # as usual: a server that does what it is asked but answers in a shape the client cannot read.
        self.rewrite_answer: Callable[[RecordedRequest, Any], Any] | None = None
        self.tokens: set[str] = {token, *tokens}
        if state is None:
            state = FakeDiscordState()
            state.seed_default_world()
        self.state = state
        self.interaction_deadline = interaction_deadline
        self.nonce_window = nonce_window
        self.validate = validate
        self.spec = OpenApiSpec.load()
        self.requests: list[RecordedRequest] = []
        self.violations: list[Violation] = []
        self.unknown_requests: list[RecordedRequest] = []
        self.internal_errors: list[Exception] = []
        self.count_429 = 0
        self.faults = FaultRules()
        self.global_limiter = GlobalLimiter(global_rate_limit) if global_rate_limit else None
        self.buckets = RouteBuckets(route_limits, default_route_limit, thread_create_limit)
        self._notifier: Notifier | None = None
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._reserved: socket.socket | None = None
        self.gateway = Gateway(
            state,
            tokens=self.tokens,
            heartbeat_interval_ms=heartbeat_interval_ms,
            resume_url=lambda: f"{self.ws_url}/resume",
            on_change=self.notify,
        )

    # -- lifecycle ------------------------------------------------------------------------------

    def reserve(self) -> str:
        """Take a port now but do not listen yet: connections are refused until start().

        A bot can be pointed at the URL (returned) before Discord is "up", as after a network
        blip at boot; no other process can take the port meanwhile.
        """
        if self._url is not None:
            raise RuntimeError("FakeDiscord already has its address")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._reserved = sock
        self._url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return self._url

    async def start(self) -> str:
        """Listen on 127.0.0.1 (random port, or the reserved one); returns the base URL, e.g. http://127.0.0.1:41234."""
        self._notifier = Notifier()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", pipeline.API_PREFIX + "/{tail:.*}", self._rest)
        app.router.add_route("*", "/by/{caller}" + pipeline.API_PREFIX + "/{tail:.*}", self._rest)
        app.router.add_get("/", self.gateway.handle)
        app.router.add_get("/resume", self.gateway.handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site: web.BaseSite
        if self._reserved is not None:
            site, self._reserved = web.SockSite(self._runner, self._reserved), None
        else:
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self._url = f"http://127.0.0.1:{port}"
        return self._url

    async def stop(self) -> None:
        if self._reserved is not None:
            self._reserved.close()
            self._reserved = None
        if self._runner is None:
            return
        await self.gateway.close()
        await self._runner.cleanup()
        self._runner = None

    async def go_down(self) -> None:
        """Discord goes away (an outage, a network cut): the gateway drops its connections and every
        connection to the address is refused until start() brings it back there, state kept."""
        if self._runner is None:
            raise RuntimeError("FakeDiscord is not running")
        port = self._runner.addresses[0][1]
        await self.gateway.close()
        await self._runner.cleanup()
        self._runner = None
        # Bound but not listening: connections are refused, and no other process can take the port.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        self._reserved = sock

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("FakeDiscord is not started")
        return self._url

    def api_base_for(self, caller: str) -> str:
        """A REST base URL for one bot process: its requests are recorded with `caller`, so a test with
        several processes sees which one sent what."""
        return f"{self.url}/by/{caller}{pipeline.API_PREFIX}"

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http")

    @property
    def gateway_url(self) -> str:
        return self.ws_url + "/"

    @property
    def world(self) -> DefaultWorld:
        if self.state.world is None:
            raise RuntimeError("this FakeDiscord was given a state without the default world")
        return self.state.world

    # -- looking at what happened ---------------------------------------------------------------

    def messages(self, channel_id: int, *, include_ephemeral: bool = False) -> list[StoredMessage]:
        """Current (not deleted) messages of a channel, oldest first."""
        return self.state.channel_history(channel_id, include_ephemeral=include_ephemeral)

    def message_by_id(self, message_id: int) -> StoredMessage:
        """Any stored message, deleted and ephemeral ones included."""
        return self.state.messages[message_id]

    def find_requests(
        self, method: str | None = None, route: str | None = None, *, status: int | None = None
    ) -> list[RecordedRequest]:
        """Recorded requests; `route` matches the spec template or the literal path."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method)
            and (route is None or route in (r.route, r.path))
            and (status is None or r.status == status)
        ]

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 30.0) -> T:
        """Wait until `predicate()` is truthy (re-checked whenever the fake records something)."""
        if self._notifier is None:
            raise RuntimeError("FakeDiscord is not started")
        return await self._notifier.wait_for(predicate, timeout, self._describe_recent)

    async def wait_for_request(
        self,
        method: str,
        route: str,
        *,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        timeout: float = 30.0,
    ) -> RecordedRequest:
        def check() -> RecordedRequest | None:
            return next(
                (r for r in self.find_requests(method, route) if predicate is None or predicate(r)),
                None,
            )

        return await self.wait_for(check, timeout)

    async def wait_for_message(
        self,
        channel_id: int,
        predicate: Callable[[StoredMessage], bool] | None = None,
        *,
        timeout: float = 30.0,
    ) -> StoredMessage:
        def check() -> StoredMessage | None:
            return next((m for m in self.messages(channel_id) if predicate is None or predicate(m)), None)

        return await self.wait_for(check, timeout)

    async def wait_until_ready(self, timeout: float = 30.0) -> Session:
        """Wait until a gateway session got READY and its GUILD_CREATEs."""
        return await self.wait_for(lambda: next(iter(self.gateway.live_sessions), None), timeout)

    def _describe_recent(self) -> str:
        recent = ", ".join(f"{r.method} {r.path} -> {r.status}" for r in self.requests[-5:])
        return f"last requests: [{recent}]; violations: {[str(v) for v in self.violations]}"

    def notify(self) -> None:
        """Wake waiters: something was recorded or changed."""
        if self._notifier is not None:
            self._notifier.notify()

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        return await pipeline.handle(self, request)

    # -- fault injection ------------------------------------------------------------------------

    def _fault(
        self,
        matches: Callable[[RequestFacts], bool],
        status: int,
        code: int | None,
        times: int | None,
        retry_after: float,
        is_global: bool,
        via: bool,
        message: str | None,
    ) -> Fault:
        return self.faults.add(
            Fault(
                status=status,
                code=code,
                matches=matches,
                times=times,
                retry_after=retry_after,
                is_global=is_global,
                via=via,
                message=message,
            )
        )

    def fail_channel(
        self,
        channel_id: int,
        status: int = 403,
        code: int | None = None,
        *,
        times: int | None = None,
        retry_after: float = 0.05,
        is_global: bool = False,
        via: bool = True,
        message: str | None = None,
    ) -> Fault:
        """Answer requests on /channels/{channel_id}/... with `status` (code defaults: 403 50013,
        404 10003); `times=None` until clear_faults()."""
        wanted = str(channel_id)
        return self._fault(
            lambda f: f.params.get("channel_id") == wanted, status, code, times, retry_after, is_global, via, message
        )

    def fail_user(
        self,
        user_id: int,
        status: int = 403,
        code: int | None = None,
        *,
        times: int | None = None,
        retry_after: float = 0.05,
        is_global: bool = False,
        via: bool = True,
        message: str | None = None,
    ) -> Fault:
        """Fail opening a DM with the user and anything on that DM channel."""
        wanted = str(user_id)

        def matches(f: RequestFacts) -> bool:
            if f.template == "/users/@me/channels":
                return isinstance(f.body, dict) and str(f.body.get("recipient_id")) == wanted
            dm = self.state.dm_channels.get(user_id)
            return dm is not None and f.params.get("channel_id") == str(dm)

        return self._fault(matches, status, code, times, retry_after, is_global, via, message)

    def fail_route(
        self,
        route: str,
        status: int = 500,
        code: int | None = None,
        *,
        method: str | None = None,
        times: int | None = None,
        retry_after: float = 0.05,
        is_global: bool = False,
        via: bool = True,
        message: str | None = None,
    ) -> Fault:
        """Fail requests whose spec template or literal path is `route` (any method unless given)."""

        def matches(f: RequestFacts) -> bool:
            return (method is None or f.method == method) and route in (f.template, f.path)

        return self._fault(matches, status, code, times, retry_after, is_global, via, message)

    def clear_faults(self) -> None:
        self.faults.clear()

    def close_dms(self, user_id: int) -> None:
        """The user no longer accepts DMs: sending to their DM channel answers 403 code 50007."""
        self.state.closed_dms.add(user_id)

    def open_dms(self, user_id: int) -> None:
        self.state.closed_dms.discard(user_id)

    # -- driving the bot ------------------------------------------------------------------------

    async def dispatch_interaction(self, built: tuple[dict[str, Any], InteractionRecord]) -> InteractionHandle:
        payload, record = built
        self.state.interactions[record.id] = record
        guild_id = record.guild_id
        if not await self.gateway.dispatch("INTERACTION_CREATE", payload, guild_id=guild_id):
            raise RuntimeError("no gateway session is connected to receive the interaction")
        return InteractionHandle(self, record)

    async def send_interaction(
        self,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        command: str,
        options: Mapping[str, OptionValue] | None = None,
    ) -> InteractionHandle:
        """A user runs a slash command ("feed add" = command feed, subcommand add) in a channel."""
        self._check_guild(guild_id, channel_id)
        return await self.dispatch_interaction(command_interaction(self.state, channel_id, user_id, command, options))

    async def send_autocomplete(
        self,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        command: str,
        options: Mapping[str, OptionValue],
        focused: str,
    ) -> InteractionHandle:
        """A user types into option `focused`; the bot should answer with callback type 8."""
        self._check_guild(guild_id, channel_id)
        built = command_interaction(self.state, channel_id, user_id, command, options, focused=focused)
        return await self.dispatch_interaction(built)

    async def send_component(
        self,
        message_id: int,
        user_id: int,
        custom_id: str,
        *,
        component_type: int = 2,
        values: list[str] | None = None,
    ) -> InteractionHandle:
        """A user presses a button (or picks select `values`) on a message the bot sent."""
        message = self.state.messages.get(message_id)
        if message is None or message.deleted:
            raise ValueError(f"no message {message_id}")
        built = component_interaction(
            self.state, message, user_id, custom_id, component_type=component_type, values=values
        )
        return await self.dispatch_interaction(built)

    async def send_message_command(self, message_id: int, user_id: int, name: str) -> InteractionHandle:
        """A user picks message command `name` (Apps menu) on a message."""
        message = self.state.messages.get(message_id)
        if message is None or message.deleted:
            raise ValueError(f"no message {message_id}")
        return await self.dispatch_interaction(message_command_interaction(self.state, message, user_id, name))

    def _check_guild(self, guild_id: int | None, channel_id: int) -> None:
        channel = self.state.channels.get(channel_id)
        if channel is None:
            raise ValueError(f"no channel {channel_id}")
        if channel.guild_id != guild_id:
            raise ValueError(f"channel {channel_id} is in guild {channel.guild_id}, not {guild_id}")

    async def post_user_message(
        self, channel_id: int, user_id: int, content: str, *, reply_to: int | None = None
    ) -> StoredMessage:
        """A user writes in a channel (MESSAGE_CREATE goes to sessions with the message intents); with
        `reply_to`, as a reply to that message of the channel."""
        body: dict[str, Any] = {"content": content}
        if reply_to is not None:
            body["message_reference"] = {"type": 0, "message_id": str(reply_to), "channel_id": str(channel_id)}
        message = new_message(self.state, channel_id=channel_id, author_id=user_id, body=body, uploads=[])
        self.state.store_message(message)
        channel = self.state.channels[channel_id]
        intent = INTENT_GUILD_MESSAGES if channel.guild_id is not None else INTENT_DIRECT_MESSAGES
        data = payloads.message(self.state, message, gateway=True)
        await self.gateway.dispatch("MESSAGE_CREATE", data, guild_id=channel.guild_id, intent=intent)
        self.notify()
        return message

    async def add_text_channel(self, guild_id: int, name: str, *, overwrites: list[Overwrite] | None = None) -> Channel:
        channel = self.state.add_text_channel(guild_id, name, overwrites=overwrites)
        await self.gateway.dispatch(
            "CHANNEL_CREATE", payloads.channel(self.state, channel), guild_id=guild_id, intent=INTENT_GUILDS
        )
        return channel

    async def set_overwrite(
        self, channel_id: int, target_id: int, *, kind: int = 0, allow: int = 0, deny: int = 0
    ) -> None:
        """Change a channel's overwrite for a role (kind 0) or member (kind 1); CHANNEL_UPDATE follows."""
        self.state.set_overwrite(channel_id, Overwrite(target_id, kind, allow=allow, deny=deny))
        channel = self.state.channels[channel_id]
        await self.gateway.dispatch(
            "CHANNEL_UPDATE", payloads.channel(self.state, channel), guild_id=channel.guild_id, intent=INTENT_GUILDS
        )

    async def update_role(self, role_id: int, *, permissions: int | None = None, position: int | None = None) -> None:
        """Change a role's permissions or position; GUILD_ROLE_UPDATE follows."""
        role = self.state.roles[role_id]
        if permissions is not None:
            role.permissions = permissions
        if position is not None:
            role.position = position
        await self.gateway.dispatch(
            "GUILD_ROLE_UPDATE",
            {"guild_id": str(role.guild_id), "role": payloads.role(role)},
            guild_id=role.guild_id,
            intent=INTENT_GUILDS,
        )

    async def delete_role(self, role_id: int) -> None:
        """A role deleted in Server Settings: gone from the server and its members; GUILD_ROLE_DELETE follows."""
        role = self.state.roles.pop(role_id)
        self.state.guilds[role.guild_id].role_ids.remove(role_id)
        for found in self.state.members.values():
            if role_id in found.role_ids:
                found.role_ids.remove(role_id)
        await self.gateway.dispatch(
            "GUILD_ROLE_DELETE",
            {"guild_id": str(role.guild_id), "role_id": str(role_id)},
            guild_id=role.guild_id,
            intent=INTENT_GUILDS,
        )

    async def delete_channel(self, channel_id: int) -> None:
        channel = self.state.channels.pop(channel_id)
        if channel.guild_id is not None:
            self.state.guilds[channel.guild_id].channel_ids.remove(channel_id)
        await self.gateway.dispatch(
            "CHANNEL_DELETE", payloads.channel(self.state, channel), guild_id=channel.guild_id, intent=INTENT_GUILDS
        )

    async def join_guild(self, guild_id: int) -> None:
        """Announce a guild already in `state` (with the bot as member), as when the bot is invited."""
        data = payloads.guild_create(self.state, self.state.guilds[guild_id])
        await self.gateway.dispatch("GUILD_CREATE", data, guild_id=guild_id, intent=INTENT_GUILDS)

    async def leave_guild(self, guild_id: int) -> None:
        """The bot is removed from a guild: GUILD_DELETE without `unavailable`."""
        self.state.remove_guild(guild_id)
        await self.gateway.dispatch("GUILD_DELETE", {"id": str(guild_id)}, guild_id=guild_id, intent=INTENT_GUILDS)
