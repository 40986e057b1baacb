"""Discord's JSON error answers, and the exception handlers raise to produce one."""

from __future__ import annotations

from typing import Any

# JSON error codes the fake answers with; messages as Discord words them.
ERROR_MESSAGES: dict[int, str] = {
    0: "General error",
    10003: "Unknown Channel",
    10004: "Unknown Guild",
    10007: "Unknown Member",
    10008: "Unknown Message",
    10013: "Unknown User",
    10015: "Unknown Webhook",
    10062: "Unknown interaction",
    10063: "Unknown application command",
    20012: "You are not authorized to perform this action on this application",
    40060: "Interaction has already been acknowledged.",
    50001: "Missing Access",
    50005: "Cannot edit a message authored by another user",
    50006: "Cannot send an empty message",
    50007: "Cannot send messages to this user",
    50008: "Cannot send messages in a non-text channel",
    50013: "Missing Permissions",
    50024: "Cannot execute action on this channel type",
    50027: "Invalid Webhook Token",
    50035: "Invalid Form Body",
    50083: "Thread is archived",
    160004: "A thread has already been created for this message",
}

# Bare HTTP errors (no specific code) read "<status>: <reason>".
STATUS_MESSAGES: dict[int, str] = {
    400: "400: Bad Request",
    401: "401: Unauthorized",
    403: "403: Forbidden",
    404: "404: Not Found",
    405: "405: Method Not Allowed",
    500: "500: Internal Server Error",
    502: "502: Bad Gateway",
    503: "503: Service Unavailable",
    504: "504: Gateway Timeout",
}

DEFAULT_CODE_FOR_STATUS: dict[int, int] = {403: 50013, 404: 10003}


def error_body(status: int, code: int | None = None, message: str | None = None) -> dict[str, Any]:
    if code is None:
        code = DEFAULT_CODE_FOR_STATUS.get(status, 0)
    if message is None:
        message = STATUS_MESSAGES.get(status, f"{status}") if code == 0 else ERROR_MESSAGES.get(code, "Error")
    return {"message": message, "code": code}


class DiscordError(Exception):
    """Raised by a route handler to answer with a Discord error body."""

    def __init__(
        self,
        status: int,
        code: int | None = None,
        message: str | None = None,
        *,
        errors: dict[str, Any] | None = None,
        misuse: bool = False,
    ) -> None:
        self.status = status
        # A misuse is a request Discord refuses as malformed; the fake records it as a violation.
        self.misuse = misuse
        self.body = error_body(status, code, message)
        if errors is not None:
            self.body["errors"] = errors
        super().__init__(f"{status} {self.body}")
