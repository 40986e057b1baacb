"""The log: one stream, private keys blanked, and expected network trouble as one line, not a traceback."""

from __future__ import annotations

import logging
import sys

from bot.text.keys import RedactingFormatter

# discord.py's own words for a gateway connection it lost and will make again.
_RECONNECT = "Attempting a reconnect"


class ReconnectAsOneLine(logging.Filter):
    """discord.py logs each gateway reconnect attempt at ERROR with the whole traceback. Discord going
    away for a while is expected and handled (it reconnects with backoff): one WARNING line with the
    cause says so without burying the log in tracebacks."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("discord.") and record.exc_info and str(record.msg).startswith(_RECONNECT):
            exc = record.exc_info[1]
            cause = f"{type(exc).__name__}: {exc}" if exc is not None else "unknown cause"
            record.msg = f"{record.getMessage()} ({cause[:300]})"
            record.args = None
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        return True


def log_handler(hidden: tuple[str, ...] = ()) -> logging.Handler:
    """The one stream's handler; `hidden`: secrets to blank wherever they appear (the database's password)."""
    handler = logging.StreamHandler(sys.stderr)
    # Whatever a library logs (discord.py logs whole gateway payloads at DEBUG), no private key a
    # member pasted, and no database password, reaches the log.
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", hidden=hidden))
    handler.addFilter(ReconnectAsOneLine())
    return handler


def setup_logging(level: str, hidden: tuple[str, ...] = ()) -> None:
    handler = log_handler(hidden)
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), handlers=[handler])
