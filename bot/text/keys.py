"""Text that looks like a Hive private key: the bot never asks for one, refuses one pasted into a command,
and keeps one out of every log line."""

from __future__ import annotations

import logging
import re

_BASE58 = "1-9A-HJ-NP-Za-km-z"
# A WIF private key is 51 base58 characters starting with 5; a master password is often P5 and a
# WIF's worth more. Bounded by non-base58 characters, so a longer run of base58 is not cut into one.
_PRIVATE_KEY = re.compile(rf"(?<![{_BASE58}])(?:5[{_BASE58}]{{50}}|P5[{_BASE58}]{{49,51}})(?![{_BASE58}])")
_HEX = re.compile(r"[0-9a-fA-F]+")
REDACTED = "[a private key, redacted]"


def _is_key(match: re.Match[str]) -> bool:
    # A signature or a hash in hex is base58 too; a key is practically never all hex digits.
    return not _HEX.fullmatch(match.group())


def looks_like_private_key(text: str) -> bool:
    return any(_is_key(m) for m in _PRIVATE_KEY.finditer(text))


def redact_private_keys(text: str) -> str:
    return _PRIVATE_KEY.sub(lambda m: REDACTED if _is_key(m) else m.group(), text)


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then blanks anything that looks like a private key (in the message, its
    arguments, a traceback): whatever level a library logs a payload at, no key reaches the log."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_private_keys(super().format(record))
