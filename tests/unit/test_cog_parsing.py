"""What members type into commands, read once for every cog (cogs/utils/): pure, so tested as functions."""

from __future__ import annotations

import pytest

from bot.command_tree import UserError
from cogs.utils.choices import at_most, choice
from cogs.utils.parsing import AccountList, parse_community

LIST = AccountList("the curators", "curators per feed", "animerealm.cur, reader01", 3)


def test_an_account_list_is_read_as_the_chain_spells_it_each_once() -> None:
    assert LIST.parse(" @AnimeRealm.Cur, reader01  reader01,,") == ["animerealm.cur", "reader01"]
    assert LIST.parse(None) == [] and LIST.parse("") == []


@pytest.mark.parametrize("typed", ["reader01, not an account!!", "reader01, `x`y", "a"])
def test_a_bad_entry_is_named_and_cannot_break_out_of_its_quotes(typed: str) -> None:
    with pytest.raises(UserError) as refused:
        LIST.parse(typed)
    text = str(refused.value)
    assert "is not a Hive account name" in text and "List the curators" in text and "`animerealm.cur, reader01`" in text
    quoted = text.split("`")[1]
    assert set(quoted) <= set("abcdefghijklmnopqrstuvwxyz0123456789.@_-?"), quoted


def test_a_list_past_its_cap_is_refused_counting_each_account_once() -> None:
    assert LIST.parse("aaa, bbb, ccc, aaa") == ["aaa", "bbb", "ccc"]
    with pytest.raises(UserError, match="At most 3 curators per feed"):
        LIST.parse("aaa, bbb, ccc, ddd")


def test_a_community_id_is_read_lowercase_or_refused_with_the_form_to_type() -> None:
    assert parse_community(" Hive-158489 ") == "hive-158489"
    with pytest.raises(UserError, match=r"is not a community id.*like `hive-158489`"):
        parse_community("anime realm")


def test_autocomplete_answers_stay_within_discords_limits() -> None:
    long = "x" * 150
    assert (choice(long).name, choice(long).value) == ("x" * 100, "x" * 100)
    assert (choice("@reader01", "reader01").name, choice("@reader01", "reader01").value) == ("@reader01", "reader01")
    assert len(at_most(choice(str(i)) for i in range(40))) == 25
