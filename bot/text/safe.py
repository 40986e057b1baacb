"""Turn untrusted Hive post text into safe, bounded Discord text.

Pure helpers, no I/O. Hive bodies are user-controlled markdown/HTML of up to ~64 KB, so every regex
here uses bounded quantifiers or no backtracking: a crafted body must not stall the bot.
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import urlsplit

from bot.text.invisible import strip_invisible

ELLIPSIS = "…"
ZWSP = "\u200b"
MAX_URL_LENGTH = 2048
# Longest body we look at; Hive caps bodies at ~64 KB, the margin covers multi-byte accounting.
_MAX_SOURCE = 200_000

# --------------------------------------------------------------------------------------------
# truncate


def _joins_previous(ch: str) -> bool:
    """True for a code point that belongs to the cluster before it (cutting before it breaks it)."""
    cp = ord(ch)
    return (
        unicodedata.category(ch) in ("Mn", "Mc", "Me")
        or cp == 0x200D  # zero-width joiner
        or 0xFE00 <= cp <= 0xFE0F  # variation selectors
        or 0xE0100 <= cp <= 0xE01EF
        or 0x1F3FB <= cp <= 0x1F3FF  # skin-tone modifiers
        or 0xE0020 <= cp <= 0xE007F  # emoji tag sequences (subdivision flags)
        or 0xDC00 <= cp <= 0xDFFF  # low surrogate (only from badly decoded JSON)
    )


def _joins_next(ch: str) -> bool:
    cp = ord(ch)
    return cp == 0x200D or 0xD800 <= cp <= 0xDBFF


def _is_regional_indicator(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _safe_cut(text: str, pos: int) -> int:
    """Largest index <= pos that does not split a combining sequence, emoji sequence or flag."""
    i = max(0, min(pos, len(text)))
    while 0 < i < len(text) and (_joins_previous(text[i]) or _joins_next(text[i - 1])):
        i -= 1
    if 0 < i < len(text) and _is_regional_indicator(text[i]) and _is_regional_indicator(text[i - 1]):
        # Flags are pairs of regional indicators: an odd run before the cut means we are mid-flag.
        run = 0
        j = i - 1
        while j >= 0 and _is_regional_indicator(text[j]):
            run += 1
            j -= 1
        if run % 2:
            i -= 1
    return i


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` code points, ending in "…" when cut.

    Limits are counted in code points (Python's len), as discord.py does.
    """
    if not isinstance(text, str) or limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    if limit == 1:
        return ELLIPSIS
    head = text[: _safe_cut(text, limit - 1)].rstrip()
    return head + ELLIPSIS


