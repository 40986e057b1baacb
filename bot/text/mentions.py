"""Discord's mention syntax turned into the names it shows, for text that leaves Discord (a reply on Hive):
`<@id>` is only a number anywhere else, and on chain it would stay one for good."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_MENTION = re.compile(r"<(@!?|@&|#)(\d{1,20})>|<a?:(\w{1,32}):\d{1,20}>")


@dataclass(frozen=True, slots=True)
class MentionIds:
    users: frozenset[int]
    channels: frozenset[int]
    roles: frozenset[int]


def mention_ids(text: str) -> MentionIds:
    """The members, channels and roles `text` mentions in Discord's syntax."""
    found: dict[str, set[int]] = {"@": set(), "@!": set(), "#": set(), "@&": set()}
    for match in _MENTION.finditer(text):
        if match.group(1):
            found[match.group(1)].add(int(match.group(2)))
    return MentionIds(frozenset(found["@"] | found["@!"]), frozenset(found["#"]), frozenset(found["@&"]))


def plain_mentions(
    text: str, users: Mapping[int, str], channels: Mapping[int, str], roles: Mapping[int, str]
) -> str:
    """`text` with `<@id>`/`<@!id>` as `@display name`, `<#id>` as `#channel-name`, `<@&id>` as `@role name`
    and a custom emoji as `:name:`, in one pass (a name holding mention syntax is not read again). An id
    missing from the maps becomes words that say so rather than a number. `@everyone` and `@here` stay as
    typed: plain text on chain; the bot never lets them ping in Discord."""

    def named(match: re.Match[str]) -> str:
        kind, raw = match.group(1), match.group(2)
        if kind is None:
            return f":{match.group(3)}:"
        ident = int(raw)
        if kind == "#":
            return f"#{channels.get(ident, 'unknown-channel')}"
        if kind == "@&":
            return f"@{roles.get(ident, 'unknown role')}"
        return f"@{users.get(ident, 'unknown member')}"

    return _MENTION.sub(named, text)
