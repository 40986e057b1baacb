"""database.path or database.url: which database the bot opens, and a URL's password never shown
(check-config, errors, the config's repr, log lines, answers in Discord)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from discord import app_commands

from bot.command_tree import explain
from bot.config.database import DatabaseTarget
from bot.config.load import ConfigError, load_config, parse_config
from bot.process.logs import log_handler
from bot.text.keys import redact_url_passwords
from tests.helpers import cli_env, hivecord

SECRET = "hunter2-Sekr3t"
URL = f"postgresql://hivecord:{SECRET}@db.internal:5432/hivecord"


def problems(data: dict[str, object], env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, env=env)
    return info.value.problems


# --- which database -------------------------------------------------------------------------------


def test_path_alone_is_the_sqlite_file_as_before(tmp_path: Path) -> None:
    assert parse_config({}).database.target == DatabaseTarget.sqlite(Path.cwd() / "hivecord.sqlite3")
    config = tmp_path / "config.toml"
    config.write_text('[database]\npath = "state/bot.sqlite3"\n')
    loaded = load_config(config, environ={})
    assert loaded.database.url is None
    assert loaded.database.target.kind == "sqlite"
    assert loaded.database.target.location == tmp_path / "state" / "bot.sqlite3"


def test_sqlite_urls_relative_to_the_config_folder_or_absolute(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "sqlite:///state/bot.sqlite3"\n')
    assert load_config(config, environ={}).database.target.location == tmp_path / "state" / "bot.sqlite3"
    config.write_text('[database]\nurl = "sqlite:////var/lib/hivecord/bot.sqlite3"\n')
    assert load_config(config, environ={}).database.target.location == Path("/var/lib/hivecord/bot.sqlite3")


def test_postgresql_urls_either_spelling_from_the_file_or_the_environment() -> None:
    target = parse_config({"database": {"url": URL}}).database.target
    assert target.kind == "postgresql" and target.path is None
    assert target.location == URL  # the driver gets the password; nothing else shows it
    spelled = parse_config({}, env={"HIVECORD_DATABASE__URL": "postgres://bot@127.0.0.1/hc"}).database.target
    assert spelled.location == "postgresql://bot@127.0.0.1/hc"
    assert not spelled.has_password
    unix = parse_config({"database": {"url": "postgresql:///hc?host=/run/postgresql"}}).database.target
    assert unix.kind == "postgresql"


def test_path_and_url_together_are_refused() -> None:
    both = problems({"database": {"path": "a.sqlite3", "url": URL}})
    assert any("either database.path or database.url, not both" in p for p in both)
    from_env = problems({"database": {"path": "a.sqlite3"}}, env={"HIVECORD_DATABASE__URL": URL})
    assert any(p.startswith("HIVECORD_DATABASE__URL (database.url): set either") for p in from_env)
    assert not any(SECRET in p for p in both + from_env)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (f"mysql://root:{SECRET}@db/hc", "is not a database URL"),
        (f"postgresql+asyncpg://bot:{SECRET}@db/hc", "write postgresql://"),
        (f"postgresql://bot:{SECRET}@db:54x2/hc", "a port must be a number"),
        (f"postgresql://bot:{SECRET}@db:5432", "names no database"),
        (f"postgresql://bot:{SECRET}@/hc", "names no host"),
        (f"postgresql://bot:{SECRET}@db/hc extra", "must not contain spaces"),
        ("sqlite://host/file.sqlite3", "names no host"),
        ("sqlite:///", "names no file"),
        ("hivecord.sqlite3", "is not a database URL"),
    ],
)
def test_a_refused_url_says_why_without_its_password(url: str, says: str) -> None:
    [problem] = problems({"database": {"url": url}})
    assert problem.startswith("database.url: ") and says in problem
    assert SECRET not in problem


def test_the_config_repr_hides_the_password() -> None:
    config = parse_config({"database": {"url": URL}})
    assert SECRET not in repr(config) and SECRET not in str(config.database.target)
    assert "hivecord:***@db.internal:5432/hivecord" in repr(config.database)


def test_passwords_to_blank_come_from_the_url_or_pgpassword() -> None:
    encoded = parse_config({"database": {"url": "postgresql://bot:p%40ss-word@db/hc"}}).database.target
    assert set(encoded.passwords({})) == {"p%40ss-word", "p@ss-word"}
    assert encoded.password_source({}) == "password from the URL"
    bare = parse_config({"database": {"url": "postgresql://bot@db/hc"}}).database.target
    assert bare.passwords({"PGPASSWORD": SECRET}) == (SECRET,)
    assert bare.password_source({"PGPASSWORD": SECRET}) == "password from $PGPASSWORD"
    assert bare.password_source({}) == "no password"
    assert parse_config({}).database.target.passwords({"PGPASSWORD": SECRET}) == ()
    # libpq's query parameter form is a password too: blanked in text, and known to the log.
    query = parse_config({"database": {"url": f"postgresql://bot@db/hc?password={SECRET}"}}).database.target
    assert query.passwords({}) == (SECRET,) and query.has_password
    assert SECRET not in query.shown() and SECRET not in repr(query)


# --- never shown ----------------------------------------------------------------------------------


def test_check_config_shows_the_url_without_its_password(tmp_path: Path) -> None:
    done = hivecord("check-config", env=cli_env(HIVECORD_DATABASE__URL=URL))
    assert done.returncode == 0, done.stderr
    assert "database: PostgreSQL at postgresql://hivecord:***@db.internal:5432/hivecord (password from the URL)" in (
        done.stdout
    )
    assert SECRET not in done.stdout + done.stderr

    bare = "postgresql://hivecord@db.internal/hivecord"
    done = hivecord("check-config", env=cli_env(HIVECORD_DATABASE__URL=bare, PGPASSWORD=SECRET))
    assert "(password from $PGPASSWORD)" in done.stdout and SECRET not in done.stdout + done.stderr

    refused = URL.replace(":5432", ":54x2")
    done = hivecord("check-config", env=cli_env(HIVECORD_DATABASE__URL=refused))
    assert done.returncode == 1 and "HIVECORD_DATABASE__URL (database.url)" in done.stderr
    assert SECRET not in done.stdout + done.stderr


def test_log_lines_blank_url_passwords_and_the_given_secrets() -> None:
    handler = log_handler(hidden=(SECRET, "pw"))
    try:
        raise ConnectionError(f"could not reach {URL}")
    except ConnectionError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "hivecord.store", logging.ERROR, __file__, 1, "opening %s failed; PGPASSWORD=%s", (URL, SECRET), exc_info
    )
    text = handler.format(record)
    assert SECRET not in text
    assert text.count("hivecord:***@db.internal") == 2  # the message and the traceback
    assert "PGPASSWORD=***" in text
    # Too short to blank as a literal without blanking words ("pwd"); inside a URL it is blanked anyway.
    short = logging.LogRecord("x", logging.INFO, __file__, 1, "pwd postgresql://a:pw@h/d", (), None)
    assert handler.format(short).endswith(" pwd postgresql://a:***@h/d")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("postgresql://bot:s3cret@db/hc", "postgresql://bot:***@db/hc"),
        ("postgres://bot:p@ss:w@db:5432/hc?sslmode=require", "postgres://bot:***@db:5432/hc?sslmode=require"),
        ("postgresql://bot@db/hc", "postgresql://bot@db/hc"),
        ("postgresql://bot@db/hc?sslmode=require&password=s3cret", "postgresql://bot@db/hc?sslmode=require&password=***"),
        ("postgresql://bot@db/hc?Password=s3cret#x", "postgresql://bot@db/hc?Password=***#x"),
        ("see https://peakd.com:443/@alice/a-review now", "see https://peakd.com:443/@alice/a-review now"),
        ("https://hive.blog/@alice/post", "https://hive.blog/@alice/post"),
    ],
)
def test_redact_url_passwords(text: str, shown: str) -> None:
    assert redact_url_passwords(text) == shown


def test_a_database_failure_in_a_command_is_answered_in_general_words() -> None:
    """What a member reads in Discord when a command hits a database error: never the error's text."""

    async def callback(interaction: object) -> None: ...

    command = app_commands.Command(name="search", description="x", callback=callback)  # type: ignore[arg-type]
    failure = app_commands.CommandInvokeError(command, ConnectionError(f"lost {URL}"))
    assert explain(failure) is None  # so on_tree_error answers "Something went wrong on my side..."
