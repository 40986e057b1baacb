"""Which shards a process serves: `--shards IDS/COUNT` and discord.shard_ids / shard_count, with clear refusals."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.config.load import ConfigError, parse_config
from bot.process.shards import Shards, parse_ids, parse_shards
from tests.helpers import hivecord


def test_ids_and_ranges() -> None:
    assert parse_ids("") == ()
    assert parse_ids("3") == (3,)
    assert parse_ids("0-3, 6") == (0, 1, 2, 3, 6)
    assert parse_ids("2,1,1-2") == (1, 2)
    for nonsense, said in (("a", "'a' is not a shard id"), ("3-1", "runs backwards"), ("1,,2", "'' is not"),
                           ("-1", "'-1' is not"), ("70000", "more than 65535")):  # fmt: skip
        with pytest.raises(ValueError, match=said):
            parse_ids(nonsense)


def test_shards_flag() -> None:
    assert parse_shards("0-3/8") == Shards((0, 1, 2, 3), 8)
    assert parse_shards("1/2") == Shards((1,), 2)
    refused = [("1", "not IDS/COUNT"), ("/2", "not IDS/COUNT"), ("0/x", "not IDS/COUNT"), ("0/0", "must be 1 or more")]
    refused.append(("2/2", "shard id 2 is not below the shard count 2"))
    for nonsense, said in refused:
        with pytest.raises(ValueError, match=said):
            parse_shards(nonsense)


def test_what_the_client_is_given_and_who_syncs_commands() -> None:
    assert Shards().client_options() == {} and Shards().syncs_commands
    assert Shards((), 4).client_options() == {"shard_count": 4, "shard_ids": [0, 1, 2, 3]}
    assert Shards((1, 3), 4).client_options() == {"shard_count": 4, "shard_ids": [1, 3]}
    assert Shards((0, 1), 4).syncs_commands and not Shards((1,), 2).syncs_commands
    assert Shards((1,), 0).problem() == "shard ids need a shard count (discord.shard_count, or --shards IDS/COUNT)"
    assert Shards((0, 5), 4).problem() == "shard id 5 is not below the shard count 4 (ids are 0 to 3)"


def test_the_settings_read_and_refuse_nonsense() -> None:
    config = parse_config({"discord": {"shard_count": 8, "shard_ids": "0-3"}})
    assert (config.discord.shard_count, config.discord.shard_ids) == (8, (0, 1, 2, 3))
    env = parse_config({}, env={"HIVECORD_DISCORD__SHARD_IDS": "1", "HIVECORD_DISCORD__SHARD_COUNT": "2"})
    assert (env.discord.shard_count, env.discord.shard_ids) == (2, (1,))
    with pytest.raises(ConfigError) as refused:
        parse_config({"discord": {"shard_count": -1, "shard_ids": "x"}})
    assert any(line.startswith("discord.shard_ids: 'x' is not a shard id") for line in refused.value.problems)
    assert any(line.startswith("discord.shard_count:") for line in refused.value.problems)


def test_run_refuses_nonsense_shards_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--shards", "4/4"])
    assert isinstance(build_parser().parse_args(["run", "--shards", "0-1/4"]).shards, Shards)
    config = tmp_path / "config.toml"
    config.write_text('[discord]\nshard_ids = "1"\n')
    result = hivecord("run", "--config", str(config))
    assert result.returncode == 2 and result.stderr.strip().count("\n") == 0, result.stderr
    assert "shard ids need a shard count" in result.stderr
    result = hivecord("run", "--shards", "5/2")
    assert result.returncode == 2 and "shard id 5 is not below the shard count 2" in result.stderr, result.stderr


def test_argparse_type_error_is_what_argparse_shows() -> None:
    from bot.cli import _shards

    with pytest.raises(argparse.ArgumentTypeError, match="not IDS/COUNT"):
        _shards("eight")
