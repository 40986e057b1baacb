"""Which anime/manga series a review is about, from its title and tags.

Pure functions, no I/O. Only the title and tags are evidence: a review body names plenty of other
shows ("like in Akira or Cyberpunk"), so it is never consulted. The tag confirms *which* words of
the title are the series; the title supplies the readable spelling ("metallicrouge" -> "Metallic Rouge").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.series.words import COMMUNITY_TAG, FILLER_KEYS, LEADING_CONNECTORS, MAX_TAG, is_generic_key, is_trimmable
from bot.text.safe import truncate

MAX_DISPLAY = 100
# Hive titles are at most 255 bytes; anything longer is not a real title and only costs time.
_MAX_TITLE = 400
_MAX_TAGS = 30
# Longest title span tried against the tags, and most words a fallback phrase may have.
_MAX_SPAN_WORDS = 12
_MAX_PHRASE_WORDS = 8
# Title-case words a tag-confirmed prefix may be extended by ("Pokémon" + "Horizons").
_MAX_EXTENSION_WORDS = 3

_KANA_VOICING = ("\u3099", "\u309a")


# Sentinel characters standing for delimiters once the title is cleaned; private-use code points
# so they can never come from the input (the cleaner replaces those).
_DELIM = "\ue000"  # | — – · • ~ brackets, emoji, decoration
_COMMA = "\ue001"  # , ; — weak: names rarely contain them, but subtitles follow them
_QUOTE = "\ue002"  # quotes of any kind
_EPISODE = "\ue003"  # "Episode 4", "Season 2", "Vol. 3": the series is right before it
_REVIEW = "\ue004"  # "Review", "Reseña", "Análisis": the series is right after (or before) it
_COLON = "\ue005"  # ": " is soft: a subtitle separator ("X: my thoughts") or part of a name
_SENTINELS = frozenset({_DELIM, _COMMA, _QUOTE, _EPISODE, _REVIEW, _COLON})

_STRONG_CHARS = "|¦‖•·~—–()[]{}<>【】〔〕〈〉《》〖〗（）［］｜\\…"
_QUOTE_CHARS = '"«»“”„‟『』「」＂'
_KEEP_SYMBOLS = "×&+!?'’.-:#/"

_EPISODE_MARKER = re.compile(
    r"\b(?:episodes?|episodios?|eps?|chapters?|ch|cap[ií]tulos?|caps?|seasons?|temporadas?|vol|volumes?"
    r"|vol[uú]men(?:es)?|tomos?|parts?|partes?|arcs?|arcos?)\.?[ \t]*#?[ \t]*\d{1,4}(?:[-–][ \t]*\d{1,4})?\b"
    r"|\b\d{1,2}(?:st|nd|rd|th|ª|º|°|a|da)[ \t]+(?:season|temporada)\b"
    r"|\bs\d{1,2}(?:[ \t]*e\d{1,4})?\b"
    r"|#\d{1,4}\b",
    re.IGNORECASE,
)
_REVIEW_MARKER = re.compile(
    r"\b(?:reviews?|rese[ñn]as?|an[aá]lisis|cr[ií]tica|opini[oó]n|recap|impressions)\b[ \t]*:?",
    re.IGNORECASE,
)
# A hyphen or slash with space on a side is a separator; inside a word ("Kaguya-sama", "Fate/Zero")
# it is part of the name.
_SPACED_DASH = re.compile(r"(?:^|[ \t])[-/]+(?=[ \t]|$)|(?<=\S)[-/]+(?=[ \t]|$)")
_COLON_SEP = re.compile(r"[:：](?=[ \t]|$)|(?<=[ \t])[:：]")
_TAG_LIKE = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
_WHITESPACE = re.compile(r"\s+")


# --------------------------------------------------------------------------------------------
# keys and display names


def series_key(name: str) -> str:
    """Comparison key: accents dropped, casefolded, only letters and digits ("Re:Zero" -> "rezero")."""
    # Checked before the cache: an unhashable argument must give "", not a TypeError.
    if not isinstance(name, str):
        return ""
    return _key(name[:_MAX_TITLE])


@lru_cache(maxsize=4096)
def _key(name: str) -> str:
    name = name.replace("×", "x").replace("✕", "x").replace("✖", "x")
    decomposed = unicodedata.normalize("NFKD", name)
    # Drop accents, but keep the kana voicing marks: か and が are different words.
    kept = "".join(ch for ch in decomposed if ch in _KANA_VOICING or not unicodedata.combining(ch)).casefold()
    return "".join(ch for ch in unicodedata.normalize("NFC", kept) if ch.isalnum())


def _capitalise(word: str) -> str:
    # str.title() would give "Journey'S" and lower the rest of "McDonald"; only touch the first letter.
    for i, ch in enumerate(word):
        if ch.isalpha():
            return word[:i] + ch.upper() + word[i + 1 :]
    return word


def display_series(name: str) -> str:
    """Tidy a typed or tag-derived series name for display (<= 100 chars, "" for nothing usable)."""
    if not isinstance(name, str):
        return ""
    name = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in name[: _MAX_TITLE * 2])
    name = _WHITESPACE.sub(" ", name).strip()
    if not name:
        return ""
    if _TAG_LIKE.fullmatch(name):
        # "one-piece" / "one_piece" are tags: their separators were spaces.
        name = name.replace("-", " ").replace("_", " ")
    if not any(ch.isupper() for ch in name) and any(ch.islower() for ch in name):
        name = " ".join(_capitalise(word) for word in name.split(" "))
    return truncate(name, MAX_DISPLAY)


# --------------------------------------------------------------------------------------------
# title analysis


@dataclass(frozen=True)
class _Word:
    text: str
    key: str
    colon_after: bool  # a soft ":" separator follows this word


@dataclass(frozen=True)
class _Segment:
    """Words between two strong delimiters, with what bounded them on each side."""

    words: tuple[_Word, ...]
    left: frozenset[str]
    right: frozenset[str]


def _clean_title(title: str) -> str:
    """Title with decoration turned into delimiter sentinels and markers into marker sentinels."""
    title = unicodedata.normalize("NFC", title[:_MAX_TITLE])
    out: list[str] = []
    for ch in title:
        category = unicodedata.category(ch)
        if ch in _QUOTE_CHARS:
            out.append(f" {_QUOTE} ")
        elif ch in _STRONG_CHARS:
            out.append(f" {_DELIM} ")
        elif ch in ",;，、；":
            out.append(f" {_COMMA} ")
        elif ch in _KEEP_SYMBOLS or category[0] in "LN" or category in ("Mn", "Mc"):
            out.append(ch)
        elif category[0] == "Z" or ch in "\t\n\r":
            out.append(" ")
        elif category in ("Cf", "Me") or ch in "\ufe0e\ufe0f":
            # Zero-width joiners, variation selectors, keycap marks: parts of an emoji, not a break.
            continue
        else:
            # Emoji, dingbats, math and currency signs, stray punctuation: decoration.
            out.append(f" {_DELIM} ")
    text = "".join(out)
    text = _SPACED_DASH.sub(f" {_DELIM} ", text)
    text = _EPISODE_MARKER.sub(f" {_EPISODE} ", text)
    text = _REVIEW_MARKER.sub(f" {_REVIEW} ", text)
    return _COLON_SEP.sub(f" {_COLON} ", text)


def _segments(title: str) -> list[_Segment]:
    segments: list[_Segment] = []
    words: list[_Word] = []
    left: set[str] = {"start"}
    pending: set[str] = set()  # delimiters seen since the last word
    for token in _clean_title(title).split():
        if token == _COLON:
            if words and not pending:
                words[-1] = _Word(words[-1].text, words[-1].key, True)
            continue
        if token in _SENTINELS:
            pending.add(token)
            continue
        # Quotes and stray punctuation stuck to a word; "!", "?" and "." stay ("K-On!", "Dr. Stone").
        text = token.lstrip("'’.-:/").rstrip("'’-:/")
        if not text:
            continue
        if pending:
            if words:
                segments.append(_Segment(tuple(words), frozenset(left), frozenset(pending)))
                words = []
                left = set()
            left |= pending
            pending = set()
        words.append(_Word(text, series_key(text), False))
    if words:
        segments.append(_Segment(tuple(words), frozenset(left), frozenset(pending | {"end"})))
    return segments


def _join(words: Sequence[_Word]) -> str:
    parts = [word.text + (":" if word.colon_after else "") for word in words]
    text = " ".join(parts).rstrip(":")
    # A sentence's full stop is not part of the name; "Dr." or "K-On!" endings stay.
    if text.endswith(".") and not text.endswith("..") and len(words[-1].key) > 3:
        text = text[:-1]
    return text


def _trim(words: Sequence[_Word], after_review: bool) -> tuple[_Word, ...]:
    """Drop generic words at the edges ("anime", "review"), and "of"/"de" right after a marker."""
    start, end = 0, len(words)
    while start < end and (is_trimmable(words[start].key) or (after_review and words[start].key in LEADING_CONNECTORS)):
        start += 1
    while end > start and is_trimmable(words[end - 1].key):
        end -= 1
    return tuple(words[start:end])


def _title_like(word: _Word) -> bool:
    """Starts with a capital, a digit, or is in a script without case (CJK, Arabic...)."""
    for ch in word.text:
        if ch.isalpha():
            return ch.isupper() or not ch.islower()
        if ch.isdigit():
            return True
    return False


# --------------------------------------------------------------------------------------------
# tag alignment


@dataclass(frozen=True, order=True)
class _Match:
    rank: int  # 3: equals a tag (or extends one by title-case words), 2: inside a tag, 1: contains one
    length: int  # key length: the longest confirmed span wins
    tag_priority: int  # earlier tags first
    position: int  # earlier in the title first
    text: str


def _usable_tags(tags: object, community: str | None) -> list[tuple[str, str]]:
    """(key, tag) for each tag that could name a series, in the author's order, without repeats."""
    if isinstance(tags, str):
        tags = [tags]
    if not isinstance(tags, Sequence):
        return []
    skip = series_key(community) if isinstance(community, str) else ""
    usable: list[tuple[str, str]] = []
    for tag in list(tags[:_MAX_TAGS]):
        if not isinstance(tag, str) or len(tag) > MAX_TAG or COMMUNITY_TAG.fullmatch(tag.strip()):
            continue
        key = series_key(tag)
        if len(key) < 2 or key == skip or is_generic_key(key) or any(key == k for k, _ in usable):
            continue
        usable.append((key, tag.strip()))
    return usable


