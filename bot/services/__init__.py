"""Use cases the cogs call (add a feed, subscribe, give refused lanes another try): no Discord types here."""

from __future__ import annotations


class Refused(Exception):
    """A use case declined, with one sentence for the member: what was wrong and what to do instead."""
