"""The gateway websocket: HELLO, IDENTIFY/READY, GUILD_CREATE, heartbeats, RESUME and dispatches."""

from __future__ import annotations

import contextlib
import json
import secrets
import zlib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, cast

from aiohttp import WSMsgType, web

from . import payloads
from .state import FakeDiscordState

DISPATCH = 0
HEARTBEAT = 1
IDENTIFY = 2
PRESENCE_UPDATE = 3
RESUME = 6
RECONNECT = 7
REQUEST_GUILD_MEMBERS = 8
INVALID_SESSION = 9
HELLO = 10
HEARTBEAT_ACK = 11

# Intent bits the fake filters dispatches by.
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12

REPLAY_LIMIT = 1000


@dataclass
class Session:
    """A gateway session; it outlives its websocket so the client can RESUME it."""

    id: str
    intents: int
    identify: dict[str, Any]
    shard: tuple[int, int] | None
    seq: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    conn: Connection | None = None
    alive: bool = True

    def handles_guild(self, guild_id: int) -> bool:
        if self.shard is None:
            return True
        shard_id, count = self.shard
        return (guild_id >> 22) % count == shard_id


@dataclass
class Connection:
    path: str
    query: dict[str, str]
    ws: web.WebSocketResponse
    compressor: Any = None  # zlib compressobj when the client asked for zlib-stream
    session: Session | None = None
    resumed: bool = False
    close_code: int | None = None
    closed_by_server: bool = False

    async def close(self, code: int, message: bytes = b"") -> None:
        self.closed_by_server = True
        await self.ws.close(code=code, message=message)

    async def send(self, frame: dict[str, Any]) -> None:
        text = json.dumps(frame, separators=(",", ":"))
        if self.compressor is not None:
            data = self.compressor.compress(text.encode()) + self.compressor.flush(zlib.Z_SYNC_FLUSH)
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(text)


