"""How one setting is declared (type, default, check, doc) and how its value is read and checked.

``bot/config/settings.py`` declares every setting with :func:`setting` on the field of its section's
dataclass; everything else (the values a missing key takes, parsing the TOML file, parsing
``HIVECORD_SECTION__KEY`` environment variables, the problems ``check-config`` lists) follows
from those declarations through the pieces here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.hive.names import is_community
from bot.text.keys import redact_private_keys, redact_url_passwords

ENV_PREFIX = "HIVECORD_"
ENV_DELIMITER = "__"

# Three dot-separated base64url parts: the shape of a bot token, redacted wherever a value is shown.
_TOKEN_SHAPE_RE = re.compile(r"[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{20,}")
_SPEC = "hivecord.setting"


class WrongType(ValueError):
    """The value is not of the setting's type; the message says what was expected."""


class Field:
    """One setting's value being read: where it came from, for messages, and its problems."""

    def __init__(self, dotted: str, problems: list[str], base: Path, env: str = "") -> None:
        self.dotted = dotted  # "hive.nodes"
        self.env = env  # "HIVECORD_HIVE__NODES" when the value came from that variable
        self.problems = problems
        self.base = base  # the folder a relative path is taken from

    def item(self, index: int | str) -> str:
        """An item of a list setting, as "hive.nodes[2]"; an entry of a table, as "curation.accounts.hive-158489"."""
        return f"{self.dotted}[{index}]" if isinstance(index, int) else f"{self.dotted}.{toml_key(index)}"

    def problem(self, message: str, index: int | str | None = None) -> None:
        where = self.dotted if index is None else self.item(index)
        if self.env:
            where = f"{self.env} ({where})"
        self.problems.append(f"{where}: {message}")


# --- types: what TOML and the environment may say -------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """A setting's type: checks a TOML value, and turns an environment variable's text into one."""

    expected: str  # "an integer", as messages say it
    accepts: Callable[[object], bool]
    from_text: Callable[[str], object]
    env_doc: str  # how the environment writes it

    def from_toml(self, value: object) -> object:
        if not self.accepts(value):
            raise WrongType(f"expected {self.expected}, found {describe(value)}")
        return value

    def from_env(self, text: str) -> object:
        try:
            value = self.from_text(text)
        except ValueError:
            raise WrongType(f"expected {self.expected}, found {quote(text)}") from None
        return self.from_toml(value)


def _is_int(value: object) -> bool:
    # bool is an int subclass in Python, but `batch_size = true` is a mistake, not a 1.
    return isinstance(value, int) and not isinstance(value, bool)


def _bool_text(text: str) -> bool:
    word = text.strip().lower()
    if word in ("true", "1", "yes", "on"):
        return True
    if word in ("false", "0", "no", "off"):
        return False
    raise ValueError(text)


def _list_text(text: str) -> list[str]:
    # "a, b,,c" -> ["a", "b", "c"]; "" -> [] (an empty list).
    return [part.strip() for part in text.split(",") if part.strip()]


def _int_or_word(text: str) -> object:
    text = text.strip()
    return int(text) if re.fullmatch(r"[+-]?\d[\d_]*", text) else text


STRING = Kind("a string", lambda v: isinstance(v, str), str, "the text as is")
INTEGER = Kind("an integer", _is_int, lambda t: int(t.strip()), "a whole number")
NUMBER = Kind("a number", lambda v: _is_int(v) or isinstance(v, float), lambda t: float(t.strip()), "a number")
BOOLEAN = Kind("a boolean", lambda v: isinstance(v, bool), _bool_text, "true or false (also 1/0, yes/no, on/off)")
STRINGS = Kind(
    "an array of strings", lambda v: isinstance(v, list), _list_text, "comma-separated, e.g. a,b; empty for none"
)


def word_or_integer(expected: str) -> Kind:
    """A setting that takes a word or a number, e.g. start_block = "head" or 90000000."""
    return Kind(expected, lambda v: isinstance(v, str) or _is_int(v), _int_or_word, "a word or a whole number")


# --- the declaration -------------------------------------------------------------------------------

