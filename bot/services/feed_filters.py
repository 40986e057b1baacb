"""A feed's filter as an admin types it: tag and account lists checked against Hive's spelling, capped."""

from __future__ import annotations

import math
import re

from bot.domain import FeedFilter
from bot.hive.names import account_names, is_community
from bot.services import Refused

MAX_TAGS = 10  # per list: a post carries ~5 tags, so more is a typo or a paste
MAX_ACCOUNTS = 50  # per list, like the muted accounts of a feed's threads
MAX_TEXT = 1000  # characters of one option, before anything is split
# Hive front ends show reputations from about -25 (spammers pushed down) to the high 80s.
REPUTATION_RANGE = (-100.0, 100.0)
# A tag as Hive front ends let authors write it: lowercase letters, digits and dashes, 24 at most.
_TAG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,22}[a-z0-9])?")


def _within_length(text: str, option: str) -> str:
    if len(text) > MAX_TEXT:
        raise Refused(f"`{option}` is too long: at most {MAX_TEXT} characters, names separated by commas.")
    return text


def _entries(text: str | None, option: str) -> list[str]:
    return [n for n in re.split(r"[,\s]+", _within_length(text, option)) if n.strip()] if text else []


def _shown(text: str) -> str:
    """A bad entry quoted back: only characters that cannot break the answer's markdown."""
    return re.sub(r"[^a-z0-9.#_-]", "?", text.lower()[:40]) or "?"


def tag_list(text: str | None, option: str) -> tuple[str, ...]:
    """Hive tags from "anime, #Manga": lowercased, without '#', each once. Refused naming the first bad one."""
    tags: list[str] = []
    for entry in _entries(text, option):
        tag = entry.strip().lstrip("#").lower()
        if is_community(tag):
            raise Refused(f"`{tag}` in `{option}` is a community id, not a tag: a feed follows one community already.")
        if not _TAG.fullmatch(tag):
            raise Refused(
                f"`{_shown(entry)}` in `{option}` is not a Hive tag (lowercase letters, digits and dashes, at most"
                " 24). List tags separated by commas, like `anime, manga-review`."
            )
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise Refused(f"At most {MAX_TAGS} tags in `{option}`, please.")
    return tuple(sorted(tags))


def account_list(text: str | None, option: str, *, cap: int = MAX_ACCOUNTS) -> tuple[str, ...]:
    """Hive accounts from "reader01, @Spammer01": as the chain spells them, each once."""
    if not text:
        return ()
    names, bad = account_names(_within_length(text, option))
    if bad is not None:
        raise Refused(
            f"`{_shown(bad)}` in `{option}` is not a Hive account name (3-16 lowercase letters, digits,"
            " dots or dashes). List accounts separated by commas, like `reader01, spammer01`."
        )
    if len(names) > cap:
        raise Refused(f"At most {cap} accounts in `{option}`, please.")
    return tuple(names)


def feed_filter(
    *,
    tags: str | None = None,
    exclude_tags: str | None = None,
    authors: str | None = None,
    exclude_authors: str | None = None,
    min_reputation: float | None = None,
) -> FeedFilter:
    """The filter /feed add was given; Refused, in words, for anything Hive could never match."""
    if min_reputation is not None:
        low, high = REPUTATION_RANGE
        if not math.isfinite(min_reputation) or not low <= min_reputation <= high:
            raise Refused(
                f"`min_reputation` is a reputation score as Hive sites show it, from {low:g} to {high:g}"
                " (a new account has 25)."
            )
        min_reputation = round(min_reputation, 2)
    made = FeedFilter(
        tags=tag_list(tags, "tags"),
        exclude_tags=tag_list(exclude_tags, "exclude_tags"),
        authors=account_list(authors, "authors"),
        exclude_authors=account_list(exclude_authors, "exclude_authors"),
        min_reputation=min_reputation,
    )
    both = set(made.tags) & set(made.exclude_tags) or set(made.authors) & set(made.exclude_authors)
    if both:
        raise Refused(f"`{min(both)}` is both wanted and excluded; name it in one of the two lists.")
    return made


def describe_filter(f: FeedFilter, *, shown: int | None = None) -> list[str]:
    """The filter as lines for /feed add and /feed list; `shown` cuts each list to "+N more"."""
    lines: list[str] = []
    for label, names in (
        ("tags (any of)", f.tags),
        ("not tags", f.exclude_tags),
        ("authors", f.authors),
        ("not authors", f.exclude_authors),
    ):
        if names:
            cut = names if shown is None else names[:shown]
            more = len(names) - len(cut)
            lines.append(f"{label}: " + ", ".join(cut) + (f" +{more} more" if more else ""))
    if f.min_reputation is not None:
        lines.append(f"authors' reputation at least {f.min_reputation:g}")
    return lines
