"""Characters that show nothing but change how text reads, compares or renders, and their removal.

Pure, no I/O: zero-width and format characters, variation selectors, tag characters. Kept where they
do visible work (joiners in scripts that shape letters, an emoji's presentation selector, tag flags).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Format characters (Unicode category Cf) that render visibly: the prepended concatenation marks
# (Arabic number signs and the like, PropList.txt). Every other Cf character is invisible.
_VISIBLE_FORMAT = frozenset([*range(0x0600, 0x0606), 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2, 0x110BD, 0x110CD])
# Unicode's Other_Default_Ignorable_Code_Point (PropList.txt: the Hangul fillers, the combining
# grapheme joiner, the Khmer inherent vowels, the unassigned rest of the tag plane) plus blanks
# that Unicode does not call ignorable but that render as nothing: the Braille blank.
_OTHER_INVISIBLE = (
    (0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x2065, 0x2065), (0x3164, 0x3164), (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8), (0xE0000, 0xE0FFF), (0x2800, 0x2800),
)  # fmt: skip
# Variation selectors: they pick a glyph for the character before them, and show nothing alone.
_SELECTORS = ((0x180B, 0x180D), (0x180F, 0x180F), (0xFE00, 0xFE0F), (0xE0100, 0xE01EF))
# Cf characters live in planes 0, 1 and 14 only (planes 2-3 are ideographs, 15-16 private use).
_SCANNED = (range(0x20000), range(0xE0000, 0xE1000))


def _ranges(codes: Iterable[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for code in sorted(set(codes)):
        if out and code == out[-1][1] + 1:
            out[-1] = (out[-1][0], code)
        else:
            out.append((code, code))
    return out


def _class(ranges: Iterable[tuple[int, int]]) -> str:
    return "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges)


_FORMAT = [
    code
    for plane in _SCANNED
    for code in plane
    if code not in _VISIBLE_FORMAT and unicodedata.category(chr(code)) == "Cf"
]
_INVISIBLE_RANGES = _ranges([*_FORMAT, *(c for a, b in (*_OTHER_INVISIBLE, *_SELECTORS) for c in range(a, b + 1))])
# An emoji tag sequence (the flags of England, Scotland, Wales): black flag, tag letters, cancel tag.
_TAG_FLAG = "\U0001f3f4[\U000e0020-\U000e007e]{1,30}\U000e007f"
_INVISIBLE = re.compile(f"(?P<flag>{_TAG_FLAG})|[{_class(_INVISIBLE_RANGES)}]")
# Where a match of _INVISIBLE can start: its characters of the Basic Multilingual Plane, or any
# character beyond it. Scanned for quickly (one table lookup a character), where _INVISIBLE's
# ranges beyond the plane are tried one by one at every position.
_CANDIDATE = re.compile(f"[{_class(r for r in _INVISIBLE_RANGES if r[1] <= 0xFFFF)}\U00010000-\U0010ffff]")
_ZWNJ, _ZWJ = "\u200c", "\u200d"
# Scripts from Hebrew on (Arabic, Persian, Syriac, the Indic scripts...) shape letters with joiners;
# Latin, Greek and Cyrillic never need them, so there a joiner can only disguise a word.
_JOINING_SCRIPTS = 0x0590


def _is_selector(ch: str) -> bool:
    code = ord(ch)
    return any(a <= code <= b for a, b in _SELECTORS)


def _keep_invisible(match: re.Match[str]) -> str:
    """The match if it does a visible job where it stands (an emoji or flag sequence, a joining script)."""
    if match.group("flag"):
        return match.group(0)
    text, at = match.string, match.start()
    ch = match.group(0)
    prev = text[at - 1] if at > 0 else " "
    after_ch = text[at + 1] if at + 1 < len(text) else " "
    before, after = unicodedata.category(prev), unicodedata.category(after_ch)
    if _is_selector(ch):
        # Only right after a character it can style: a symbol (emoji), a keycap base, a letter of a
        # script with variants (CJK, Mongolian). After a Latin letter, a space or another selector,
        # or alone, it is filler.
        styled = before[0] == "S" or prev in "0123456789#*" or (ord(prev) >= _JOINING_SCRIPTS and before[0] in "LNP")
        return ch if styled else ""
    if ch == _ZWJ and after == "So" and (before in ("So", "Sk") or prev == "\ufe0f"):
        return ch  # an emoji ZWJ sequence: 👩‍💻, 🏳️‍🌈
    joined = before[0] in "LM" and after[0] in "LM" and min(ord(prev), ord(after_ch)) >= _JOINING_SCRIPTS
    return ch if ch in (_ZWJ, _ZWNJ) and joined else ""


def strip_invisible(text: str) -> str:
    """`text` without the characters that render as nothing: format and bidi controls (category Cf),
    the default-ignorable fillers (Hangul fillers, tag characters, lone variation selectors) and blanks.

    Kept where they do a visible job: emoji ZWJ sequences, flag tag sequences, a variation selector
    after the character it styles, joiners between letters of scripts that join.
    """
    # As _INVISIBLE.sub(_keep_invisible, text), but jumping to where the next match can start first.
    out: list[str] = []
    pos = 0
    candidate = _CANDIDATE.search(text)
    while candidate is not None:
        match = _INVISIBLE.search(text, candidate.start())
        if match is None:
            break
        out += [text[pos : match.start()], _keep_invisible(match)]
        pos = match.end()
        candidate = _CANDIDATE.search(text, pos)
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)
