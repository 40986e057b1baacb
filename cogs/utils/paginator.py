"""A reusable paginator: First / Prev / page label / Next / Last buttons under an embed.

Only the user who ran the command can page (others are told so, privately, and the message is left
alone); when the view times out the buttons are removed by editing the original response, which
is why the view keeps the interaction that created it.
"""

from __future__ import annotations

import contextlib
from typing import Protocol

import discord
from discord import app_commands

from bot.command_tree import on_tree_error

TIMEOUT = 600.0  # an interaction token lives 15 minutes: the buttons go well before that


class PageSource(Protocol):
    """What a Paginator shows: a number of pages, and the embed of each."""

    @property
    def page_count(self) -> int: ...

    async def page(self, index: int) -> discord.Embed: ...


class ComponentError(app_commands.AppCommandError):
    """A failure in a button or select callback, handed to the command tree's one error handler."""

    def __init__(self, original: Exception) -> None:
        super().__init__(str(original))
        self.original = original


class Paginator(discord.ui.View):
    """Pages through a PageSource; subclasses may add items and refresh them in `on_page`."""

    def __init__(
        self,
        source: PageSource,
        *,
        owner_id: int,
        timeout: float = TIMEOUT,
        not_yours: str = "These buttons are not yours.",
    ) -> None:
        super().__init__(timeout=timeout)
        self.source = source
        self.owner_id = owner_id
        self.not_yours = not_yours
        self.index = 0
        self.origin: discord.Interaction | None = None
        if source.page_count <= 1:
            # One page: nothing to turn, so no buttons to show.
            for button in (self.first, self.previous, self.label, self.next, self.last):
                self.remove_item(button)

    async def start(self, interaction: discord.Interaction, embed: discord.Embed, *, ephemeral: bool = True) -> None:
        """Answers `interaction` with the first page (`embed`, already built) and these buttons."""
        self.origin = interaction
        self.index = 0
        self._sync_buttons()
        await self.on_page(0)
        await interaction.response.send_message(embed=embed, view=self, ephemeral=ephemeral)

    async def on_page(self, index: int) -> None:
        """Called after page `index` was built and before it is shown: update your own items here."""

    async def show(self, interaction: discord.Interaction, index: int) -> None:
        index = max(0, min(index, self.source.page_count - 1))
        embed = await self.source.page(index)
        self.index = index
        self._sync_buttons()
        await self.on_page(index)
        await interaction.response.edit_message(embed=embed, view=self)

    def _sync_buttons(self) -> None:
        last = self.source.page_count - 1
        self.first.disabled = self.previous.disabled = self.index <= 0
        self.next.disabled = self.last.disabled = self.index >= last
        self.label.label = f"{self.index + 1} / {last + 1}"

    @discord.ui.button(label="«", style=discord.ButtonStyle.secondary, row=0)
    async def first(self, interaction: discord.Interaction, _button: discord.ui.Button[Paginator]) -> None:
        await self.show(interaction, 0)

    @discord.ui.button(label="‹", style=discord.ButtonStyle.primary, row=0)
    async def previous(self, interaction: discord.Interaction, _button: discord.ui.Button[Paginator]) -> None:
        await self.show(interaction, self.index - 1)

    @discord.ui.button(label="1 / 1", style=discord.ButtonStyle.secondary, disabled=True, row=0)
    async def label(self, interaction: discord.Interaction, _button: discord.ui.Button[Paginator]) -> None:
        await interaction.response.defer()  # disabled: only shows where we are

    @discord.ui.button(label="›", style=discord.ButtonStyle.primary, row=0)
    async def next(self, interaction: discord.Interaction, _button: discord.ui.Button[Paginator]) -> None:
        await self.show(interaction, self.index + 1)

    @discord.ui.button(label="»", style=discord.ButtonStyle.secondary, row=0)
    async def last(self, interaction: discord.Interaction, _button: discord.ui.Button[Paginator]) -> None:
        await self.show(interaction, self.source.page_count - 1)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(self.not_yours, ephemeral=True)
        return False

    async def on_timeout(self) -> None:
        if self.origin is None:
            return
        # Expired tokens and deleted messages leave nothing to tidy.
        with contextlib.suppress(discord.HTTPException):
            await self.origin.edit_original_response(view=None)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Paginator]
    ) -> None:
        wrapped = error if isinstance(error, app_commands.AppCommandError) else ComponentError(error)
        await on_tree_error(interaction, wrapped)
