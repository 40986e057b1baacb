"""Settings: the declarations agree with the example file; defaults, environment overrides, the
lookup with no file, and that every mistake is reported by its key or variable."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.config.load import (
    CONFIG_ENV,
    SECTIONS,
    SETTINGS,
    Config,
    ConfigError,
    DeliveryConfig,
    DiscordConfig,
    HiveConfig,
    LoggingConfig,
    find_config,
    load_config,
    parse_config,
)
from bot.config.schema import BOOLEAN, STRINGS, WrongType


def defaults() -> Config:
    """The settings when nothing is set: the declarations' defaults, read from an empty document."""
    return parse_config({})

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config.example.toml"
# Shaped like a real bot token, but made up.
FAKE_TOKEN = "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs"


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    return info.value.problems


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the example file and the defaults ---------------------------------------------------------


def test_example_loads_and_equals_defaults() -> None:
    loaded = load_config(EXAMPLE)
    defaults = parse_config({})
    assert loaded.source == EXAMPLE
    # The example's database sits next to it; the defaults' in the cwd. Nothing else differs.
    assert loaded.database.path == REPO / "hivecord.sqlite3"
    assert defaults.database.path == Path.cwd() / "hivecord.sqlite3"
    assert dataclasses.replace(loaded, source=None, database=defaults.database) == defaults


def example_entries() -> dict[str, tuple[str, object]]:
    """Each key of the example as "section.key" -> (the comment block above it, its value)."""
    text = EXAMPLE.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    entries: dict[str, tuple[str, object]] = {}
    section = ""
    comment: list[str] = []
    for line in text.splitlines():
        if line.startswith("["):
            section, comment = line.strip("[]"), []
        elif line.startswith("#"):
            comment.append(line.lstrip("#").strip())
        elif "=" in line and section:
            key = line.split("=", 1)[0].strip()
            entries[f"{section}.{key}"] = (" ".join(" ".join(comment).split()), data[section][key])
            comment = []
        elif not line.strip():
            comment = []
    return entries


def test_declarations_and_example_agree() -> None:
    """config.example.toml is the documented source of truth: every declared setting is in it, with
    its declared default as the value and its declared doc as the comment above it, and nothing else."""
    entries = example_entries()
    assert set(entries) == {s.path for s in SETTINGS}
    for s in SETTINGS:
        doc, value = entries[s.path]
        assert value == s.spec.default, f"{s.path}: example says {value!r}, declared {s.spec.default!r}"
        assert doc == s.spec.doc, f"{s.path}: the example's comment differs from the declared doc"


def test_every_section_field_is_declared() -> None:
    assert list(SECTIONS) == [f.name for f in dataclasses.fields(Config)][: len(SECTIONS)]
    for name, cls in SECTIONS.items():
        assert [s.key for s in SETTINGS if s.section == name] == [f.name for f in dataclasses.fields(cls)]


def test_default_values() -> None:
    c = defaults()
    assert c.hive == HiveConfig(
        nodes=("https://api.hive.blog", "https://api.deathwing.me", "https://api.openhive.network"),
        communities=("hive-158489",),
        start_block="head",
        request_timeout=10.0,
        batch_size=500,
        poll_interval=0.5,
        max_head_lag=20,
        facts_recheck_seconds=3600.0,
        community_roles_refresh_seconds=900.0,
    )
    assert c.discord == DiscordConfig(
        api_base=None, gateway_url=None, dev_guild_id=None, retry_max_seconds=300.0, shard_count=0, shard_ids=()
    )
    assert c.delivery == DeliveryConfig(
        max_messages_per_second=5.0,
        requests_per_second=45.0,
        vote_digest_minutes=10,
        thread_replies_per_window=20,
        thread_reply_window_minutes=10,
        stats_refresh_minutes=5,
        refused_retry_seconds=300.0,
        retention_days=14,
    )
    assert c.logging == LoggingConfig(level="INFO")
    assert c.source is None


def test_config_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        defaults().hive.batch_size = 5  # type: ignore[misc]


