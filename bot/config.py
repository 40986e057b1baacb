"""Typed settings: declared once each, read from an optional TOML file and the environment.

Each setting is one ``setting(type, default, doc, check)`` on its section's dataclass below;
the defaults, the file's parsing, the ``HIVECORD_SECTION__KEY`` environment overrides and every
problem ``check-config`` lists follow from those declarations, and a test proves
config.example.toml says the same. Every problem is collected and reported together, one line
each naming its key (or variable), so a user fixes the whole config in one pass. The Discord
token is deliberately not a setting: it comes only from ``$DISCORD_TOKEN``, so configs can be shared.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bot.config_schema import (
    ENV_DELIMITER,
    ENV_PREFIX,
    INTEGER,
    NUMBER,
    STRING,
    STRINGS,
    Field,
    Setting,
    WrongType,
    at_least,
    between,
    community_ids,
    describe,
    file_path,
    is_token_key,
    one_of,
    optional_url,
    positive,
    setting,
    settings_of,
    show,
    suggest,
    token_keys,
    urls,
    word_or_integer,
)

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG_NAME",
    "DISCORD_GLOBAL_RATE",
    "LOG_LEVELS",
    "SECTIONS",
    "SETTINGS",
    "TOKEN_ENV",
    "Config",
    "ConfigError",
    "DatabaseConfig",
    "DeliveryConfig",
    "DiscordConfig",
    "HiveConfig",
    "LoggingConfig",
    "default_config",
    "find_config",
    "load_config",
    "parse_config",
]

CONFIG_ENV = "HIVECORD_CONFIG"
TOKEN_ENV = "DISCORD_TOKEN"
DEFAULT_CONFIG_NAME = "config.toml"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# Discord allows a bot 50 requests a second in all (interaction answers aside); more gets 429s.
DISCORD_GLOBAL_RATE = 50
# block_api.get_block_range refuses more than 1000 blocks per call.
_MAX_BATCH_SIZE = 1000


def _start_block(value: str | int, field: Field) -> int | Literal["head"]:
    if isinstance(value, str) and value.strip().lower() == "head":
        return "head"
    if isinstance(value, int) and value >= 1:
        return value
    field.problem(f'expected "head" or a positive block number, found {describe(value)}')
    return "head"


def _guild_id(value: int, field: Field) -> int | None:
    # A snowflake is an unsigned 64-bit integer; 0 means "sync commands globally".
    return between(0, 2**64 - 1, "0 or a guild id")(value, field) or None


@dataclass(frozen=True)
class HiveConfig:
    nodes: tuple[str, ...] = setting(
        STRINGS,
        ["https://api.hive.blog", "https://api.deathwing.me", "https://api.openhive.network"],
        """Hive API nodes (JSON-RPC over http or https), tried in this order; on a failure or a node
        that lags behind, the next one is used. At least one.""",
        urls(("http", "https"), at_least_one="must list at least one node URL"),
    )
    communities: tuple[str, ...] = setting(
        STRINGS,
        ["hive-158489"],
        """Communities to follow even before any Discord server has a feed for them: their posts are
        indexed for /search and /subscribe from the start. Ids are "hive-" and 5 to 7 digits,
        lowercase, each listed once. hive-158489 is Anime Realm. May be empty ([]).""",
        community_ids,
    )
    start_block: int | Literal["head"] = setting(
        word_or_integer('"head" or a positive block number'),
        "head",
        """Where to start on the very first run, when the database has no cursor yet: "head" (the
        newest block) or a block number to catch up from. Ignored once the database has a cursor.""",
        _start_block,
    )
    request_timeout: float = setting(
        NUMBER, 10.0, "Seconds to wait for one node request before trying the next node. Greater than 0.", positive()
    )
    batch_size: int = setting(
        INTEGER,
        1000,
        "Blocks fetched per block_api.get_block_range call while catching up. 1 to 1000.",
        between(1, _MAX_BATCH_SIZE),
    )
    poll_interval: float = setting(
        NUMBER, 1.0, "Seconds between polls for a new head block once caught up. Greater than 0.", positive()
    )
    max_head_lag: int = setting(
        INTEGER,
        20,
        """A node whose head block trails the best head seen by more than this many blocks is skipped
        as stale. At least 1.""",
        at_least(1),
    )


@dataclass(frozen=True)
class DatabaseConfig:
    # setting() returns a dataclasses.field (no default), which RUF009 cannot see.
    path: Path = setting(  # noqa: RUF009
        STRING,
        "hivecord.sqlite3",
        """The SQLite file holding all state. A relative path is relative to this config file's folder
        (to the working directory when there is no config file, or when it comes from the
        environment).""",
        file_path,
    )


@dataclass(frozen=True)
class DiscordConfig:
    # None means "Discord's own"; set only to point the bot at a proxy or a test server.
    api_base: str | None = setting(
        STRING,
        "",
        """Base URL of Discord's REST API. Empty means Discord's own; set an http(s) URL only to use a
        REST proxy or a test server, e.g. "http://127.0.0.1:8080/api/v10".""",
        optional_url(("http", "https")),
    )
    gateway_url: str | None = setting(
        STRING,
        "",
        "Gateway (websocket) URL. Empty means Discord's own; otherwise a ws:// or wss:// URL.",
        optional_url(("ws", "wss")),
    )
    # None means slash commands are synced globally.
    dev_guild_id: int | None = setting(
        INTEGER,
        0,
        """0 syncs slash commands globally (they can take a while to appear). A guild id (snowflake)
        syncs them to that one server instantly, which is handy while developing.""",
        _guild_id,
    )
    retry_max_seconds: float = setting(
        NUMBER,
        300.0,
        """The longest wait, in seconds, between attempts to reach Discord when it cannot be reached at
        start, and between retries of a refused slash-command sync (waits double up to this). Greater than 0.""",
        positive(),
    )


@dataclass(frozen=True)
class DeliveryConfig:
    max_messages_per_second: float = setting(
        NUMBER,
        5.0,
        """The most messages sent to Discord per second; a backlog after downtime drains at this pace.
        Greater than 0.""",
        positive(),
    )
    requests_per_second: float = setting(
        NUMBER,
        45.0,
        """The most requests per second hivecord makes to Discord in all: channel posts, edits and series
        alerts by DM (opening a DM costs one request, each alert one more). Discord allows 50 a second
        for the whole bot, so more than 50 is refused while discord.api_base is Discord's own; the rest
        is headroom. Greater than 0.""",
        positive(),
    )
    vote_digest_minutes: int = setting(
        INTEGER,
        10,
        """In "all" vote mode, votes on one post are gathered into at most one message per this many
        minutes. At least 1.""",
        at_least(1),
    )
    stats_refresh_minutes: int = setting(
        INTEGER,
        5,
        """How often, at most, a mirrored post's embed is edited to refresh its vote count and payout, in
        minutes. At least 1.""",
        at_least(1),
    )
    retention_days: int = setting(
        INTEGER,
        14,
        """Finished delivery jobs and delivered outbox rows older than this many days are pruned, so the
        database does not grow without bound. At least 1.""",
        at_least(1),
    )


@dataclass(frozen=True)
class LoggingConfig:
    level: str = setting(
        STRING,
        "INFO",
        "DEBUG, INFO, WARNING or ERROR (any case). Logs go to standard error.",
        one_of(LOG_LEVELS, "a log level"),
    )


SECTIONS: dict[str, type[Any]] = {
    "hive": HiveConfig,
    "database": DatabaseConfig,
    "discord": DiscordConfig,
    "delivery": DeliveryConfig,
    "logging": LoggingConfig,
}
SETTINGS: tuple[Setting, ...] = tuple(s for name, cls in SECTIONS.items() for s in settings_of(name, cls))
_BY_ENV = {s.env: s for s in SETTINGS}


@dataclass(frozen=True)
class Config:
    hive: HiveConfig
    database: DatabaseConfig
    discord: DiscordConfig
    delivery: DeliveryConfig
    logging: LoggingConfig
    # The file the settings came from; None for built-in defaults or a dict parsed in memory.
    source: Path | None = None
    # The environment variables that set a value, in declaration order.
    from_env: tuple[str, ...] = ()


class ConfigError(Exception):
    """The config cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: str | Iterable[str]) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))

    def __str__(self) -> str:
        return "\n".join(self.problems)


