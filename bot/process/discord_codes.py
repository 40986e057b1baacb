"""Discord's JSON error codes the bot acts on or explains, each named once (Discord's own names, shortened)."""

from __future__ import annotations

UNKNOWN_CHANNEL = 10003
UNKNOWN_MEMBER = 10007
UNKNOWN_MESSAGE = 10008
UNKNOWN_ROLE = 10011
UNKNOWN_USER = 10013
UNKNOWN_INTERACTION = 10062  # answered too late
ALREADY_ACKNOWLEDGED = 40060  # the interaction was answered already
MISSING_ACCESS = 50001
NOT_AUTHOR = 50005  # cannot edit a message authored by another user
CANNOT_DM = 50007
MISSING_PERMISSIONS = 50013
INVALID_FORM = 50035
ARCHIVED_THREAD = 50083
THREAD_EXISTS = 160004  # a second thread on the same message
