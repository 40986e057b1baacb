"""Runs the real `hivecord run` in a child process against the loopback Hive node and fake Discord."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
from pathlib import Path
from typing import Any

from tests.fakes.discord import FakeDiscord
from tests.helpers import ANIME_REALM, cli_command, cli_env, write_config

TOKEN = "fake-bot-token"

ANIME_REALM_INFO = {
    "name": ANIME_REALM,
    "title": "Anime Realm",
    "about": "Anime and manga reviews",
    "team": [[ANIME_REALM, "owner", ""], ["animerealm.cur", "mod", ""]],
}


def bot_config(folder: Path, hive_url: str, fake: FakeDiscord, *, start_block: int, **delivery: Any) -> Path:
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
    return write_config(folder, [hive_url], start_block=start_block, extra=extra)


class BotProcess:
    """One `hivecord run`; the fake Discord keeps serving while the test awaits it."""

    def __init__(self, config: Path, fake: FakeDiscord, token: str = TOKEN) -> None:
        self.config = config
        self.fake = fake
        self.token = token
        self.proc: asyncio.subprocess.Process | None = None
        self.stderr = b""

    async def start(self, *, wait_ready: bool = True) -> None:
        identified = len(self.fake.gateway.identifies)
        self.proc = await asyncio.create_subprocess_exec(
            *cli_command("run", "--config", str(self.config)),
            env=cli_env(DISCORD_TOKEN=self.token),
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
        return code

    async def kill(self) -> None:
        await self.stop(signal.SIGKILL)

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
