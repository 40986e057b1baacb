"""Autocomplete answers within Discord's limits: at most 25 choices, each name and value 1-100 characters."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from discord import app_commands

from bot.text.limits import CHOICE_MAX, MAX_CHOICES


def choice(name: str, value: str | None = None) -> app_commands.Choice[str]:
    """One choice; its value is its name unless given, both cut to Discord's length."""
    return app_commands.Choice(name=name[:CHOICE_MAX], value=(name if value is None else value)[:CHOICE_MAX])


def at_most(found: Iterable[app_commands.Choice[str]]) -> list[app_commands.Choice[str]]:
    """The first choices Discord takes in one answer (it refuses the whole answer past the limit)."""
    return list(islice(found, MAX_CHOICES))