def test_values_are_parsed() -> None:
    c = parse_config(
        {
            "hive": {
                "nodes": ["http://127.0.0.1:8090"],
                "communities": [],
                "start_block": 90_000_000,
                "request_timeout": 3,  # an integer is fine where a number is expected
                "batch_size": 1,
                "poll_interval": 0.25,
                "max_head_lag": 1,
            },
            "discord": {
                "api_base": "http://127.0.0.1:8080/api/v10",
                "gateway_url": "ws://127.0.0.1:8080/gateway",
                "dev_guild_id": 1234567890123456789,
            },
            "delivery": {
                "max_messages_per_second": 0.5,
                "vote_digest_minutes": 1,
                "stats_refresh_minutes": 60,
            },
            "logging": {"level": "debug"},
        }
    )
    assert c.hive.nodes == ("http://127.0.0.1:8090",)
    assert c.hive.communities == ()
    assert c.hive.start_block == 90_000_000
    assert c.hive.request_timeout == 3.0 and isinstance(c.hive.request_timeout, float)
    assert c.discord.api_base == "http://127.0.0.1:8080/api/v10"
    assert c.discord.gateway_url == "ws://127.0.0.1:8080/gateway"
    assert c.discord.dev_guild_id == 1234567890123456789
    assert c.delivery.max_messages_per_second == 0.5
    assert c.logging.level == "DEBUG"


# --- every problem, each naming its key ---------------------------------------------------------


