"""The pure edge of what discord.py cannot read: a gateway event dropped with one line, a 2xx answer
counted done."""

from __future__ import annotations

import logging
from typing import Any

import discord
import pytest

from bot.delivery.answers import Unread, readable, record_answers
from bot.process.gateway import UnreadableEvents


def test_a_parser_that_raises_drops_its_event_with_one_line_and_the_same_failure_again_is_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    read: list[Any] = []

    def parse_message_update(data: Any) -> None:
        int(data["member"]["roles"][0])  # as discord.py does, with a role object where an id belongs

    parsers = {"MESSAGE_UPDATE": parse_message_update, "GUILD_CREATE": read.append}
    events = UnreadableEvents()
    events.guard(parsers)
    with caplog.at_level(logging.WARNING, logger="hivecord.gateway"):
        for _ in range(12):
            parsers["MESSAGE_UPDATE"]({"member": {"roles": [{"id": "1"}]}})
        parsers["GUILD_CREATE"]({"id": "1"})
    assert read == [{"id": "1"}]  # the other events are read as before
    assert events.dropped == 12
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines  # the first, then the tenth as a count
    assert "MESSAGE_UPDATE" in lines[0] and "TypeError" in lines[0] and "test_unreadable.py:" in lines[0]
    assert "10 times" in lines[1]
    assert not any(r.exc_info for r in caplog.records)  # no traceback


class Http:
    """The one method of discord.py's HTTP client that record_answers wraps."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer

    async def request(self, route: discord.http.Route, **_kwargs: Any) -> Any:
        return self.answer


async def test_a_2xx_whose_body_discord_py_cannot_read_is_done_and_anything_else_still_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    http = Http({"id": "42", "embeds": "none"})
    record_answers(http)  # type: ignore[arg-type]
    route = discord.http.Route("PATCH", "/channels/{channel_id}/messages/{message_id}", channel_id=1, message_id=42)

    async def edit() -> discord.Message:
        data = await http.request(route)
        raise AttributeError(f"'str' object has no attribute 'get' ({data['embeds']})")

    async def broken() -> discord.Message:
        raise AttributeError("a bug before any request")

    with caplog.at_level(logging.WARNING, logger="hivecord.delivery"):
        assert await readable(edit()) == Unread(42)
        with pytest.raises(AttributeError):
            await readable(broken())  # no 2xx came back in this call: not an unreadable answer
    (line,) = [r.getMessage() for r in caplog.records]
    assert "PATCH /channels/1/messages/42" in line and "counted done" in line
