"""Text that looks like a Hive private key: the bot never asks for one, refuses one pasted into a command,
and keeps one out of every log line; with it, the password of a URL (the database's)."""

from __future__ import annotations

import logging
import re

_BASE58 = "1-9A-HJ-NP-Za-km-z"
# A WIF private key is 51 base58 characters starting with 5; a master password is often P5 and a
# WIF's worth more. Bounded by non-base58 characters, so a longer run of base58 is not cut into one.
_PRIVATE_KEY = re.compile(rf"(?<![{_BASE58}])(?:5[{_BASE58}]{{50}}|P5[{_BASE58}]{{49,51}})(?![{_BASE58}])")
_HEX = re.compile(r"[0-9a-fA-F]+")
REDACTED = "[a private key, redacted]"
# scheme://user:password@host: the password runs from the first ':' after the user to the last '@' before
# the path (an unencoded '@' in it too); "https://host:443/@alice" has no '@' before its path, so no password.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/?#@]*):[^\s/?#]+@")
# libpq and asyncpg also take the password as a query parameter: ...?password=secret
_QUERY_PASSWORD = re.compile(r"(?i)([?&]password=)[^&\s#]+")
URL_PASSWORD = "***"


def _is_key(match: re.Match[str]) -> bool:
    # A signature or a hash in hex is base58 too; a key is practically never all hex digits.
    return not _HEX.fullmatch(match.group())


def looks_like_private_key(text: str) -> bool:
    return any(_is_key(m) for m in _PRIVATE_KEY.finditer(text))


def redact_private_keys(text: str) -> str:
    return _PRIVATE_KEY.sub(lambda m: REDACTED if _is_key(m) else m.group(), text)


def redact_url_passwords(text: str) -> str:
    """postgresql://bot:secret@db/hc -> postgresql://bot:***@db/hc, and ?password=secret -> ?password=***;
    a URL without a password is unchanged."""
    return _QUERY_PASSWORD.sub(rf"\1{URL_PASSWORD}", _URL_PASSWORD.sub(rf"\1:{URL_PASSWORD}@", text))


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then blanks anything that looks like a private key or a URL's password (in the
    message, its arguments, a traceback), and each of `hidden` (a database password from the
    environment): whatever level a library logs a payload at, no secret reaches the log."""

    def __init__(self, fmt: str | None = None, hidden: tuple[str, ...] = ()) -> None:
        super().__init__(fmt)
        # Under 4 characters a literal would blank ordinary words; inside a URL it is blanked all the same.
        self.hidden = tuple(sorted((h for h in hidden if len(h) >= 4), key=len, reverse=True))

    def format(self, record: logging.LogRecord) -> str:
        text = redact_url_passwords(redact_private_keys(super().format(record)))
        for secret in self.hidden:
            text = text.replace(secret, URL_PASSWORD)
        return text
