"""The [curation] settings: the community -> curation account table from the file and the environment,
its checks named by key, and private keys refused wherever they are put, never echoed."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config.load import SETTINGS, Config, ConfigError, CurationConfig, parse_config
from bot.config.secrets import is_key_name


def defaults() -> Config:
    """The settings when nothing is set: the declarations' defaults, read from an empty document."""
    return parse_config({})

# Shaped like a WIF private key (and a valid one), but made up for these tests.
WIF = "5JRVrjJvNkuY1TJ8WjfjH4mp42FrcGHoCNPEn1oZrJfwUXorKbX"


def problems_of(data: dict[str, Any], env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, env=env)
    return info.value.problems


def never_echoed(problems: list[str]) -> None:
    text = "\n".join(problems)
    assert not any(WIF[i : i + 12] in text for i in range(len(WIF) - 11)), text


def test_defaults() -> None:
    assert defaults().curation == CurationConfig(accounts={}, daily_votes=20, vote_margin_hours=12.0)  # type: ignore[arg-type]


def test_values_from_the_file() -> None:
    c = parse_config(
        {
            "curation": {
                "accounts": {"hive-158489": "animerealm.cur", "hive-1234567": "other-cur"},
                "daily_votes": 5,
                "vote_margin_hours": 0,
            }
        }
    ).curation
    assert dict(c.accounts) == {"hive-158489": "animerealm.cur", "hive-1234567": "other-cur"}
    assert c.daily_votes == 5 and c.vote_margin_hours == 0.0 and isinstance(c.vote_margin_hours, float)
    hash(c)  # a frozen config hashes, its table too
    with pytest.raises(TypeError):
        c.accounts["hive-158489"] = "x"  # type: ignore[index]


def test_values_from_the_environment_win() -> None:
    env = {
        "HIVECORD_CURATION__ACCOUNTS": "hive-158489=animerealm.cur, hive-123456 = other.cur",
        "HIVECORD_CURATION__DAILY_VOTES": "3",
        "HIVECORD_CURATION__VOTE_MARGIN_HOURS": "1.5",
    }
    c = parse_config({"curation": {"accounts": {"hive-999999": "x.y.z"}}}, env=env)
    assert dict(c.curation.accounts) == {"hive-158489": "animerealm.cur", "hive-123456": "other.cur"}
    assert (c.curation.daily_votes, c.curation.vote_margin_hours) == (3, 1.5)
    assert "HIVECORD_CURATION__ACCOUNTS" in c.from_env
    assert parse_config({}, env={"HIVECORD_CURATION__ACCOUNTS": ""}).curation.accounts == {}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"accounts": ["animerealm.cur"]}, "curation.accounts: expected a table of strings, found array"),
        (
            {"accounts": {"hive-1": "animerealm.cur"}},
            'curation.accounts.hive-1: "hive-1" is not a community id (expected "hive-" followed by 5 to 7 digits)',
        ),
        (
            {"accounts": {"Hive-158489": "animerealm.cur"}},
            'curation.accounts.Hive-158489: "Hive-158489" is not a community id (community ids are lowercase',
        ),
        ({"accounts": {"hive 158489": "a.b"}}, 'curation.accounts."hive 158489": "hive 158489" is not a community'),
        (
            {"accounts": {"hive-158489": 7}},
            "curation.accounts.hive-158489: expected a Hive account name, found integer 7",
        ),
        (
            {"accounts": {"hive-158489": "@AnimeRealm.cur"}},
            'curation.accounts.hive-158489: "@AnimeRealm.cur" is not a Hive account name (a Hive account name is'
            ' lowercase; did you mean "animerealm.cur"?)',
        ),
        (
            {"accounts": {"hive-158489": "ar.cur"}},
            'curation.accounts.hive-158489: "ar.cur" is not a Hive account name (each dot-separated part',
        ),
        (
            {"accounts": {"hive-158489": "abc-def", "hive-123456": "abc.def"}},
            'curation.accounts.hive-123456: "abc.def" and "abc-def" would both read their posting key from '
            "HIVECORD_POSTING_KEY_ABC_DEF",
        ),
        ({"daily_votes": 0}, "curation.daily_votes: must be at least 1, found 0"),
        ({"daily_votes": 2.5}, "curation.daily_votes: expected an integer, found float 2.5"),
        ({"vote_margin_hours": -1}, "curation.vote_margin_hours: must be between 0 and 167, found -1"),
        ({"vote_margin_hours": 168}, "curation.vote_margin_hours: must be between 0 and 167, found 168"),
        ({"vote_margin_hours": float("nan")}, "curation.vote_margin_hours: must be between 0 and 167, found nan"),
        ({"acounts": {}}, "curation.acounts: unknown key (did you mean curation.accounts?)"),
    ],
)
def test_problems_name_their_key(data: dict[str, Any], expected: str) -> None:
    problems = problems_of({"curation": data})
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems


