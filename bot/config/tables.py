"""Settings that are TOML tables of strings: their kind, the read-only mapping the bot gets, and the
check of a table that maps each community id to a Hive account (curation.accounts)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from bot.config.schema import Field, Kind, describe, not_a_community, quote
from bot.hive.names import account_name, account_name_problem
from bot.hive.posting_key import env_name


class Table(Mapping[str, str]):
    """A read-only str -> str mapping that hashes, as a field of the frozen config must."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        self._items = dict(items)

    def __getitem__(self, key: str) -> str:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __repr__(self) -> str:
        return f"Table({self._items!r})"


def _table_text(text: str) -> dict[str, str]:
    # "a=b, c=d" -> {"a": "b", "c": "d"}; "" -> {}. A part without "=", or a key twice, is not a table.
    out: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, eq, value = part.partition("=")
        if not eq or not key.strip() or key.strip() in out:
            raise ValueError(part)
        out[key.strip()] = value.strip()
    return out


TABLE = Kind(
    "a table of strings",
    lambda v: isinstance(v, dict),
    _table_text,
    "comma-separated key=value pairs, e.g. a=b,c=d; empty for none",
)


def community_accounts(value: dict[str, object], field: Field) -> Table:
    """Each key a community id, each value a Hive account name; two accounts whose posting-key
    variables would be the same name (a.b-c and a-b.c) cannot both have a key, so that is refused."""
    good: dict[str, str] = {}
    variables: dict[str, str] = {}
    for community, account in value.items():
        if (wrong := not_a_community(community)) is not None:
            field.problem(wrong, community)
            continue
        if not isinstance(account, str):
            field.problem(f"expected a Hive account name, found {describe(account)}", community)
            continue
        if (why := account_name_problem(account)) is not None:
            fixed = account_name(account)
            hint = f"; did you mean {quote(fixed)}?" if account_name_problem(fixed) is None else ""
            field.problem(f"{quote(account)} is not a Hive account name ({why}{hint})", community)
            continue
        variable = env_name(account)
        other = variables.setdefault(variable, account)
        if other != account:
            field.problem(
                f"{quote(account)} and {quote(other)} would both read their posting key from {variable}; "
                "curation accounts need names that differ in more than dots and hyphens",
                community,
            )
            continue
        good[community] = account
    return Table(good)


def optional_account(value: str, field: Field) -> str:
    """A Hive account name as the chain spells it ("@Name" -> "name"), or "" for none."""
    name = account_name(value)
    if name and (why := account_name_problem(name)) is not None:
        field.problem(f"{quote(value)} is not a Hive account: {why}")
    return name
