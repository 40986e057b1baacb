"""Runs the real `hivecord run` in a child process against the loopback Hive node and fake Discord."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.log import RecordedRequest
from tests.helpers import ANIME_REALM, cli_command, cli_env, write_config

TOKEN = "fake-bot-token"

ANIME_REALM_INFO = {
    "name": ANIME_REALM,
    "title": "Anime Realm",
    "about": "Anime and manga reviews",
    "team": [[ANIME_REALM, "owner", ""], ["animerealm.cur", "mod", ""]],
}
# bridge.list_community_roles for the anime realm: its team, and nobody muted yet.
ANIME_REALM_ROLES = [[ANIME_REALM, "owner", ""], ["animerealm.cur", "mod", "Curator"]]


def bot_config(
    folder: Path,
    hive_url: str,
    fake: FakeDiscord,
    *,
    start_block: int,
    hive: Mapping[str, Any] | None = None,
    db: str = "hivecord.sqlite3",
    **delivery: Any,
) -> Path:
    """A config for `hivecord run` against the fake Discord: `delivery` settings, and `hive` ones beside
    the node and start block; `db` as tests.helpers.write_config takes it."""
    settings = {"max_messages_per_second": 50.0, "vote_digest_minutes": 10, "stats_refresh_minutes": 5}
    settings.update(delivery)
    extra = "\n".join(
        [
            "[discord]",
            f"api_base = {json.dumps(fake.url + '/api/v10')}",
            f"gateway_url = {json.dumps(fake.gateway_url)}",
            "",
            "[delivery]",
            *(f"{k} = {json.dumps(v)}" for k, v in settings.items()),
        ]
    )
    return write_config(folder, [hive_url], start_block=start_block, db=db, extra=extra, **(hive or {}))


class BotProcess:
    """One `hivecord run`; the fake Discord keeps serving while the test awaits it."""

    def __init__(
        self, config: Path, fake: FakeDiscord, token: str = TOKEN, *, env: Mapping[str, str] | None = None
    ) -> None:
        self.config = config
        self.env = dict(env or {})
        self.fake = fake
        self.token = token
        self.proc: asyncio.subprocess.Process | None = None
        self.stderr = b""

    async def start(self, *, wait_ready: bool = True) -> None:
        identified = len(self.fake.gateway.identifies)
        self.proc = await asyncio.create_subprocess_exec(
            *cli_command("run", "--config", str(self.config)),
            env=cli_env(DISCORD_TOKEN=self.token, **self.env),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read_stderr())
        if wait_ready:
            await self.fake.wait_for(lambda: len(self.fake.gateway.identifies) > identified, timeout=30)

    async def _read_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        while chunk := await self.proc.stderr.read(65536):
            self.stderr += chunk

    async def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        code = await asyncio.wait_for(self.proc.wait(), 30)
        await self._reader
        # Captured by pytest and shown only when the test fails: what the bot said is the first clue.
        print(f"--- hivecord run (pid {self.proc.pid}) exited {code}; its log:\n{self.log}")
        return code

    async def kill(self) -> None:
        await self.stop(signal.SIGKILL)

    async def kill_at(self, condition: Callable[[], bool], *, unless: Callable[[], bool], ceiling: float = 120) -> bool:
        """SIGKILLs the bot the moment the fake records the request that makes `condition()` true.

        Checked as each request is recorded, before its answer travels back: the bot dies having done
        something it never heard was done. Returns False, with the bot still running, once `unless()`
        holds instead (e.g. the work is all done). `ceiling` (seconds) fails the test when neither
        comes; it is never a kill trigger.
        """
        assert self.proc is not None
        proc, fake = self.proc, self.fake
        fired = False
        plain_notify = fake.notify

        def check() -> None:
            nonlocal fired
            if not fired and proc.returncode is None and condition():
                proc.send_signal(signal.SIGKILL)
                fired = True

        def notify() -> None:
            check()
            plain_notify()

        fake.notify = notify  # type: ignore[method-assign]  # called right after each record
        try:
            check()
            await fake.wait_for(lambda: fired or unless() or proc.returncode is not None, ceiling)
        finally:
            del fake.notify  # back to the class's own
        if fired:
            await self.kill()
            return True
        assert proc.returncode is None, f"the bot exited by itself ({proc.returncode}):\n{self.log}"
        return False

    @property
    def log(self) -> str:
        return self.stderr.decode(errors="replace")


def comment_block(author: str, permlink: str, title: str, body: str, json_metadata: str) -> dict[str, Any]:
    """A block holding one new top-level post in Anime Realm (the node fills in the rest)."""
    op = {
        "parent_author": "",
        "parent_permlink": ANIME_REALM,
        "author": author,
        "permlink": permlink,
        "title": title,
        "body": body,
        "json_metadata": json_metadata,
    }
    return {"transactions": [{"operations": [{"type": "comment_operation", "value": op}]}]}


def db_rows(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def delivery_settled(db: Path, through_block: int) -> bool:
    """The bot followed the chain through `through_block`, planned every outbox row for every feed and
    for the subscriptions, and has no job pending: nothing more is owed, so nothing more will be sent.

    Tests wait on this instead of sleeping "long enough" before asserting that nothing else arrives.
    Open vote windows (votes "all") are not counted: they close on chain time, later.
    """
    try:
        with sqlite3.connect(db) as conn:
            cursor = conn.execute("SELECT value FROM meta WHERE key = 'cursor'").fetchone()
            alerts = conn.execute("SELECT value FROM meta WHERE key = 'alerts_cursor'").fetchone()
            (last,) = conn.execute("SELECT coalesce(max(id), 0) FROM outbox").fetchone()
            (behind,) = conn.execute("SELECT count(*) FROM feeds WHERE outbox_cursor < ?", (last,)).fetchone()
            (pending,) = conn.execute("SELECT count(*) FROM jobs WHERE state = 'pending'").fetchone()
    except sqlite3.OperationalError:  # no schema yet, or busy: not settled
        return False
    return (
        cursor is not None
        and int(cursor[0]) >= through_block
        and alerts is not None
        and int(alerts[0]) >= last
        and behind == 0
        and pending == 0
    )


class RequestCounter:
    """Counts what the fake made for successful requests matching `method`, `route` and `where`.

    A resend answered with what was already made (a message with the same nonce) counts once, so the
    count is progress, not traffic. Calling it reads only the requests recorded since the last call:
    a wait_for predicate built on it stays cheap however long the run, and a kill follows the
    fake's record closely.
    """

    def __init__(
        self,
        fake: FakeDiscord,
        method: str,
        route: str,
        where: Callable[[RecordedRequest], bool] = lambda request: True,
    ) -> None:
        self.fake, self.method, self.route, self.where = fake, method, route, where
        self._read = 0
        self._count = 0
        self._made: set[object] = set()
        self.paths: set[str] = set()  # the distinct paths counted, e.g. one per channel sent to

    def __call__(self) -> int:
        requests = self.fake.requests
        for request in requests[self._read :]:
            if (
                request.method == self.method
                and self.route in (request.route, request.path)
                and 200 <= request.status < 300
                and self.where(request)
            ):
                made = request.answer.get("id") if isinstance(request.answer, dict) else None
                if made is None or made not in self._made:
                    self._made.add(made)
                    self._count += 1
                    self.paths.add(request.path)
        self._read = len(requests)
        return self._count