def test_every_bad_entry_of_the_table_is_named() -> None:
    problems = problems_of(
        {"curation": {"accounts": {"hive-1": "a.b", "hive-158489": "animerealm.cur", "hive-123456": "x"}}}
    )
    assert [p.split(":")[0] for p in problems] == ["curation.accounts.hive-1", "curation.accounts.hive-123456"]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"HIVECORD_CURATION__ACCOUNTS": "hive-158489"}, "HIVECORD_CURATION__ACCOUNTS (curation.accounts): expected a"),
        (
            {"HIVECORD_CURATION__ACCOUNTS": "hive-158489=a.b.c,hive-158489=d.e.f"},
            "HIVECORD_CURATION__ACCOUNTS (curation.accounts): expected a table of strings",
        ),
        (
            {"HIVECORD_CURATION__ACCOUNTS": "hive-158489=Bad_Name"},
            'HIVECORD_CURATION__ACCOUNTS (curation.accounts.hive-158489): "Bad_Name" is not a Hive account name',
        ),
        ({"HIVECORD_CURATION__DAILY_VOTES": "many"}, "HIVECORD_CURATION__DAILY_VOTES (curation.daily_votes): expected"),
        ({"HIVECORD_POSTING_KEY": "x"}, "HIVECORD_POSTING_KEY: a posting key's variable names its account"),
        ({"HIVECORD_CURATION__POSTING_KEY": WIF}, "HIVECORD_CURATION__POSTING_KEY: unknown setting; a posting key's"),
        ({"HIVECORD_POSTINGKEY_ANIMEREALM_CUR": WIF}, "HIVECORD_POSTINGKEY_ANIMEREALM_CUR: unknown setting; a posting"),
    ],
)
def test_bad_variables(env: dict[str, str], expected: str) -> None:
    problems = problems_of({}, env)
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems
    never_echoed(problems)


def test_posting_key_variables_are_keys_not_settings() -> None:
    env = {"HIVECORD_POSTING_KEY_ANIMEREALM_CUR": WIF, "HIVECORD_POSTING_KEY_OTHER_CUR": "not even a key"}
    config = parse_config({"curation": {"accounts": {"hive-158489": "animerealm.cur"}}}, env=env)
    assert config.from_env == ()  # secrets, not settings: not listed among the variables that set one


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"curation": {"posting_key": WIF}}, "curation.posting_key: remove this key from the file"),
        ({"curation": {"postingKey": "x"}}, "curation.postingKey: remove this key from the file"),
        ({"curation": {"keys": {"animerealm.cur": {"wif": WIF}}}}, "curation.keys.animerealm.cur.wif: remove this"),
        ({"posting_key": WIF}, "posting_key: remove this key from the file"),
        ({"curation": {"accounts": {"hive-158489": WIF}}}, "curation.accounts.hive-158489: this looks like a private"),
        ({"discord": {"api_base": WIF}}, "discord.api_base: this looks like a private key"),
        ({"hive": {"nodes": ["https://api.hive.blog", WIF]}}, "hive.nodes[1]: this looks like a private key"),
        ({"notes": {"x": f"my key is {WIF}"}}, "notes.x: this looks like a private key"),
    ],
)
def test_a_private_key_in_the_file_is_refused_once_without_its_value(data: dict[str, Any], where: str) -> None:
    problems = problems_of(data)
    never_echoed(problems)
    mine = [p for p in problems if p.startswith(where)]
    assert len(mine) == 1, problems
    assert "HIVECORD_POSTING_KEY_<ACCOUNT>" in mine[0]
    # The place holding the key is named once: its own check (an URL, an account name) says nothing more.
    assert sum(p.startswith(where.split(":")[0] + ":") for p in problems) == 1, problems


def test_a_private_key_in_a_settings_variable_is_refused_without_its_value() -> None:
    env = {"HIVECORD_CURATION__ACCOUNTS": f"hive-158489={WIF}", "HIVECORD_DISCORD__API_BASE": WIF}
    problems = problems_of({}, env)
    never_echoed(problems)
    assert len(problems) == 2, problems
    assert problems[0].startswith("HIVECORD_CURATION__ACCOUNTS (curation.accounts): this looks like a private key")
    assert problems[1].startswith("HIVECORD_DISCORD__API_BASE (discord.api_base): this looks like a private key")


def test_no_setting_is_named_like_a_secret() -> None:
    # A setting whose name read as a key's would be refused in every file that sets it.
    assert not [s.path for s in SETTINGS if is_key_name(s.key) or is_key_name(s.section)]