def _extension(segment: _Segment, stop: int) -> int | None:
    """End of the phrase a tag-confirmed span words[lead:stop] may grow to, or None.

    Growth goes to the end of a well-delimited phrase only (no comma after it, no colon crossed)
    and only over a few title-case words: "Reseña: Pokémon Horizons" + tag "pokemon".
    """
    words = segment.words
    end = stop
    while end < len(words) and not words[end - 1].colon_after:
        end += 1
    grown = words[stop:end]
    if not grown or len(grown) > _MAX_EXTENSION_WORDS:
        return None
    if end == len(words) and segment.right <= {_COMMA}:
        return None
    if not all(w.key and _title_like(w) and not is_generic_key(w.key) for w in grown):
        return None
    return end


def _tag_matches(segments: Sequence[_Segment], tags: Sequence[str]) -> list[_Match]:
    """Every title word span that a tag confirms, scored; the caller takes the best."""
    matches: list[_Match] = []
    position = 0
    for segment in segments:
        words = segment.words
        # Where the phrase proper starts once "Anime"/"Review"-like words are skipped.
        lead = 0
        while lead < len(words) and is_trimmable(words[lead].key):
            lead += 1
        for i in range(len(words)):
            if not words[i].key:
                continue
            key = ""
            for j in range(i, min(len(words), i + _MAX_SPAN_WORDS)):
                key += words[j].key
                span = words[i : j + 1]
                if not words[j].key or all(is_generic_key(w.key) for w in span):
                    continue
                where = -(position + i)
                for priority, tag in enumerate(tags):
                    if key == tag:
                        matches.append(_Match(3, len(key), -priority, where, _join(span)))
                        grown = _extension(segment, j + 1) if i == lead else None
                        if grown is not None:
                            longer = words[i:grown]
                            length = sum(len(w.key) for w in longer)
                            matches.append(_Match(3, length, -priority, where, _join(longer)))
                    elif len(key) >= 4 and key in tag and 3 * len(key) >= len(tag):
                        matches.append(_Match(2, len(key), -priority, where, _join(span)))
                    elif len(tag) >= 4 and i == j and tag in key:
                        # One word holding the tag ("OnePieceFilmRed" for "onepiece").
                        matches.append(_Match(1, len(key), -priority, where, _join(span)))
        position += len(words)
    return matches


