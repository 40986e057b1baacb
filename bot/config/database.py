"""Which database the bot opens: `database.path` (a SQLite file) or `database.url` (sqlite:/// or
postgresql://), read into one typed `DatabaseTarget`. A URL's password is never shown: every
message and every repr names the URL with its password blanked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

from bot.config.schema import Field, quote
from bot.text.keys import redact_url_passwords

POSTGRES_SCHEMES = ("postgresql", "postgres")
# As SQLAlchemy and dj-database-url write it: sqlite:///relative/file, sqlite:////absolute/file.
SQLITE_PREFIX = "sqlite:///"
PASSWORD_ENV = "PGPASSWORD"
_EXAMPLES = "sqlite:///hivecord.sqlite3, sqlite:////var/lib/hivecord/hivecord.sqlite3 or postgresql://user@host:5432/db"


@dataclass(frozen=True)
class DatabaseTarget:
    """The database to open: a SQLite file, or a PostgreSQL server by URL (`dsn`, password and all)."""

    kind: Literal["sqlite", "postgresql"]
    path: Path | None = None
    # Kept out of the repr: a config or a target printed in a log line must not carry the password.
    dsn: str | None = field(default=None, repr=False)

    @classmethod
    def sqlite(cls, path: Path) -> DatabaseTarget:
        return cls("sqlite", path=path)

    @property
    def location(self) -> Path | str:
        """What Store.open takes: the SQLite file's path, or the postgresql:// URL."""
        if self.kind == "sqlite":
            assert self.path is not None
            return self.path
        assert self.dsn is not None
        return self.dsn

    @property
    def has_password(self) -> bool:
        return bool(self.dsn is not None and _written_passwords(self.dsn))

    def passwords(self, environ: Mapping[str, str]) -> tuple[str, ...]:
        """The database's password as it may appear in text (the URL's, as written and decoded, or
        $PGPASSWORD, which the driver reads when the URL has none): for the log to blank."""
        if self.kind != "postgresql" or self.dsn is None:
            return ()
        found = {p for w in _written_passwords(self.dsn) for p in (w, unquote(w))}
        if environ.get(PASSWORD_ENV):
            found.add(environ[PASSWORD_ENV])
        return tuple(found)

    def password_source(self, environ: Mapping[str, str]) -> str:
        """Where the password comes from, in words for check-config (never the password)."""
        if self.has_password:
            return "password from the URL"
        return f"password from ${PASSWORD_ENV}" if environ.get(PASSWORD_ENV) else "no password"

    def shown(self) -> str:
        """For people and logs: the file, or the URL with its password blanked."""
        return str(self.path) if self.kind == "sqlite" else redact_url_passwords(self.dsn or "")

    def __repr__(self) -> str:
        return f"DatabaseTarget(kind={self.kind!r}, {'path' if self.kind == 'sqlite' else 'url'}={self.shown()!r})"


def database_url(value: str, field: Field) -> DatabaseTarget | None:
    """The `database.url` check: "" (use database.path), sqlite:///FILE, or a postgresql:// URL."""
    text = value.strip()
    if not text:
        return None
    shown = quote(text, limit=120)  # the password blanked
    if any(c.isspace() for c in text):
        field.problem(f"{shown} must not contain spaces (write a space in a password as %20)")
        return None
    scheme = text.partition("://")[0].lower() if "://" in text else ""
    if scheme == "sqlite":
        return _sqlite(text, shown, field)
    if scheme in POSTGRES_SCHEMES:
        return _postgres(text, shown, field)
    hint = " (asyncpg is the driver: write postgresql://)" if scheme.startswith("postgres") else ""
    field.problem(f"{shown} is not a database URL{hint}; expected e.g. {_EXAMPLES}")
    return None


def _sqlite(text: str, shown: str, field: Field) -> DatabaseTarget | None:
    if not text.lower().startswith(SQLITE_PREFIX):
        field.problem(f"{shown}: a SQLite URL names no host: sqlite:///relative/file or sqlite:////absolute/file")
        return None
    rest = unquote(text[len(SQLITE_PREFIX) :])
    if not rest.strip("/") or "?" in rest:
        field.problem(f"{shown} names no file (or has options, which hivecord does not read)")
        return None
    found = Path(rest).expanduser()
    # Relative to the config file, as database.path is.
    return DatabaseTarget.sqlite(found if found.is_absolute() else field.base / found)


def _postgres(text: str, shown: str, field: Field) -> DatabaseTarget | None:
    try:
        parts: SplitResult = urlsplit(text)
        _ = parts.port  # raises ValueError on a port that is not a number
    except ValueError:
        field.problem(f"{shown} is not a valid URL (a port must be a number; write @ : / in a password as %40 %3A %2F)")
        return None
    if not parts.hostname and "host=" not in parts.query:
        field.problem(f"{shown} names no host: postgresql://user@host:5432/database")
        return None
    if parts.path.strip("/") == "" and "dbname=" not in parts.query:
        field.problem(f"{shown} names no database: postgresql://user@host:5432/database")
        return None
    # One spelling for the rest of the bot (asyncpg takes both).
    return DatabaseTarget("postgresql", dsn="postgresql" + text[len(parts.scheme) :])


def _written_passwords(dsn: str) -> list[str]:
    """The password(s) a URL carries: before the @, or as libpq's `?password=` query parameter."""
    parts = urlsplit(dsn)
    written = [parts.password] if parts.password else []
    return written + [p for p in parse_qs(parts.query).get("password", []) if p]
