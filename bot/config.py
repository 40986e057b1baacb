"""Typed settings, read from one TOML file.

Every problem in the file is collected and reported together, one line each naming its key, so a
user fixes the whole file in one pass instead of meeting one error per start. The Discord token is
deliberately not a setting: it comes only from ``$DISCORD_TOKEN``, so config files can be shared.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import math
import os
import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from bot.hive.names import is_community

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG_NAME",
    "LOG_LEVELS",
    "TOKEN_ENV",
    "Config",
    "ConfigError",
    "DatabaseConfig",
    "DeliveryConfig",
    "DiscordConfig",
    "HiveConfig",
    "LoggingConfig",
    "default_config",
    "load_config",
    "parse_config",
    "resolve_config_path",
]

CONFIG_ENV = "HIVECORD_CONFIG"
TOKEN_ENV = "DISCORD_TOKEN"
DEFAULT_CONFIG_NAME = "config.toml"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class HiveConfig:
    nodes: tuple[str, ...]
    communities: tuple[str, ...]
    start_block: int | Literal["head"]
    request_timeout: float
    batch_size: int
    poll_interval: float
    max_head_lag: int


@dataclass(frozen=True)
class DatabaseConfig:
    path: Path


@dataclass(frozen=True)
class DiscordConfig:
    # None means "Discord's own"; set only to point the bot at a proxy or a test server.
    api_base: str | None
    gateway_url: str | None
    # None means slash commands are synced globally.
    dev_guild_id: int | None
    # Longest wait between attempts to reach Discord at start, and between command-sync retries.
    retry_max_seconds: float = 300.0


@dataclass(frozen=True)
class DeliveryConfig:
    max_messages_per_second: float
    requests_per_second: float
    vote_digest_minutes: int
    stats_refresh_minutes: int


@dataclass(frozen=True)
class LoggingConfig:
    level: str


@dataclass(frozen=True)
class Config:
    hive: HiveConfig
    database: DatabaseConfig
    discord: DiscordConfig
    delivery: DeliveryConfig
    logging: LoggingConfig
    # The file the settings came from; None for defaults or a dict parsed in memory.
    source: Path | None = None


class ConfigError(Exception):
    """The config cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: str | Iterable[str]) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))

    def __str__(self) -> str:
        return "\n".join(self.problems)


# The values a missing key takes, written as they would be in the TOML file. They are parsed by
# the same code as the file, so the defaults can never be something the file itself could not say.
_DEFAULTS: dict[str, dict[str, object]] = {
    "hive": {
        "nodes": ["https://api.hive.blog", "https://api.deathwing.me", "https://api.openhive.network"],
        "communities": ["hive-158489"],
        "start_block": "head",
        "request_timeout": 10.0,
        "batch_size": 1000,
        "poll_interval": 1.0,
        "max_head_lag": 20,
    },
    "database": {"path": "hivecord.sqlite3"},
    "discord": {"api_base": "", "gateway_url": "", "dev_guild_id": 0, "retry_max_seconds": 300.0},
    "delivery": {
        "max_messages_per_second": 5.0,
        "requests_per_second": 45.0,
        "vote_digest_minutes": 10,
        "stats_refresh_minutes": 5,
    },
    "logging": {"level": "INFO"},
}

# block_api.get_block_range refuses more than 1000 blocks per call.
_MAX_BATCH_SIZE = 1000
# Three dot-separated base64url parts: the shape of a bot token, redacted wherever a value is shown.
_TOKEN_SHAPE_RE = re.compile(r"[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{20,}")
_TOKEN_HINT = (
    f"the Discord token is not read from the config file; remove this key and set the {TOKEN_ENV} "
    "environment variable instead"
)