Check = Callable[[Any, Field], Any]


def _keep(value: Any, field: Field) -> Any:
    return value


@dataclass(frozen=True)
class Spec:
    kind: Kind
    default: object  # written as the TOML file would write it, and read by the same code
    doc: str
    check: Check  # the typed value -> the value the bot uses; problems go to the field


def setting(kind: Kind, default: object, doc: str, check: Check = _keep) -> Any:
    """Declares a setting on a section dataclass's field: one place for type, default, check, doc."""
    return dataclasses.field(metadata={_SPEC: Spec(kind, default, " ".join(doc.split()), check)})


@dataclass(frozen=True)
class Setting:
    section: str
    key: str
    spec: Spec

    @property
    def path(self) -> str:
        return f"{self.section}.{self.key}"

    @property
    def env(self) -> str:
        return f"{ENV_PREFIX}{self.section.upper()}{ENV_DELIMITER}{self.key.upper()}"


def settings_of(section: str, cls: type[Any]) -> list[Setting]:
    out = []
    for f in dataclasses.fields(cls):
        spec = f.metadata.get(_SPEC)
        if not isinstance(spec, Spec):
            raise TypeError(f"{cls.__name__}.{f.name} is not declared with setting()")
        out.append(Setting(section, f.name, spec))
    return out


# --- checks: each turns the typed value into the value the bot uses, or names the problem -----------


def at_least(minimum: int, what: str = "") -> Check:
    return between(minimum, None, what)


def between(minimum: int, maximum: int | None, what: str = "") -> Check:
    def check(value: int, field: Field) -> int:
        if value < minimum or (maximum is not None and value > maximum):
            bounds = what or (f"at least {minimum}" if maximum is None else f"between {minimum} and {maximum}")
            field.problem(f"must be {bounds}, found {value}")
        return value

    return check


def positive(maximum: float | None = None, why: str = "") -> Check:
    def check(value: float, field: Field) -> float:
        if not math.isfinite(value) or value <= 0:
            field.problem(f"must be a number greater than 0, found {show(value)}")
        elif maximum is not None and value > maximum:
            field.problem(f"must be at most {show(maximum)}{why}, found {show(value)}")
        return float(value)

    return check


def urls(schemes: tuple[str, ...], *, at_least_one: str = "") -> Check:
    """A list of URLs of these schemes, none twice (a trailing slash does not make a new one)."""

    def check(values: list[object], field: Field) -> tuple[str, ...]:
        if not values and at_least_one:
            field.problem(at_least_one)
        seen: dict[str, int] = {}
        for i, url in strings(values, field):
            if not is_url(url, schemes):
                field.problem(f"{quote(url)} is not {_scheme_names(schemes)} URL", i)
            elif (norm := url.rstrip("/")) in seen:
                field.problem(f"{quote(url)} is listed twice (first at {field.item(seen[norm])})", i)
            else:
                seen[norm] = i
        return tuple(v for v in values if isinstance(v, str))

    return check


def not_a_community(name: str) -> str | None:
    """The problem with `name` as a community id, or None when it is one."""
    if is_community(name):
        return None
    if is_community(name.strip().lower()):
        hint = f"community ids are lowercase with no spaces: {quote(name.strip().lower())}"
    else:
        hint = 'expected "hive-" followed by 5 to 7 digits'
    return f"{quote(name)} is not a community id ({hint})"


def community_ids(values: list[object], field: Field) -> tuple[str, ...]:
    seen: dict[str, int] = {}
    for i, name in strings(values, field):
        if (wrong := not_a_community(name)) is not None:
            field.problem(wrong, i)
        elif name in seen:
            field.problem(f"{quote(name)} is listed twice (first at {field.item(seen[name])})", i)
        else:
            seen[name] = i
    return tuple(v for v in values if isinstance(v, str))


def strings(values: list[object], field: Field) -> list[tuple[int, str]]:
    """The list's strings with their index; each item that is not one is a problem naming its index."""
    out = []
    for i, item in enumerate(values):
        if isinstance(item, str):
            out.append((i, item))
        else:
            field.problem(f"expected a string, found {describe(item)}", i)
    return out


