"""The PostgreSQL operators' guide and its compose file keep their promises: a postgres:16 service with a
volume and a health check, two bot processes on different shards, secrets only from the environment."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from bot.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "deploy" / "docker-compose.yml"
GUIDE = REPO / "docs" / "postgresql-operations.md"


def service(text: str, name: str) -> str:
    """The lines of one top-level service, as text (no YAML parser among the test dependencies)."""
    found = re.search(rf"^  {name}:.*?\n(.*?)(?=^  \S|^\S|\Z)", text, flags=re.S | re.M)
    assert found, f"no service {name}"
    return found.group(1)


def test_compose_has_postgres_with_a_volume_and_a_health_check() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    postgres = service(text, "postgres")
    assert "image: postgres:16" in postgres
    (volume,) = re.findall(r"- (\S+):/var/lib/postgresql/data", postgres)
    assert text.rstrip().endswith(f"volumes:\n  {volume}:")
    assert "pg_isready" in postgres
    assert "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?" in postgres
    # Published on a chosen address only, loopback unless the operator says otherwise.
    assert '"${PG_LISTEN:-127.0.0.1}:5432:5432"' in postgres


def test_compose_runs_two_bots_on_different_shards_with_secrets_from_the_environment() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    first, second = service(text, "hivecord-a"), service(text, "hivecord-b")
    assert "build: .." in first and "<<: *hivecord" in second
    shards = [re.search(r'command: \["run", "--shards", "([^"]+)"\]', s) for s in (first, second)]
    assert all(shards) and shards[0].group(1) != shards[1].group(1)  # type: ignore[union-attr]
    assert "DISCORD_TOKEN: ${DISCORD_TOKEN:?" in first
    assert "HIVECORD_DATABASE__URL: ${HIVECORD_DATABASE__URL:-postgresql://hivecord@postgres:5432/hivecord}" in first
    assert "PGPASSWORD: ${POSTGRES_PASSWORD:?" in first
    assert "condition: service_healthy" in first
    # No secret written into the file itself.
    assert not re.search(r"(TOKEN|PASSWORD): [^$\s]", text)


def test_the_guides_commands_parse_and_link() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.S | re.M)
    commands = [shlex.split(line)[1:] for b in blocks for line in b.splitlines() if line.startswith("hivecord ")]
    assert commands, "the guide shows hivecord's own commands"
    for args in commands:
        build_parser().parse_args(args)
    operators = (REPO / "docs" / "operators.md").read_text(encoding="utf-8")
    assert "](postgresql-operations.md)" in operators
    assert "deploy/docker-compose.yml" in text