# --------------------------------------------------------------------------------------------
# fallback: a well-delimited title phrase


def _acceptable_phrase(words: Sequence[_Word], lowercase_title: bool) -> bool:
    if not words or len(words) > _MAX_PHRASE_WORDS:
        return False
    key = "".join(w.key for w in words)
    if len(key) < 2 or is_generic_key(key):
        return False
    if all(is_generic_key(w.key) or w.key in FILLER_KEYS for w in words):
        return False
    # Series names are written capitalised; "my week in review" is not one.
    return lowercase_title or _title_like(words[0])


def _title_phrase(segments: Sequence[_Segment], title: str) -> str | None:
    lowercase_title = not any(ch.isupper() for ch in title)
    # Best evidence first: a quoted name, the name after "Review:", before "Episode 3", before "review".
    tiers: list[list[tuple[_Word, ...]]] = [[], [], [], []]
    for segment in segments:
        after_review = _REVIEW in segment.left
        words = _trim(segment.words, after_review)
        if _QUOTE in segment.left and _QUOTE in segment.right:
            tiers[0].append(words)
        if after_review:
            # Up to a colon: "Review: Metallic Rouge: Mars, machines" names "Metallic Rouge".
            head = words
            for k, word in enumerate(words):
                if word.colon_after:
                    head = words[: k + 1]
                    break
            tiers[1].append(head)
        if _EPISODE in segment.right:
            tiers[2].append(words)
        if _REVIEW in segment.right:
            tiers[3].append(words)
    for tier in tiers:
        for words in tier:
            if _acceptable_phrase(words, lowercase_title):
                return _join(words)
    return None


# --------------------------------------------------------------------------------------------
# entry point


def detect_series(title: str, tags: Sequence[str], community: str | None = None) -> str | None:
    """Display name of the series a review is about, or None when title and tags do not say.

    Order of evidence: a title span confirmed by a tag (the longest wins, so "Reseña: Pokémon
    Horizons" + tag "pokemon" gives "Pokémon Horizons"); then a well-delimited title phrase
    (quoted, after "Review:", before "Episode N"/"review"); then the first non-generic tag.
    """
    title = title if isinstance(title, str) else ""
    usable = _usable_tags(tags, community)
    segments = _segments(title)

    matches = _tag_matches(segments, [key for key, _ in usable])
    if matches:
        name = display_series(max(matches).text)
        if name:
            return name

    phrase = _title_phrase(segments, title)
    if phrase:
        name = display_series(phrase)
        if name:
            return name

    # No title evidence: the author's own tag is still better than nothing ("one-piece" -> "One Piece").
    for key, tag in usable:
        if len(key) >= 3:
            return display_series(tag) or None
    return None
