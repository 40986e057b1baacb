"""The operators' guide says what the code does: its commands parse, its permissions integer is
Discord's, and its systemd unit and compose file keep the promises the guide makes."""

from __future__ import annotations

import configparser
import json
import re
import shlex
from pathlib import Path

import discord
import pytest

from bot.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
GUIDE = DOCS / "operators.md"


def fenced_lines(text: str) -> list[str]:
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.S | re.M)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def hivecord_commands(lines: list[str]) -> list[list[str]]:
    """Each `hivecord ...` command (by any path) in these lines, as its arguments."""
    out = []
    for line in lines:
        if Path(line.split()[0]).name == "hivecord":
            out.append(shlex.split(line)[1:])
    return out


def test_readme_links_the_guide() -> None:
    assert "(docs/operators.md)" in (REPO / "README.md").read_text(encoding="utf-8")
    assert GUIDE.is_file()


def test_every_documented_command_parses() -> None:
    commands = hivecord_commands(fenced_lines(GUIDE.read_text(encoding="utf-8")))
    assert {c[0] for c in commands} >= {"check-config", "healthcheck"}
    for args in commands:
        build_parser().parse_args(args)  # exits (SystemExit) on an unknown command or option


def test_invite_permissions_are_view_send_and_embed() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    expected = discord.Permissions(view_channel=True, send_messages=True, embed_links=True).value
    assert expected == 19456
    assert f"permissions={expected}" in text
    assert "scope=bot+applications.commands" in text
    for name, value in (("View Channels", 1024), ("Send Messages", 2048), ("Embed Links", 16384)):
        assert re.search(rf"\| {name} \| 1 << \d+ \| {value} \|", text), name
    assert expected == 1024 + 2048 + 16384


def test_systemd_unit() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DOCS / "hivecord.service", encoding="utf-8")
    service = unit["Service"]
    assert service["Restart"] == "on-failure"
    assert service["RestartPreventExitStatus"] == "2"  # a rejected token or a bad config
    assert service["User"] == "hivecord" and service["EnvironmentFile"].startswith("/etc/")
    words = shlex.split(service["ExecStart"])
    assert Path(words[0]).name == "hivecord"
    assert build_parser().parse_args(words[1:]).command == "run"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    assert "hivecord.service" in GUIDE.read_text(encoding="utf-8")


def test_compose_file() -> None:
    # Read as text (no YAML parser among the test dependencies); the lines the guide promises.
    text = (DOCS / "compose.yaml").read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines()]
    assert "restart: unless-stopped" in lines
    (volume,) = [line.removeprefix("- ") for line in lines if line.endswith(":/data")]
    name = volume.split(":")[0]
    assert text.rstrip().endswith(f"volumes:\n  {name}:"), "a named volume at /data, declared at the end"
    (test,) = [json.loads(line.removeprefix("test:")) for line in lines if line.startswith("test:")]
    assert test[:2] == ["CMD", "hivecord"]
    assert build_parser().parse_args(test[2:]).command == "healthcheck"
    assert "env_file: hivecord.env" in lines
    assert not any(line.startswith("DISCORD_TOKEN:") for line in lines), "the token belongs in the env file"


@pytest.mark.parametrize("name", ["hivecord.service", "compose.yaml"])
def test_guide_links_its_files(name: str) -> None:
    assert f"]({name})" in GUIDE.read_text(encoding="utf-8")