def resolve_config_path(arg: str | None) -> Path:
    """``--config`` if given, else ``$HIVECORD_CONFIG``, else ``./config.toml``."""
    if arg:
        return Path(arg).expanduser()
    env = os.environ.get(CONFIG_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return Path(DEFAULT_CONFIG_NAME)


def load_config(path: Path) -> Config:
    """Read and validate ``path``; raises ConfigError listing every problem found."""
    try:
        with path.open("rb") as fp:
            data = tomllib.load(fp)
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file (copy config.example.toml there, or point --config or ${CONFIG_ENV} at your config)"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a config file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: is not UTF-8 text (bad byte at offset {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already says "(at line N, column M)".
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return parse_config(data, source=path.absolute())


def default_config() -> Config:
    """The settings used when a config file sets nothing; the database lands in the cwd."""
    return parse_config({})


def parse_config(data: dict[str, Any], source: Path | None = None) -> Config:
    """Validate a parsed TOML document. Relative paths are taken from ``source``'s folder."""
    problems: list[str] = []
    problems.extend(f"{path}: {_TOKEN_HINT}" for path in _token_keys(data, ""))
    tables = _sections(data, problems)

    hive = _parse_hive(_Section("hive", tables, problems))
    database = _parse_database(_Section("database", tables, problems), source)
    discord = _parse_discord(_Section("discord", tables, problems))
    delivery = _parse_delivery(_Section("delivery", tables, problems))
    logging = _parse_logging(_Section("logging", tables, problems))

    if problems:
        # Report in the file's own order of sections, so the list reads top to bottom.
        order = {name: i for i, name in enumerate(data)}
        problems.sort(key=lambda line: order.get(re.split(r"[.\[:]", line, maxsplit=1)[0], len(order)))
        raise ConfigError(problems)
    return Config(hive, database, discord, delivery, logging, source)


def _parse_hive(s: _Section) -> HiveConfig:
    nodes = s.strings("nodes", non_empty="must list at least one node URL")
    seen_nodes: dict[str, str] = {}
    for path, url in nodes:
        if not _is_url(url, ("http", "https")):
            s.problem(path, f"{_quote(url)} is not an http(s) URL")
        elif (norm := url.rstrip("/")) in seen_nodes:
            s.problem(path, f"{_quote(url)} is listed twice (first at {seen_nodes[norm]})")
        else:
            seen_nodes[norm] = path

    communities = s.strings("communities")
    seen_communities: dict[str, str] = {}
    for path, name in communities:
        if not is_community(name):
            if is_community(name.strip().lower()):
                hint = f"community ids are lowercase with no spaces: {_quote(name.strip().lower())}"
            else:
                hint = 'expected "hive-" followed by 5 to 7 digits'
            s.problem(path, f"{_quote(name)} is not a community id ({hint})")
        elif name in seen_communities:
            s.problem(path, f"{_quote(name)} is listed twice (first at {seen_communities[name]})")
        else:
            seen_communities[name] = path

    return HiveConfig(
        nodes=tuple(url for _, url in nodes),
        communities=tuple(name for _, name in communities),
        start_block=_start_block(s),
        request_timeout=s.positive_number("request_timeout"),
        batch_size=s.integer("batch_size", 1, _MAX_BATCH_SIZE),
        poll_interval=s.positive_number("poll_interval"),
        max_head_lag=s.integer("max_head_lag", 1),
    )


def _start_block(s: _Section) -> int | Literal["head"]:
    value = s.get("start_block")
    if isinstance(value, str) and value.strip().lower() == "head":
        return "head"
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    s.problem(s.key("start_block"), f'expected "head" or a positive block number, found {_describe(value)}')
    return "head"


def _parse_database(s: _Section, source: Path | None) -> DatabaseConfig:
    raw = s.string("path")
    if not raw.strip():
        s.problem(s.key("path"), "must not be empty")
        raw = str(_DEFAULTS["database"]["path"])
    path = Path(raw).expanduser()
    if not path.is_absolute():
        # Relative to the config file, so the bot finds its database whatever the cwd at start.
        path = (source.parent if source is not None else Path.cwd()) / path
    return DatabaseConfig(path=path)


def _parse_discord(s: _Section) -> DiscordConfig:
    api_base = s.string("api_base").strip()
    if api_base and not _is_url(api_base, ("http", "https")):
        s.problem(s.key("api_base"), f'{_quote(api_base)} is not an http(s) URL (leave it "" for Discord\'s own)')
    gateway_url = s.string("gateway_url").strip()
    if gateway_url and not _is_url(gateway_url, ("ws", "wss")):
        s.problem(
            s.key("gateway_url"),
            f'{_quote(gateway_url)} is not a ws:// or wss:// URL (leave it "" for Discord\'s own)',
        )
    # A snowflake is an unsigned 64-bit integer; 0 means "sync commands globally".
    dev_guild_id = s.integer("dev_guild_id", 0, 2**64 - 1, what="0 or a guild id")
    return DiscordConfig(
        api_base=api_base or None,
        gateway_url=gateway_url or None,
        dev_guild_id=dev_guild_id or None,
        retry_max_seconds=s.positive_number("retry_max_seconds"),
    )


def _parse_delivery(s: _Section) -> DeliveryConfig:
    return DeliveryConfig(
        max_messages_per_second=s.positive_number("max_messages_per_second"),
        requests_per_second=s.positive_number("requests_per_second"),
        vote_digest_minutes=s.integer("vote_digest_minutes", 1),
        stats_refresh_minutes=s.integer("stats_refresh_minutes", 1),
    )


def _parse_logging(s: _Section) -> LoggingConfig:
    raw = s.string("level")
    level = raw.strip().upper()
    if level not in LOG_LEVELS:
        s.problem(s.key("level"), f"{_quote(raw)} is not a log level (expected one of {', '.join(LOG_LEVELS)})")
        level = str(_DEFAULTS["logging"]["level"])
    return LoggingConfig(level=level)


class _Section:
    """One [section]'s values, falling back to defaults; type problems go to the shared list."""

    def __init__(self, name: str, tables: dict[str, dict[str, object]], problems: list[str]) -> None:
        self.name = name
        self.table = tables.get(name, {})
        self.problems = problems
        known = _DEFAULTS[name]
        for key in self.table:
            if key in known or _is_token_key(key):  # token keys were reported already
                continue
            self.problem(self.key(key), "unknown key" + _suggest(key, known, f"{name}."))

    def key(self, key: str) -> str:
        return f"{self.name}.{key}"

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def get(self, key: str) -> object:
        return self.table.get(key, _DEFAULTS[self.name][key])

    def default(self, key: str) -> Any:
        return _DEFAULTS[self.name][key]

    def wrong_type(self, key: str, expected: str, value: object) -> Any:
        self.problem(self.key(key), f"expected {expected}, found {_describe(value)}")
        return self.default(key)

    def string(self, key: str) -> str:
        value = self.get(key)
        if isinstance(value, str):
            return value
        return str(self.wrong_type(key, "a string", value))

    def strings(self, key: str, non_empty: str | None = None) -> list[tuple[str, str]]:
        """The list's strings, each with its own path (``hive.nodes[2]``) for precise messages."""
        value = self.get(key)
        if not isinstance(value, list):
            self.wrong_type(key, "an array of strings", value)
            return []
        if not value and non_empty:
            self.problem(self.key(key), non_empty)
        out: list[tuple[str, str]] = []
        for i, item in enumerate(value):
            path = f"{self.key(key)}[{i}]"
            if isinstance(item, str):
                out.append((path, item))
            else:
                self.problem(path, f"expected a string, found {_describe(item)}")
        return out

    def integer(self, key: str, minimum: int, maximum: int | None = None, what: str = "") -> int:
        value = self.get(key)
        # bool is an int subclass in Python, but `batch_size = true` is a mistake, not a 1.
        if not isinstance(value, int) or isinstance(value, bool):
            return int(self.wrong_type(key, "an integer", value))
        if value < minimum or (maximum is not None and value > maximum):
            if what:
                bounds = what
            elif maximum is None:
                bounds = f"at least {minimum}"
            else:
                bounds = f"between {minimum} and {maximum}"
            self.problem(self.key(key), f"must be {bounds}, found {value}")
            return int(self.default(key))
        return value

    def positive_number(self, key: str) -> float:
        value = self.get(key)
        if not isinstance(value, int | float) or isinstance(value, bool):
            return float(self.wrong_type(key, "a number", value))
        if not math.isfinite(value) or value <= 0:
            self.problem(self.key(key), f"must be a number greater than 0, found {_show(value)}")
            return float(self.default(key))
        return float(value)


def _sections(data: dict[str, Any], problems: list[str]) -> dict[str, dict[str, object]]:
    tables: dict[str, dict[str, object]] = {}
    for name, value in data.items():
        if name in _DEFAULTS:
            if isinstance(value, dict):
                tables[name] = value
            else:
                problems.append(f"{name}: expected a table ([{name}]), found {_describe(value)}")
        elif not _is_token_key(name):
            problems.append(f"{name}: unknown section" + _suggest(name, _DEFAULTS, ""))
    return tables


def _suggest(key: str, known: Iterable[str], prefix: str) -> str:
    match = difflib.get_close_matches(key.lower(), list(known), n=1, cutoff=0.6)
    return f" (did you mean {prefix}{match[0]}?)" if match else ""


def _is_token_key(key: str) -> bool:
    # Near misses such as "tokn" count too: the answer for any of them is $DISCORD_TOKEN.
    lowered = key.lower()
    return "token" in lowered or bool(difflib.get_close_matches(lowered, ["token"], n=1, cutoff=0.75))


def _token_keys(value: object, prefix: str) -> Iterator[str]:
    """Dotted paths of every token-like key, at any depth, so none slips through as "unknown"."""
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if _is_token_key(str(key)):
                yield path
            else:
                yield from _token_keys(item, path)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _token_keys(item, f"{prefix}[{i}]")


def _is_url(value: str, schemes: tuple[str, ...]) -> bool:
    if not value or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return False
    return parts.scheme.lower() in schemes and bool(parts.hostname)


def _type_name(value: object) -> str:
    # Named as TOML names them, since that is the language the user wrote in.
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    return type(value).__name__


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return repr(value)


def _describe(value: object) -> str:
    if isinstance(value, bool | int | float | str):
        return f"{_type_name(value)} {_show(value)}"
    return _type_name(value)


def _quote(text: str, limit: int = 60) -> str:
    # A token pasted into the wrong key must not end up in logs via an error message.
    text = _TOKEN_SHAPE_RE.sub("<redacted token>", text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return json.dumps(text, ensure_ascii=False)
