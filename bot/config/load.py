"""Reading the settings (see bot.config.settings) from an optional TOML file and the environment.

The defaults, the file's parsing, the ``HIVECORD_SECTION__KEY`` environment overrides and every
problem ``check-config`` lists follow from the declarations in bot.config.settings. Every problem is
collected and reported together, one line each naming its key (or variable), so a user fixes the
whole config in one pass.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from bot.config.schema import (
    ENV_DELIMITER,
    ENV_PREFIX,
    Field,
    WrongType,
    describe,
    is_token_key,
    show,
    suggest,
    token_keys,
)
from bot.config.secrets import (
    ENV_VALUE_HINT,
    env_name_problem,
    is_key_name,
    is_posting_key_variable,
    secrets_in,
    without_echoes,
)
from bot.config.settings import (
    DISCORD_GLOBAL_RATE,
    LOG_LEVELS,
    SECTIONS,
    SETTINGS,
    Config,
    CurationConfig,
    DatabaseConfig,
    DeliveryConfig,
    DiscordConfig,
    HiveConfig,
    LoggingConfig,
)
from bot.text.keys import looks_like_private_key

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
    "CurationConfig",
    "DatabaseConfig",
    "DeliveryConfig",
    "DiscordConfig",
    "HiveConfig",
    "LoggingConfig",
    "find_config",
    "load_config",
    "parse_config",
]

CONFIG_ENV = "HIVECORD_CONFIG"
TOKEN_ENV = "DISCORD_TOKEN"
DEFAULT_CONFIG_NAME = "config.toml"
_BY_ENV = {s.env: s for s in SETTINGS}


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


def parse_config(data: dict[str, Any], source: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Validates a parsed TOML document, then applies ``HIVECORD_*`` variables from ``env`` (which win).

    Relative paths are taken from ``source``'s folder (the cwd without one, and for variables).
    """
    problems: list[str] = []
    problems.extend(f"{p}: {_TOKEN_HINT}" for p in token_keys(data, ""))
    secrets = list(secrets_in(data, ""))
    problems.extend(f"{path}: {hint}" for path, hint in secrets)
    tables = _sections(data, problems)
    overrides = _env_overrides(env or {}, problems)
    base = source.parent if source is not None else Path.cwd()

    values: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    fields: dict[str, Field] = {}
    for name, table in tables.items():
        for key in table:
            known = key in {s.key for s in SETTINGS if s.section == name}
            if not known and not is_token_key(key) and not is_key_name(key):
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
    # The settings the file or the environment set, rather than left at their defaults.
    given = {s.path for s in SETTINGS if s.env in overrides or s.key in tables.get(s.section, {})}
    for rule in _RULES:
        rule(values, fields, given)

    if problems:
        problems = without_echoes(problems, secrets)
        # Report in the file's own order of sections, so the list reads top to bottom.
        order = {name: i for i, name in enumerate(data)}
        problems.sort(key=lambda line: order.get(re.split(r"[.\[:]", line, maxsplit=1)[0], len(order)))
        raise ConfigError(problems)
    sections = {name: cls(**values[name]) for name, cls in SECTIONS.items()}
    used = tuple(s.env for s in SETTINGS if s.env in overrides)
    return Config(**sections, source=source, from_env=used)


def _discord_rate(values: dict[str, dict[str, Any]], fields: dict[str, Field], given: set[str]) -> None:
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


def _one_database(values: dict[str, dict[str, Any]], fields: dict[str, Field], given: set[str]) -> None:
    """database.path and database.url both name the database: with both, which one is meant is a guess."""
    if "database.path" in given and values["database"].get("url") is not None:
        fields["database.url"].problem(
            "set either database.path or database.url, not both: remove database.path (or its variable) to use"
            " this URL (sqlite:///FILE names a SQLite file as a URL)"
        )


# Checks that need more than one setting: each gets every parsed value, the field to blame, and the
# settings given (not left at their default).
_RULES: tuple[Callable[[dict[str, dict[str, Any]], dict[str, Field], set[str]], None], ...] = (
    _discord_rate,
    _one_database,
)


def _keys_of(section: str) -> list[str]:
    return [s.key for s in SETTINGS if s.section == section]


def _env_overrides(env: Mapping[str, str], problems: list[str]) -> dict[str, str]:
    """The ``HIVECORD_SECTION__KEY`` variables that name a setting; any other HIVECORD_ name is a problem,
    except the posting keys' ``HIVECORD_POSTING_KEY_<ACCOUNT>`` (secrets, read by the curation code).
    No problem shows a variable's value."""
    found: dict[str, str] = {}
    for name, text in env.items():
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper == CONFIG_ENV or is_posting_key_variable(upper):
            continue
        if upper in _BY_ENV and looks_like_private_key(text):
            problems.append(f"{name} ({_BY_ENV[upper].path}): {ENV_VALUE_HINT}")
        elif upper in _BY_ENV:
            found[upper] = text
        elif (hint := env_name_problem(upper)) is not None:
            problems.append(f"{name}: {hint}")
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
        elif not is_token_key(name) and not is_key_name(name):
            problems.append(f"{name}: unknown section" + suggest(name, SECTIONS, ""))
    return tables
