"""HiveBuzz badge notices: replies by @hivebuzz announcing a badge to the account they reply to.

Pure functions, no I/O. A notice body is an HTML table, one row per badge: the badge image
(``https://hivebuzz.me/@USER/BADGE.png?...``, usually behind an images.hive.blog proxy) and a cell
such as "You distributed more than 8000 upvotes.<br>Your next target is to reach 9000 upvotes.".
HiveBuzz posts other notices too (Power Up Day, meetups, STOP confirmations); those without a badge
image give no Badge. The body is untrusted text: parsing never raises and only a strictly shaped
https://hivebuzz.me image URL is ever returned.
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.text.safe import truncate

HIVEBUZZ_ACCOUNT = "hivebuzz"
NOTIFY_PREFIX = "hivebuzz-notify-"
MAX_TEXT = 300
# Real notices are ~1 KB; a longer body is not worth scanning in full.
_MAX_BODY = 20_000
_MAX_ROW = 4_000

_HIVEBUZZ = "https://hivebuzz.me/"
# The only image URL we hand out: https, the hivebuzz.me host, a per-user or shared badge picture,
# a plain cache-busting query. Anything else (other hosts, schemes, odd characters) is refused.
_BADGE_URL = re.compile(
    r"https://hivebuzz\.me/(?:@(?P<user>[a-z][a-z0-9.-]{1,15})|badges)"
    r"/(?P<badge>[A-Za-z0-9][A-Za-z0-9_.-]{0,63})\.png(?:\?[A-Za-z0-9=&_.%-]{0,200})?"
)
_ACCOUNT = re.compile(r"[a-z][a-z0-9.-]{1,15}")

# Where an image can be referenced: <img src=...>, markdown ![](...), or a bare URL in a cell
# (Hive front ends render a bare image URL as the image).
_IMAGE_REF = re.compile(
    r"<\s*img\b[^<>]{0,2000}?\bsrc\s*=\s*(?:\"(?P<dq>[^\"<>]{0,2048})\"|'(?P<sq>[^'<>]{0,2048})'"
    r"|(?P<bare_attr>[^\s\"'<>]{1,2048}))[^<>]{0,2000}>"
    r"|!\[[^\[\]\n]{0,200}\]\((?P<md>[^()\s]{1,2048})\)"
    r"|(?<![\w\"'=(/])(?P<url>https?://[^\s\"'<>()\[\]]{1,2048})",
    re.IGNORECASE,
)
_ROW_START = re.compile(r"<\s*tr\b", re.IGNORECASE)
_ROW_END = re.compile(r"<\s*/\s*(?:tr|table)\b", re.IGNORECASE)
_LINE_BREAK = re.compile(r"<\s*br\s*/?\s*>|<\s*/\s*(?:td|th|tr|p|div)\s*>|\n", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]{0,500}>")
_SPACES = re.compile(r"\s+")
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_NEXT_TARGET = re.compile(r"\bnext target\b", re.IGNORECASE)
# Older notices put both sentences in one line: "You made more than 6000 upvotes. Your next target ..."
_BEFORE_NEXT_TARGET = re.compile(r"(?<=[.!])\s+(?=your next target\b)", re.IGNORECASE)


@dataclass(frozen=True)
class Badge:
    recipient: str
    badge: str
    image_url: str
    achievement: str
    next_target: str | None


def is_hivebuzz_notice(author: str, permlink: str, parent_author: str) -> bool:
    """True for a HiveBuzz notification reply (a reply: the recipient is its parent author)."""
    if not (isinstance(author, str) and isinstance(permlink, str) and isinstance(parent_author, str)):
        return False
    return author == HIVEBUZZ_ACCOUNT and permlink.startswith(NOTIFY_PREFIX) and parent_author != ""


def _unwrap(reference: str) -> re.Match[str] | None:
    """The hivebuzz.me badge URL behind an image reference (direct or proxied), if it is one."""
    reference = html.unescape(reference).strip()
    lower = reference.lower()
    if lower.startswith(_HIVEBUZZ):
        inner = reference
    else:
        # A proxy such as https://images.hive.blog/60x70/https://hivebuzz.me/... keeps the
        # original URL whole at the end of its path.
        try:
            outer = urlsplit(reference)
        except ValueError:
            return None
        if outer.scheme.lower() != "https" or not outer.netloc:
            return None
        at = lower.find("/" + _HIVEBUZZ, len("https://"))
        if at < 0:
            return None
        inner = reference[at + 1 :]
    # The scheme and host may come in any case; the path (user, badge) must be exactly as served.
    inner = _HIVEBUZZ + inner[len(_HIVEBUZZ) :]
    return _BADGE_URL.fullmatch(inner)


def _text_lines(fragment: str) -> list[str]:
    """Visible text lines of an HTML/markdown fragment: tags stripped, entities decoded."""
    fragment = _IMAGE_REF.sub(" ", fragment[:_MAX_ROW])
    lines: list[str] = []
    for raw in _LINE_BREAK.split(fragment):
        text = _TAG.sub(" ", raw)
        text = html.unescape(text)
        text = _INVISIBLE.sub(" ", text)
        text = _SPACES.sub(" ", text).strip()
        if text:
            lines.extend(part for part in _BEFORE_NEXT_TARGET.split(text) if part)
    return lines


def _badge_from(chunk: str, recipient: str) -> Badge | None:
    """The first badge in one table row (or one loose image and the text after it)."""
    for ref in _IMAGE_REF.finditer(chunk):
        target = next((g for g in ref.group("dq", "sq", "bare_attr", "md", "url") if g), None)
        if target is None:
            continue
        found = _unwrap(target)
        if found is None:
            continue
        owner = found.group("user")
        # A per-user badge picture names its owner: it must be the account the notice replies to.
        if owner and recipient and owner != recipient:
            continue
        who = recipient or owner or ""
        if not who:
            continue
        lines = _text_lines(chunk)
        targets = [line for line in lines if _NEXT_TARGET.search(line)]
        achievement = " ".join(line for line in lines if not _NEXT_TARGET.search(line))
        if not achievement:
            # An image with no words (a banner, a layout cell) announces nothing.
            continue
        return Badge(
            recipient=who,
            badge=found.group("badge"),
            image_url=found.group(0),
            achievement=truncate(achievement, MAX_TEXT),
            next_target=truncate(targets[0], MAX_TEXT) if targets else None,
        )
    return None


def _chunks(body: str) -> list[str]:
    """One chunk per table row; without a table, one chunk per image and the text after it."""
    starts = [m.start() for m in _ROW_START.finditer(body)]
    chunks: list[str] = []
    if starts:
        # A row ends at </tr> or </table>: the footer after the last row is not badge text.
        closers = [m.start() for m in _ROW_END.finditer(body)]
        for start, following in zip(starts, [*starts[1:], len(body)], strict=True):
            at = bisect.bisect_left(closers, start)
            end = min(following, closers[at]) if at < len(closers) else following
            chunks.append(body[start:end])
        return chunks
    refs = list(_IMAGE_REF.finditer(body))
    if not refs:
        return []
    for ref, later in zip(refs, [*refs[1:], None], strict=True):
        after = body[ref.end() : later.start() if later else len(body)]
        # Loose layout: an image's text is the paragraph after it, up to the next blank line.
        chunks.append(ref.group(0) + " " + after.lstrip().split("\n\n", 1)[0])
    return chunks


def parse_badges(body: str, recipient: str) -> list[Badge]:
    """Every badge announced in a HiveBuzz notice body, in order; [] for anything else."""
    if not isinstance(body, str):
        return []
    recipient = recipient.strip().lower() if isinstance(recipient, str) else ""
    if recipient.startswith("@"):
        recipient = recipient[1:]
    if recipient and not _ACCOUNT.fullmatch(recipient):
        return []
    badges: list[Badge] = []
    for chunk in _chunks(body[:_MAX_BODY]):
        badge = _badge_from(chunk, recipient)
        if badge is not None:
            badges.append(badge)
    return badges


def parse_badge(body: str, recipient: str) -> Badge | None:
    """The first badge announced in a HiveBuzz notice body, or None when it announces none."""
    badges = parse_badges(body, recipient)
    return badges[0] if badges else None