def number_between(minimum: float, maximum: float) -> Check:
    def check(value: float, field: Field) -> float:
        if not math.isfinite(value) or not minimum <= value <= maximum:
            field.problem(f"must be between {show(minimum)} and {show(maximum)}, found {show(value)}")
        return float(value)

    return check


def optional_url(schemes: tuple[str, ...]) -> Check:
    """ "" means "Discord's own" (None); anything else must be a URL of these schemes."""

    def check(value: str, field: Field) -> str | None:
        value = value.strip()
        if value and not is_url(value, schemes):
            field.problem(f'{quote(value)} is not {_scheme_names(schemes)} URL (leave it "" for Discord\'s own)')
        return value or None

    return check


def one_of(choices: tuple[str, ...], what: str) -> Check:
    def check(value: str, field: Field) -> str:
        word = value.strip().upper()
        if word not in choices:
            field.problem(f"{quote(value)} is not {what} (expected one of {', '.join(choices)})")
        return word

    return check


def file_path(value: str, field: Field) -> Path:
    if not value.strip():
        field.problem("must not be empty")
    found = Path(value).expanduser()
    # Relative to the config file, so the bot finds its database whatever the cwd at start.
    return found if found.is_absolute() else field.base / found


def _scheme_names(schemes: tuple[str, ...]) -> str:
    """ "an http(s)", "a ws:// or wss://": the words before "URL" in a message."""
    if set(schemes) == {"http", "https"}:
        return "an http(s)"
    return "a " + " or ".join(f"{s}://" for s in schemes)


def is_url(value: str, schemes: tuple[str, ...]) -> bool:
    if not value or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return False
    return parts.scheme.lower() in schemes and bool(parts.hostname)


# --- showing values in messages ----------------------------------------------------------------------


def type_name(value: object) -> str:
    # Named as TOML names them, since that is the language the user wrote in.
    if isinstance(value, bool):
        return "boolean"
    for cls, name in _TOML_TYPES:
        if isinstance(value, cls):
            return name
    return type(value).__name__


# Checked in this order: a datetime is also a date.
_TOML_TYPES: tuple[tuple[type, str], ...] = (
    (int, "integer"),
    (float, "float"),
    (str, "string"),
    (list, "array"),
    (dict, "table"),
    (dt.datetime, "datetime"),
    (dt.date, "date"),
    (dt.time, "time"),
)


def show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return repr(value)


def describe(value: object) -> str:
    if isinstance(value, bool | int | float | str):
        return f"{type_name(value)} {show(value)}"
    return type_name(value)


def quote(text: str, limit: int = 60) -> str:
    # A token, a private key or a URL's password must not end up in logs via an error message.
    text = redact_url_passwords(redact_private_keys(_TOKEN_SHAPE_RE.sub("<redacted token>", text)))
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return json.dumps(text, ensure_ascii=False)


# --- names: near misses and keys that look like a token ------------------------------------------------


def toml_key(key: str) -> str:
    # As TOML writes a key: bare when it can be, else quoted.
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else quote(key)


def suggest(key: str, known: Iterable[str], prefix: str) -> str:
    choices = list(known)
    match = difflib.get_close_matches(key.lower(), [c.lower() for c in choices], n=1, cutoff=0.6)
    if not match:
        return ""
    original = next(c for c in choices if c.lower() == match[0])
    return f" (did you mean {prefix}{original}?)"


def is_token_key(key: str) -> bool:
    # Near misses such as "tokn" count too: the answer for any of them is $DISCORD_TOKEN.
    lowered = key.lower()
    return "token" in lowered or bool(difflib.get_close_matches(lowered, ["token"], n=1, cutoff=0.75))


def token_keys(value: object, prefix: str) -> Iterator[str]:
    """Dotted paths of every token-like key, at any depth, so none slips through as "unknown"."""
    if isinstance(value, dict):
        for key, item in value.items():
            dotted = f"{prefix}.{key}" if prefix else str(key)
            if is_token_key(str(key)):
                yield dotted
            else:
                yield from token_keys(item, dotted)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from token_keys(item, f"{prefix}[{i}]")