_TOKEN_HINT = (
    f"the Discord token is not read from the config file; remove this key and set the {TOKEN_ENV} "
    "environment variable instead"
)
_TOKEN_ENV_HINT = f"the Discord token is read only from {TOKEN_ENV}; unset this variable and set {TOKEN_ENV} instead"


def find_config(arg: str | None, environ: Mapping[str, str] | None = None) -> Path | None:
    """``--config`` if given, else ``$HIVECORD_CONFIG``, else ``./config.toml`` if it exists, else None.

    None means no file: the built-in defaults and the environment, so a first start on an empty
    volume works. A file named by --config or $HIVECORD_CONFIG must exist.
    """
    if arg:
        return Path(arg).expanduser()
    named = (os.environ if environ is None else environ).get(CONFIG_ENV, "").strip()
    if named:
        return Path(named).expanduser()
    local = Path(DEFAULT_CONFIG_NAME)
    return local if local.exists() else None


def load_config(path: Path | None, environ: Mapping[str, str] | None = None) -> Config:
    """Reads ``path`` (None: no file) with ``HIVECORD_*`` overrides from ``environ`` (default: the
    process environment); raises ConfigError listing every problem found."""
    env = os.environ if environ is None else environ
    if path is None:
        return parse_config({}, env=env)
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
    return parse_config(data, source=path.absolute(), env=env)