def _cut_at_word(text: str, limit: int) -> str:
    """Like truncate, but prefers to end on a word boundary when one is reasonably close."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return truncate(text, limit)
    window = text[: limit - 1]
    # A space right after the window means the window already ends on a whole word.
    if text[limit - 1].isspace():
        cut = limit - 1
    else:
        cut = max(window.rfind(" "), window.rfind("\n"))
        # Without a nearby boundary (one giant word, CJK text) a hard cut reads better than losing half.
        if cut < (limit - 1) // 2:
            cut = _safe_cut(text, limit - 1)
    head = text[:cut].rstrip()
    # "word,…" reads as a typo; drop one dangling separator (one only: the text may be all brackets).
    if len(head) > 1 and head[-1] in ",;:-–—([{":
        head = head[:-1].rstrip()
    return head + ELLIPSIS


# --------------------------------------------------------------------------------------------
# plain_excerpt

# C0/C1 controls except tab and newline.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")

_FENCE_LINE = re.compile(r"^[ \t]{0,3}(?:`{3,}|~{3,})[^\n]*$", re.MULTILINE)
_BREAK_TAG = re.compile(
    r"<\s*(?:br|hr)\b[^<>]{0,500}>"
    r"|<\s*/?\s*(?:p|div|center|h[1-6]|li|ul|ol|tr|table|thead|tbody|blockquote|pre|section|article"
    r"|header|footer|details|summary|figure|figcaption|dl|dt|dd)\b[^<>]{0,500}>",
    re.IGNORECASE,
)
_CELL_END = re.compile(r"<\s*/\s*t[dh]\s*>", re.IGNORECASE)
_ANY_TAG = re.compile(r"<\s*/?\s*[A-Za-z][A-Za-z0-9-]{0,30}(?:\s[^<>]{0,2000})?/?>")
_AUTOLINK = re.compile(r"<(https?://[^<>\s]{1,2048})>", re.IGNORECASE)
_MD_IMAGE = re.compile(r"!\[[^\[\]\n]{0,500}\]\([^()\s]{0,2048}(?:\s+\"[^\"\n]{0,300}\")?\)")
_MD_LINK = re.compile(r"\[([^\[\]\n]{0,500})\]\([^()\n]{0,2048}\)")
_MD_REF_LINK = re.compile(r"\[([^\[\]\n]{1,500})\]\[[^\[\]\n]{0,200}\]")
_MD_REF_DEF = re.compile(r"^[ \t]{0,3}\[[^\[\]\n]{1,200}\]:[ \t]*\S+[^\n]*$", re.MULTILINE)
# Bare image URLs: Hive front ends render them as pictures, in an excerpt they are noise.
_BARE_URL = re.compile(r"https?://[^\s<>()\[\]\"']{1,2048}", re.IGNORECASE)
_IMAGE_EXT = (".png", ".jpg", ".jpeg", ".gif", ".webp")
_BLOCKQUOTE = re.compile(r"^[ \t]{0,3}(?:>[ \t]?)+")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}(?:[ \t]+|$)")
_BULLET = re.compile(r"^[ \t]{0,8}[-*+][ \t]+")
_STRONG = re.compile(r"(\*\*|__)(?=\S)([^\n]{1,500}?)(?<=\S)\1")
# The marker first and the look behind after it ("*" not preceded by a word character, "*" or "\\"):
# a pattern that starts with a literal is searched for that character alone, 20x faster than trying
# the look-behind at every position.
_EM_STAR = re.compile(r"\*(?<![\w*\\]\*)(?=[^\s*])([^*\n]{1,500}?)(?<=[^\s*\\])\*(?![\w*])")
_EM_UNDERSCORE = re.compile(r"_(?<![\w_\\]_)(?=[^\s_])([^_\n]{1,500}?)(?<=[^\s_\\])_(?![\w_])")
_STRIKE = re.compile(r"~~(?=\S)([^\n]{1,500}?)(?<=\S)~~")
_INLINE_CODE = re.compile(r"`+([^`\n]{1,500}?)`+")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~<])")
# White space but newlines (what str.isspace() calls space, less "\n"), spelled out: a class of
# characters is scanned for quickly, "[^\S\n]" is tried at every position. Runs that are already
# one plain space are left alone (most of them, in prose).
_BLANKS = "\t\x0b\x0c\r\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"  # and " "
_SPACES = re.compile(f"[{_BLANKS}][ {_BLANKS}]*| [ {_BLANKS}]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def _drop_blocks(text: str, opener: str, closer: str) -> str:
    """Remove every opener..closer block (case-insensitive), linear time; an unclosed one runs to the end."""
    lower = text.lower()
    out: list[str] = []
    pos = 0
    while True:
        start = lower.find(opener, pos)
        if start < 0:
            out.append(text[pos:])
            break
        out.append(text[pos:start])
        end = lower.find(closer, start + len(opener))
        if end < 0:
            break
        pos = end + len(closer)
        out.append("\n")
    return "".join(out)


def _drop_image_url(match: re.Match[str]) -> str:
    url = match.group(0)
    return "" if url.split("?", 1)[0].lower().endswith(_IMAGE_EXT) else url


def _block_line(line: str) -> str:
    """One line with its block-level markdown (quote, heading, rule, table, bullet) removed."""
    line = _BLOCKQUOTE.sub("", line)
    bare = line.replace(" ", "").replace("\t", "")
    # Horizontal rules, setext underlines and table separator rows carry no text.
    if len(bare) >= 3 and len(set(bare)) == 1 and bare[0] in "-*_=":
        return ""
    if "|" in bare and "--" in bare and not bare.strip("|:-"):
        return ""
    heading = _HEADING.match(line)
    if heading:
        line = line[heading.end() :].rstrip()
        closed = line.rstrip("#")
        # A closing "###" only counts after a space ("# C#" keeps its "#").
        if closed != line and (not closed or closed[-1] in " \t"):
            line = closed
        return line
    stripped = line.strip()
    if stripped.startswith("|"):
        return "  ".join(cell.strip() for cell in stripped.strip("|").split("|"))
    return _BULLET.sub("• ", line)


def plain_excerpt(markdown_or_html: str, limit: int) -> str:
    """Plain text of a markdown/HTML post body, at most `limit` chars, cut on a word with "…"."""
    if not isinstance(markdown_or_html, str) or limit <= 0:
        return ""
    text = markdown_or_html[:_MAX_SOURCE].replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub(" ", text)
    text = _drop_blocks(text, "<!--", "-->")
    text = _drop_blocks(text, "<script", "</script>")
    text = _drop_blocks(text, "<style", "</style>")
    if "```" in text or "~~~" in text:
        text = _FENCE_LINE.sub("", text)

    # Each pattern below needs the characters tested before it: a text without them skips a scan
    # (a third of the time of an excerpt).
    # Markdown images and links before HTML: their targets may contain <, and [![img](a)](b) nests.
    text = _MD_IMAGE.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_REF_LINK.sub(r"\1", text)
    if "]:" in text:
        text = _MD_REF_DEF.sub("", text)
    text = _AUTOLINK.sub(r"\1", text)

    text = _BREAK_TAG.sub("\n", text)
    text = _CELL_END.sub(" ", text)
    text = _ANY_TAG.sub("", text)
    if "://" in text:
        text = _BARE_URL.sub(_drop_image_url, text)

    text = "\n".join(_block_line(line) for line in text.split("\n"))
    if "`" in text:
        text = _INLINE_CODE.sub(r"\1", text)
    if "**" in text or "__" in text:
        text = _STRONG.sub(r"\2", text)
    if "~~" in text:
        text = _STRIKE.sub(r"\1", text)
    if "*" in text:
        text = _EM_STAR.sub(r"\1", text)
    if "_" in text:
        text = _EM_UNDERSCORE.sub(r"\1", text)
    if "\\" in text:
        text = _MD_ESCAPE.sub(r"\1", text)

    # Entities last, so "&lt;b&gt;" written in a post stays visible text instead of becoming a tag.
    text = html.unescape(text)
    text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    text = _CONTROL.sub(" ", text)
    text = strip_invisible(text)
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    text = text.strip()
    return _cut_at_word(text, limit)


# --------------------------------------------------------------------------------------------
# neutralise

# Characters that are markdown anywhere in a Discord message/embed.
_ESCAPES = str.maketrans({c: "\\" + c for c in "\\*_~|`[]"})
_ESCAPED = re.compile(r"[\\*_~|`\[\]]")  # finds a character of _ESCAPES faster than translate() passes text over
# Markdown that only counts at the start of a line: quotes, headings, "-#" subtext, lists.
_LINE_START = re.compile(r"^([ \t]*)([>#+-])", re.MULTILINE)
_ORDERED_LIST = re.compile(r"^([ \t]*\d{1,9})([.)])", re.MULTILINE)
# A bare URL as Discord's markdown finds one (its `url` rule): left unescaped so it stays clickable
# and shows its real target, unlike a masked link. Escaping inside it would put backslashes in the
# link, and escaping only part of it (up to the first "*" or "~") would leave it half-escaped.
_URL_PART = re.compile(r"(https?://[^\s<]+[^<.,:;\"')\]\s])")
_EVERYONE = re.compile(r"@(everyone|here)", re.IGNORECASE)
# <@id>, <@!id>, <@&id>, <#id>, </cmd:id>, <:emoji:id>, <t:...>, <id:...>: all start with "<" + non-space.
_ANGLE = re.compile(r"<(?=\S)")


def _unping(text: str) -> str:
    """No @everyone / @here, no <@id>-style mention or <t:...> markup: a zero-width space breaks each."""
    return _ANGLE.sub("<" + ZWSP, _EVERYONE.sub("@" + ZWSP + r"\1", text))


def neutralise(text: str, *, urls: bool = True) -> str:
    """Make untrusted text inert in Discord: no markdown, no pings, no mentions, no masked links.

    With `urls` (the default) bare URLs are left whole so they stay clickable; without, they are
    escaped like the rest: for text where Discord makes no links (titles, a link's own text).
    Not discord.utils.escape_markdown: its link pattern backtracks quadratically (a 20 KB body of
    "[a](" takes minutes), and it escapes only the first of several masked links on a line.
    """
    if not isinstance(text, str):
        return ""
    text = _CONTROL.sub(" ", text)
    # Strip invisible characters first so pre-broken or bidi-disguised syntax is judged as it renders.
    text = strip_invisible(text)
    parts = _URL_PART.split(text) if urls else [text]
    # split() with one group alternates text / URL / text ...; escape only the text parts.
    text = "".join(
        part if i % 2 or not _ESCAPED.search(part) else part.translate(_ESCAPES) for i, part in enumerate(parts)
    )
    text = _LINE_START.sub(r"\1\\\2", text)
    text = _ORDERED_LIST.sub(r"\1\\\2", text)
    text = _unping(text)
    # "](" is the hinge of a masked link, escaped or not; a zero-width space unhinges it.
    return text.replace("](", "]" + ZWSP + "(")


def plain_text(text: str) -> str:
    """Untrusted text for places Discord shows as typed, without markdown: embed footers, author
    names, autocomplete choices, select options. One line, no invisible or control characters, no
    ping, mention or masked-link syntax (broken by zero-width spaces, as in neutralise), and no
    backslashes added: nothing there would remove them.
    """
    if not isinstance(text, str):
        return ""
    text = strip_invisible(_CONTROL.sub(" ", text))
    return _unping(" ".join(text.split())).replace("](", "]" + ZWSP + "(")


# --------------------------------------------------------------------------------------------
# safe_url

_HOST_LABEL = re.compile(r"[^\W_](?:[\w-]{0,61}[^\W_])?")


def _plain_host(host: str) -> bool:
    """Letters/digits/hyphen labels (IDN letters allowed): no "<", "%", quotes or other oddities."""
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    return all(_HOST_LABEL.fullmatch(label) for label in labels)


def safe_url(url: object) -> str | None:
    """`url` if it is an absolute http(s) URL with a plain host, else None."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        return None
    if url.isascii():
        # The same test for ASCII, in C: its only such characters are controls (Cc) and spaces.
        if not url.isprintable() or " " in url:
            return None
    elif any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in url):
        return None
    # Browsers read "\" as "/", so "https://good\@evil" would go somewhere other than it seems.
    if "\\" in url:
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    if not url.lower().startswith(parts.scheme.lower() + "://"):
        return None
    # Credentials in a link only serve to disguise the real host ("https://paypal.com@evil.example").
    if parts.username is not None or parts.password is not None:
        return None
    if parts.netloc.startswith("["):
        return url if re.fullmatch(r"[0-9a-fA-F:.]+", host) else None
    return url if _plain_host(host) else None