def test_three_mistakes_are_all_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[hive]
nodes = ["https://api.hive.blog", "ftp://x"]
communities = ["hive-158489", "hive-12"]
batch_sze = 100
""",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    problems = info.value.problems
    assert len(problems) == 3, problems
    assert "hive.batch_sze: unknown key (did you mean hive.batch_size?)" in problems
    assert 'hive.communities[1]: "hive-12" is not a community id (expected "hive-" followed by 5 to 7 digits)' in (
        problems
    )
    assert 'hive.nodes[1]: "ftp://x" is not an http(s) URL' in problems
    # str() is the same list, one per line, ready for check-config to print.
    assert str(info.value).splitlines() == problems


def test_unknown_section_and_keys() -> None:
    problems = problems_of({"hve": {}, "delivery": {"max_message_per_second": 3}, "logging": {"colour": True}})
    assert "hve: unknown section (did you mean hive?)" in problems
    assert "delivery.max_message_per_second: unknown key (did you mean delivery.max_messages_per_second?)" in (problems)
    assert "logging.colour: unknown key" in problems


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"hive": {"batch_size": "100"}}, 'hive.batch_size: expected an integer, found string "100"'),
        ({"hive": {"batch_size": True}}, "hive.batch_size: expected an integer, found boolean true"),
        ({"hive": {"max_head_lag": 2.5}}, "hive.max_head_lag: expected an integer, found float 2.5"),
        ({"hive": {"request_timeout": "10"}}, 'hive.request_timeout: expected a number, found string "10"'),
        ({"hive": {"poll_interval": False}}, "hive.poll_interval: expected a number, found boolean false"),
        (
            {"hive": {"nodes": "https://api.hive.blog"}},
            "hive.nodes: expected an array of strings, found string",
        ),
        ({"hive": {"communities": [158489]}}, "hive.communities[0]: expected a string, found integer 158489"),
        ({"hive": {"start_block": True}}, 'hive.start_block: expected "head" or a positive block number'),
        ({"hive": {"start_block": "tail"}}, 'hive.start_block: expected "head" or a positive block number'),
        ({"database": {"path": 5}}, "database.path: expected a string, found integer 5"),
        (
            {"discord": {"dev_guild_id": "123"}},
            'discord.dev_guild_id: expected an integer, found string "123"',
        ),
        ({"discord": {"api_base": ["x"]}}, "discord.api_base: expected a string, found array"),
        (
            {"delivery": {"vote_digest_minutes": {}}},
            "delivery.vote_digest_minutes: expected an integer, found table",
        ),
        ({"logging": {"level": 10}}, "logging.level: expected a string, found integer 10"),
        ({"hive": ["x"]}, "hive: expected a table ([hive]), found array"),
    ],
)
def test_type_errors_name_key_expected_and_found(data: dict[str, Any], expected: str) -> None:
    problems = problems_of(data)
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"hive": {"nodes": []}}, "hive.nodes: must list at least one node URL"),
        ({"hive": {"nodes": ["api.hive.blog"]}}, 'hive.nodes[0]: "api.hive.blog" is not an http(s) URL'),
        ({"hive": {"nodes": ["https://"]}}, 'hive.nodes[0]: "https://" is not an http(s) URL'),
        (
            {"hive": {"nodes": ["https://a.b:port"]}},
            'hive.nodes[0]: "https://a.b:port" is not an http(s) URL',
        ),
        ({"hive": {"communities": ["hive-1"]}}, 'hive.communities[0]: "hive-1" is not a community id'),
        (
            {"hive": {"communities": ["hive-12345678"]}},
            'hive.communities[0]: "hive-12345678" is not a community',
        ),
        (
            {"hive": {"communities": ["HIVE-158489"]}},
            'hive.communities[0]: "HIVE-158489" is not a community id',
        ),
        (
            {"hive": {"communities": ["hive-158489", "hive-158489"]}},
            'hive.communities[1]: "hive-158489" is listed twice (first at hive.communities[0])',
        ),
        ({"hive": {"start_block": 0}}, "hive.start_block: "),
        ({"hive": {"request_timeout": 0}}, "hive.request_timeout: must be a number greater than 0, found 0"),
        (
            {"hive": {"poll_interval": -1.0}},
            "hive.poll_interval: must be a number greater than 0, found -1.0",
        ),
        (
            {"hive": {"request_timeout": float("inf")}},
            "hive.request_timeout: must be a number greater than 0",
        ),
        ({"hive": {"batch_size": 0}}, "hive.batch_size: must be between 1 and 1000, found 0"),
        ({"hive": {"batch_size": 1001}}, "hive.batch_size: must be between 1 and 1000, found 1001"),
        ({"hive": {"max_head_lag": 0}}, "hive.max_head_lag: must be at least 1, found 0"),
        ({"database": {"path": " "}}, "database.path: must not be empty"),
        (
            {"discord": {"api_base": "127.0.0.1:8080"}},
            'discord.api_base: "127.0.0.1:8080" is not an http(s) URL',
        ),
        (
            {"discord": {"gateway_url": "https://x"}},
            'discord.gateway_url: "https://x" is not a ws:// or wss://',
        ),
        ({"discord": {"dev_guild_id": -1}}, "discord.dev_guild_id: must be 0 or a guild id, found -1"),
        ({"delivery": {"max_messages_per_second": 0}}, "delivery.max_messages_per_second: must be a number"),
        (
            {"delivery": {"vote_digest_minutes": 0}},
            "delivery.vote_digest_minutes: must be at least 1, found 0",
        ),
        (
            {"delivery": {"stats_refresh_minutes": 0}},
            "delivery.stats_refresh_minutes: must be at least 1, found 0",
        ),
        ({"delivery": {"retention_days": 0}}, "delivery.retention_days: must be at least 1, found 0"),
        (
            {"delivery": {"requests_per_second": 51}},
            "delivery.requests_per_second: must be at most 50 (Discord's global limit for a bot is 50 requests a"
            " second), found 51",
        ),
        ({"logging": {"level": "verbose"}}, 'logging.level: "verbose" is not a log level'),
    ],
)
def test_value_errors(data: dict[str, Any], expected: str) -> None:
    problems = problems_of(data)
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems


# --- the token never lives in the file -----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f'[discord]\ntoken = "{FAKE_TOKEN}"\n',
        f'token = "{FAKE_TOKEN}"\n',
        f'[discord]\ntokn = "{FAKE_TOKEN}"\n',
        f'[discord]\nbot_token = "{FAKE_TOKEN}"\n',
        f'[secrets.discord]\nTOKEN = "{FAKE_TOKEN}"\n',
    ],
)
def test_token_key_is_refused_without_echoing_it(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    message = str(info.value)
    assert "DISCORD_TOKEN" in message
    assert FAKE_TOKEN not in message
    for part in FAKE_TOKEN.split("."):
        assert part not in message


def test_token_key_names_where_it_is() -> None:
    problems = problems_of({"discord": {"token": FAKE_TOKEN}})
    assert len(problems) == 1, problems
    assert problems[0].startswith("discord.token: ")
    assert "DISCORD_TOKEN" in problems[0]


def test_token_pasted_into_another_key_is_not_echoed() -> None:
    problems = problems_of({"discord": {"api_base": FAKE_TOKEN}})
    assert problems[0].startswith("discord.api_base: ")
    assert FAKE_TOKEN not in "\n".join(problems)


# --- paths ----------------------------------------------------------------------------------------


def test_relative_db_path_is_relative_to_config_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf_dir = tmp_path / "etc"
    conf_dir.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    path = write(conf_dir, '[database]\npath = "state/bot.sqlite3"\n')
    assert load_config(path).database.path == conf_dir / "state" / "bot.sqlite3"
    # A relative --config path resolves from the cwd first, then the db from the file's folder.
    monkeypatch.chdir(tmp_path)
    assert load_config(Path("etc/config.toml")).database.path == conf_dir / "state" / "bot.sqlite3"


def test_absolute_db_path_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "data" / "x.sqlite3"
    path = write(tmp_path, f"[database]\npath = {str(target)!r}\n")
    assert load_config(path).database.path == target


def test_db_path_without_source_is_relative_to_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert parse_config({"database": {"path": "a.sqlite3"}}).database.path == tmp_path / "a.sqlite3"
    assert defaults().database.path == tmp_path / "hivecord.sqlite3"


def test_find_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    # Nothing anywhere: no file, the built-in defaults (and the environment).
    assert find_config(None) is None
    (tmp_path / "config.toml").write_text("")
    assert find_config(None) == Path("config.toml")
    monkeypatch.setenv(CONFIG_ENV, "/data/config.toml")
    assert find_config(None) == Path("/data/config.toml")
    # --config wins over the environment.
    assert find_config("other.toml") == Path("other.toml")
    monkeypatch.setenv(CONFIG_ENV, "")
    assert find_config(None) == Path("config.toml")


def test_env_config_is_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "[hive]\nbatch_size = 50\n", name="from-env.toml")
    monkeypatch.setenv(CONFIG_ENV, str(path))
    config = load_config(find_config(None), environ={})
    assert config.hive.batch_size == 50
    assert config.source == path


# --- settings from the environment -----------------------------------------------------------------


def test_no_file_means_defaults_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(None, environ={})
    assert dataclasses.replace(config, database=defaults().database) == defaults()
    assert config.source is None and config.database.path == tmp_path / "hivecord.sqlite3"


def test_environment_sets_typed_values_and_wins_over_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[hive]\ncommunities = []\nbatch_size = 10\n[delivery]\nrequests_per_second = 20\n")
    env = {
        "HIVECORD_HIVE__COMMUNITIES": "hive-158489, hive-123456",
        "HIVECORD_HIVE__NODES": "http://127.0.0.1:8090",
        "HIVECORD_HIVE__START_BLOCK": "90000000",
        "HIVECORD_DATABASE__PATH": str(tmp_path / "data" / "hivecord.sqlite3"),
        "HIVECORD_DELIVERY__REQUESTS_PER_SECOND": "40",
        "HIVECORD_DELIVERY__RETENTION_DAYS": "30",
        "HIVECORD_DISCORD__DEV_GUILD_ID": "1234567890123456789",
        "HIVECORD_LOGGING__LEVEL": "debug",
        "HIVECORD_CONFIG": str(path),  # the file's own variable, not a setting
        "PATH": "/usr/bin",  # not ours
    }
    config = load_config(path, environ=env)
    assert config.hive.communities == ("hive-158489", "hive-123456")
    assert config.hive.nodes == ("http://127.0.0.1:8090",)
    assert config.hive.start_block == 90_000_000
    assert config.hive.batch_size == 10  # from the file: no variable for it
    assert config.database.path == tmp_path / "data" / "hivecord.sqlite3"
    assert config.delivery.requests_per_second == 40.0
    assert config.delivery.retention_days == 30
    assert config.discord.dev_guild_id == 1234567890123456789
    assert config.logging.level == "DEBUG"
    assert "HIVECORD_DELIVERY__REQUESTS_PER_SECOND" in config.from_env
    assert "HIVECORD_CONFIG" not in config.from_env
    assert parse_config({}, env={"HIVECORD_HIVE__COMMUNITIES": ""}).hive.communities == ()
    assert parse_config({}, env={"HIVECORD_HIVE__START_BLOCK": "head"}).hive.start_block == "head"


def test_relative_path_from_the_environment_is_from_the_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf_dir = tmp_path / "etc"
    conf_dir.mkdir()
    monkeypatch.chdir(tmp_path)
    config = load_config(write(conf_dir, ""), environ={"HIVECORD_DATABASE__PATH": "state/x.sqlite3"})
    assert config.database.path == tmp_path / "state" / "x.sqlite3"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"HIVECORD_DELIVERY__REQUESTS_PER_SECOND": "fast"},
            'HIVECORD_DELIVERY__REQUESTS_PER_SECOND (delivery.requests_per_second): expected a number, found "fast"',
        ),
        (
            {"HIVECORD_DELIVERY__REQUESTS_PER_SECOND": "60"},
            "HIVECORD_DELIVERY__REQUESTS_PER_SECOND (delivery.requests_per_second): must be at most 50",
        ),
        (
            {"HIVECORD_HIVE__BATCH_SIZE": "1.5"},
            'HIVECORD_HIVE__BATCH_SIZE (hive.batch_size): expected an integer, found "1.5"',
        ),
        (
            {"HIVECORD_HIVE__COMMUNITIES": "hive-158489,hive-12"},
            'HIVECORD_HIVE__COMMUNITIES (hive.communities[1]): "hive-12" is not a community id',
        ),
        (
            {"HIVECORD_HIVE__NODES": ""},
            "HIVECORD_HIVE__NODES (hive.nodes): must list at least one node URL",
        ),
        (
            {"HIVECORD_HIVE__START_BLOCK": "tail"},
            'HIVECORD_HIVE__START_BLOCK (hive.start_block): expected "head" or a positive block number',
        ),
        (
            {"HIVECORD_DELIVERY__RETENTION_DAYS": "0"},
            "HIVECORD_DELIVERY__RETENTION_DAYS (delivery.retention_days): must be at least 1, found 0",
        ),
        (
            {"HIVECORD_HIVE__BATCH_SZE": "10"},
            "HIVECORD_HIVE__BATCH_SZE: unknown setting (did you mean HIVECORD_HIVE__BATCH_SIZE?)",
        ),
        ({"HIVECORD_HIVE_COMMUNITIES": "hive-158489"}, "HIVECORD_HIVE_COMMUNITIES: unknown setting (did you mean"),
        ({"HIVECORD_DISCORD__TOKEN": FAKE_TOKEN}, "HIVECORD_DISCORD__TOKEN: the Discord token is read only from"),
    ],
)
def test_bad_environment_values_name_the_variable(env: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({}, env=env)
    problems = info.value.problems
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems
    assert FAKE_TOKEN not in problems[0]


def test_environment_text_is_typed_by_the_declaration() -> None:
    assert STRINGS.from_env(" a, b,,c ") == ["a", "b", "c"]
    assert STRINGS.from_env("") == []
    for text, value in (("true", True), ("0", False), ("Yes", True), ("off", False)):
        assert BOOLEAN.from_env(text) is value
    with pytest.raises(WrongType, match='expected a boolean, found "maybe"'):
        BOOLEAN.from_env("maybe")


# --- files that cannot be read ---------------------------------------------------------------------


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[hive]\nbatch_size = 10\npoll_interval = = 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    (problem,) = info.value.problems
    assert problem.startswith(f"{path}: invalid TOML")
    assert "line 3" in problem


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    (problem,) = info.value.problems
    assert problem.startswith(f"{path}: no such file")


def test_folder_and_non_utf8(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(tmp_path)
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'[logging]\nlevel = "caf\xe9"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(bad)


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""))
    assert dataclasses.replace(config, source=None, database=defaults().database) == defaults()
    assert config.database.path == tmp_path / "hivecord.sqlite3"


def test_config_error_from_one_string() -> None:
    error = ConfigError("x: broken")
    assert error.problems == ["x: broken"]
    assert str(error) == "x: broken"


def test_more_than_discords_50_a_second_only_against_another_server() -> None:
    """The 50 is Discord's: a proxy or test server named in discord.api_base sets its own limits."""
    elsewhere = {"api_base": "http://127.0.0.1:8080/api/v10"}
    config = parse_config({"discord": elsewhere, "delivery": {"requests_per_second": 400}})
    assert config.delivery.requests_per_second == 400.0
    env = {"HIVECORD_DISCORD__API_BASE": elsewhere["api_base"], "HIVECORD_DELIVERY__REQUESTS_PER_SECOND": "400"}
    assert parse_config({}, env=env).delivery.requests_per_second == 400.0
    assert parse_config({"delivery": {"requests_per_second": 50}}).delivery.requests_per_second == 50.0
    (problem,) = problems_of({"discord": {"api_base": ""}, "delivery": {"requests_per_second": 50.5}})
    assert problem.startswith("delivery.requests_per_second: must be at most 50"), problem
