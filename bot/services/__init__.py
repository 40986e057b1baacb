"""Use cases the cogs call (add a feed, subscribe, give refused lanes another try): no Discord types here."""

from __future__ import annotations


class Refused(Exception):
    """A use case declined, with one sentence for the member: what was wrong and what to do instead."""


def counted(n: int, one: str, many: str) -> str:
    """`n` with the noun it agrees with: "1 role rule", "3 role rules"."""
    return f"{n} {one if n == 1 else many}"
