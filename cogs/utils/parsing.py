"""What members type into a command, read the same way by every cog: a community id, a list of accounts."""

from __future__ import annotations

import re
from dataclasses import dataclass

import discord

from bot.command_tree import UserError
from bot.hive.names import account_name, account_names, is_community


def parse_community(text: str) -> str:
    """ "Hive-158489 " -> "hive-158489"; refused, with the form to type, when it is no community id."""
    name = text.strip().lower()
    if not is_community(name):
        raise UserError(
            f"`{discord.utils.escape_markdown(text[:40])}` is not a community id. "
            "Type it as it appears in the community's address, like `hive-158489`."
        )
    return name


def _shown(text: str) -> str:
    # Quoted back inside backticks: only what an account name may hold, so nothing can break out.
    return re.sub(r"[^a-z0-9.@_-]", "?", text[:40]) or "?"


@dataclass(frozen=True, slots=True)
class AccountList:
    """A list of Hive accounts a member types, like "welcome.bot, @Spammer01": what it is called in
    the answers, an example to copy, and how many distinct accounts it may hold."""

    listing: str  # "the curators": what the member lists
    counted: str  # "curators per feed": what the cap counts
    example: str
    most: int | None = None  # None: the service counts, as the operator set

    def parse(self, text: str | None) -> list[str]:
        """The accounts as the chain spells them, each once, sorted; refused, naming the first
        entry that is no Hive account name, or when there are more than `most`."""
        if not text:
            return []
        names, bad = account_names(text)
        if bad is not None:
            raise UserError(
                f"`{_shown(account_name(bad))}` is not a Hive account name (3-16 lowercase letters, digits, dots or"
                f" dashes). List {self.listing} separated by commas, like `{self.example}`."
            )
        if self.most is not None and len(names) > self.most:
            raise UserError(f"At most {self.most} {self.counted}, please.")
        return names