class Gateway:
    def __init__(
        self,
        state: FakeDiscordState,
        *,
        tokens: Collection[str],
        heartbeat_interval_ms: int,
        resume_url: Callable[[], str],
        on_change: Callable[[], None],
    ) -> None:
        self.state = state
        self.tokens = tokens
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self._resume_url = resume_url
        self._on_change = on_change
        self.sessions: dict[str, Session] = {}
        self.connections: list[Connection] = []
        self.received: list[dict[str, Any]] = []  # every frame the client sent, in order
        self.ack_heartbeats = True
        # Intents this server refuses to grant (as Discord does for privileged ones not enabled in the
        # Developer Portal): IDENTIFY asking for any of them is closed with 4014.
        self.refused_intents = 0

    # -- public helpers -------------------------------------------------------------------------

    @property
    def live_sessions(self) -> list[Session]:
        return [s for s in self.sessions.values() if s.alive]

    @property
    def identifies(self) -> list[dict[str, Any]]:
        return [f["d"] for f in self.received if f.get("op") == IDENTIFY]

    async def dispatch(self, event: str, data: dict[str, Any], *, guild_id: int | None = None, intent: int = 0) -> int:
        """Send a dispatch to every live session that asked for it; returns how many got it."""
        count = 0
        for session in self.live_sessions:
            if intent and not session.intents & intent:
                continue
            if guild_id is not None and not session.handles_guild(guild_id):
                continue
            await self._send_dispatch(session, event, data)
            count += 1
        return count

    async def reconnect_all(self) -> None:
        """Op 7: the client must reconnect and RESUME (to resume_gateway_url)."""
        for conn in self._open_connections():
            await conn.send({"op": RECONNECT, "d": None, "s": None, "t": None})

    async def drop_all(self, code: int = 4000) -> None:
        """Close every socket as a network blip would; sessions stay resumable."""
        for conn in self._open_connections():
            await conn.close(code)

    async def invalidate_all(self) -> None:
        """Op 9 (not resumable): the client must IDENTIFY again."""
        for conn in self._open_connections():
            if conn.session is not None:
                conn.session.alive = False
            await conn.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})

    async def close(self) -> None:
        for conn in self._open_connections():
            await conn.close(1001, b"fake discord stopping")

    def _open_connections(self) -> list[Connection]:
        return [c for c in self.connections if not c.ws.closed]

    # -- websocket handling ---------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        query = dict(request.query)
        compressor = zlib.compressobj() if query.get("compress") == "zlib-stream" else None
        conn = Connection(path=request.path, query=query, ws=ws, compressor=compressor)
        self.connections.append(conn)
        self._on_change()
        try:
            await conn.send(
                {"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}, "s": None, "t": None}
            )
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                frame: dict[str, Any] = json.loads(msg.data)
                self.received.append(frame)
                await self._on_frame(conn, frame)
                self._on_change()
        finally:
            conn.close_code = ws.close_code
            session = conn.session
            if session is not None and session.conn is conn:
                session.conn = None
                # A clean close by the client (1000/1001) ends the session; anything else may RESUME.
                if not conn.closed_by_server and ws.close_code in (1000, 1001):
                    session.alive = False
            self._on_change()
        return ws

    async def _on_frame(self, conn: Connection, frame: dict[str, Any]) -> None:
        op = frame.get("op")
        data = frame.get("d")
        if op in (IDENTIFY, RESUME, REQUEST_GUILD_MEMBERS) and not isinstance(data, dict):
            await conn.close(4002, b"Error while decoding payload.")
            return
        if op == HEARTBEAT:
            if self.ack_heartbeats:
                await conn.send({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == IDENTIFY:
            await self._identify(conn, cast(dict[str, Any], data))
        elif op == RESUME:
            await self._resume(conn, cast(dict[str, Any], data))
        elif op == REQUEST_GUILD_MEMBERS:
            await self._members_chunk(conn, cast(dict[str, Any], data))

    async def _identify(self, conn: Connection, data: dict[str, Any]) -> None:
        if data.get("token") not in self.tokens:
            await conn.close(4004, b"Authentication failed.")
            return
        if conn.session is not None:
            await conn.close(4005, b"Already authenticated.")
            return
        if int(data.get("intents", 0)) & self.refused_intents:
            await conn.close(4014, b"Disallowed intent(s).")
            return
        shard = data.get("shard")
        session = Session(
            id=secrets.token_hex(16),
            intents=int(data.get("intents", 0)),
            identify=data,
            shard=(int(shard[0]), int(shard[1])) if shard else None,
            conn=conn,
        )
        self.sessions[session.id] = session
        conn.session = session
        state = self.state
        guilds = [g for g in state.guilds.values() if session.handles_guild(g.id)]
        ready: dict[str, Any] = {
            "v": 10,
            "user": payloads.current_user(state.bot),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self._resume_url(),
            "application": {"id": str(state.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "auth": {},
            "user_settings": {},
            "_trace": ["fake-discord"],
        }
        if session.shard is not None:
            ready["shard"] = list(session.shard)
        await self._send_dispatch(session, "READY", ready)
        for guild in guilds:
            await self._send_dispatch(session, "GUILD_CREATE", payloads.guild_create(state, guild))

    async def _resume(self, conn: Connection, data: dict[str, Any]) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        if data.get("token") not in self.tokens or session is None or not session.alive:
            await conn.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        old = session.conn
        session.conn = conn
        conn.session = session
        conn.resumed = True
        if old is not None and old is not conn and not old.ws.closed:
            await old.close(4000)
        last_seen = int(data.get("seq") or 0)
        for frame in session.sent:
            if frame["s"] > last_seen:
                await conn.send(frame)
        await self._send_dispatch(session, "RESUMED", {"_trace": ["fake-discord"]})

    async def _members_chunk(self, conn: Connection, data: dict[str, Any]) -> None:
        session = conn.session
        if session is None:
            return
        guild_ids = data.get("guild_id")
        for raw_id in guild_ids if isinstance(guild_ids, list) else [guild_ids]:
            guild = self.state.guilds.get(int(str(raw_id)))
            if guild is None:
                continue
            chunk: dict[str, Any] = {
                "guild_id": str(guild.id),
                "members": [payloads.member(self.state, self.state.members[(guild.id, u)]) for u in guild.member_ids],
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [],
            }
            if data.get("nonce") is not None:
                chunk["nonce"] = data["nonce"]
            await self._send_dispatch(session, "GUILD_MEMBERS_CHUNK", chunk)

    async def _send_dispatch(self, session: Session, event: str, data: dict[str, Any]) -> None:
        session.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        # Kept for RESUME replay; a disconnected session still queues what it missed.
        session.sent.append(frame)
        del session.sent[:-REPLAY_LIMIT]
        conn = session.conn
        if conn is not None and not conn.ws.closed:
            with contextlib.suppress(ConnectionResetError):
                await conn.send(frame)
        self._on_change()