def default_config() -> Config:
    """The settings used when nothing is set; the database lands in the cwd."""
    return parse_config({})


def parse_config(data: dict[str, Any], source: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Validates a parsed TOML document, then applies ``HIVECORD_*`` variables from ``env`` (which win).

    Relative paths are taken from ``source``'s folder (the cwd without one, and for variables).
    """
    problems: list[str] = []
    problems.extend(f"{p}: {_TOKEN_HINT}" for p in token_keys(data, ""))
    tables = _sections(data, problems)
    overrides = _env_overrides(env or {}, problems)
    base = source.parent if source is not None else Path.cwd()

    values: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    fields: dict[str, Field] = {}
    for name, table in tables.items():
        for key in table:
            if key not in {s.key for s in SETTINGS if s.section == name} and not is_token_key(key):
                problems.append(f"{name}.{key}: unknown key" + suggest(key, _keys_of(name), f"{name}."))
    for s in SETTINGS:
        # A relative path from a variable is taken from the cwd: variables are not in the file.
        env_name = s.env if s.env in overrides else ""
        field = Field(s.path, problems, Path.cwd() if env_name else base, env=env_name)
        try:
            if env_name:
                value = s.spec.kind.from_env(overrides[s.env])
            else:
                value = s.spec.kind.from_toml(tables.get(s.section, {}).get(s.key, s.spec.default))
        except WrongType as exc:
            field.problem(str(exc))
            continue
        values[s.section][s.key] = s.spec.check(value, field)
        fields[s.path] = field
    for rule in _RULES:
        rule(values, fields)

    if problems:
        # Report in the file's own order of sections, so the list reads top to bottom.
        order = {name: i for i, name in enumerate(data)}
        problems.sort(key=lambda line: order.get(re.split(r"[.\[:]", line, maxsplit=1)[0], len(order)))
        raise ConfigError(problems)
    sections = {name: cls(**values[name]) for name, cls in SECTIONS.items()}
    used = tuple(s.env for s in SETTINGS if s.env in overrides)
    return Config(**sections, source=source, from_env=used)


def _discord_rate(values: dict[str, dict[str, Any]], fields: dict[str, Field]) -> None:
    """Above 50 requests a second Discord answers 429s, and 10,000 of those in 10 minutes get the IP
    banned. Another server (a proxy, a test server) named in discord.api_base has its own limits."""
    rate = values["delivery"].get("requests_per_second")
    if rate is None or "api_base" not in values["discord"] or values["discord"]["api_base"] is not None:
        return
    if rate > DISCORD_GLOBAL_RATE:
        fields["delivery.requests_per_second"].problem(
            f"must be at most {DISCORD_GLOBAL_RATE} (Discord's global limit for a bot is {DISCORD_GLOBAL_RATE} "
            f"requests a second), found {show(rate)}"
        )


# Checks that need more than one setting: each gets every parsed value and the field to blame.
_RULES: tuple[Callable[[dict[str, dict[str, Any]], dict[str, Field]], None], ...] = (_discord_rate,)


def _keys_of(section: str) -> list[str]:
    return [s.key for s in SETTINGS if s.section == section]


def _env_overrides(env: Mapping[str, str], problems: list[str]) -> dict[str, str]:
    """The ``HIVECORD_SECTION__KEY`` variables that name a setting; any other HIVECORD_ name is a problem."""
    found: dict[str, str] = {}
    for name, text in env.items():
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper == CONFIG_ENV:
            continue
        if upper in _BY_ENV:
            found[upper] = text
        elif is_token_key(upper.removeprefix(ENV_PREFIX).rpartition(ENV_DELIMITER)[2]):
            problems.append(f"{name}: {_TOKEN_ENV_HINT}")
        else:
            problems.append(f"{name}: unknown setting" + suggest(upper, _BY_ENV, ""))
    return found


def _sections(data: dict[str, Any], problems: list[str]) -> dict[str, dict[str, object]]:
    tables: dict[str, dict[str, object]] = {}
    for name, value in data.items():
        if name in SECTIONS:
            if isinstance(value, dict):
                tables[name] = value
            else:
                problems.append(f"{name}: expected a table ([{name}]), found {describe(value)}")
        elif not is_token_key(name):
            problems.append(f"{name}: unknown section" + suggest(name, SECTIONS, ""))
    return tables
