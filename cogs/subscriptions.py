"""/subscribe, /unsubscribe, /subscriptions: hear of new reviews of a series."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.command_tree import UserError
from bot.domain import DeliveryMode, Subscription
from bot.series.detect import display_series, series_key
from bot.services.subscriptions import MAX_SUBSCRIPTIONS
from bot.text.limits import BUTTON_LABEL_MAX, COMPONENTS_MAX, CUSTOM_ID_MAX
from bot.text.safe import neutralise
from cogs.utils import permits
from cogs.utils.answers import answer
from cogs.utils.choices import at_most, choice

if TYPE_CHECKING:
    from bot.app import Hivecord

WHERE_CHOICES = [
    app_commands.Choice(name="dm: a direct message with the review", value="dm"),
    app_commands.Choice(name="here: a mention in this server's feed channel", value="here"),
]


class RemoveButton(discord.ui.Button["SubscriptionList"]):
    def __init__(self, sub: Subscription, row: int) -> None:
        super().__init__(
            label=f"Remove {sub.series}"[:BUTTON_LABEL_MAX],
            style=discord.ButtonStyle.secondary,
            custom_id=f"unsub:{sub.series_key}"[:CUSTOM_ID_MAX],
            row=row,
        )
        self.sub = sub

    async def callback(self, interaction: discord.Interaction) -> None:
        assert self.view is not None
        await self.view.remove(interaction, self)


class SubscriptionList(discord.ui.View):
    """The member's subscriptions with a remove button each (25 at most on one message)."""

    def __init__(self, cog: Subscriptions, owner: int, subs: list[Subscription]) -> None:
        super().__init__(timeout=300)
        self.cog = cog
        self.owner = owner
        self.subs = subs
        for index, sub in enumerate(subs[:COMPONENTS_MAX]):
            self.add_item(RemoveButton(sub, row=index // 5))

    def embed(self) -> discord.Embed:
        if not self.subs:
            return answer("You follow no series. `/subscribe` to one to hear of its new reviews.")
        lines = [
            f"• **{neutralise(s.series)}** — {'by DM' if s.delivery == 'dm' else 'mention in the server'}"
            for s in self.subs
        ]
        embed = answer("\n".join(lines)[:4000])
        embed.title = f"Your series ({len(self.subs)} of {MAX_SUBSCRIPTIONS})"
        return embed

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner:
            await interaction.response.send_message(
                embed=answer("These are someone else's subscriptions; `/subscriptions` shows yours."), ephemeral=True
            )
            return False
        return True

    async def remove(self, interaction: discord.Interaction, button: RemoveButton) -> None:
        await self.cog.bot.subscriptions.unsubscribe(self.owner, button.sub.series_key)
        self.subs = [s for s in self.subs if s.series_key != button.sub.series_key]
        self.remove_item(button)
        await interaction.response.edit_message(embed=self.embed(), view=self if self.subs else None)


class Subscriptions(commands.Cog):
    def __init__(self, bot: Hivecord) -> None:
        self.bot = bot

    async def series_autocomplete(
        self, _interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        names = (await self.bot.series_catalog.index()).choices(current)
        choices = [choice(n) for n in names if n]
        typed = display_series(current)
        # A series not reviewed yet can be followed too: offer exactly what was typed.
        if typed and series_key(typed) and all(series_key(c.name) != series_key(typed) for c in choices):
            choices.insert(0, choice(typed))
        return at_most(choices)

    @app_commands.command(name="subscribe", description="Be told when a new review of a series appears")
    @app_commands.describe(series="The series, e.g. Metallic Rouge", where="By DM (default) or a mention here")
    @app_commands.choices(where=WHERE_CHOICES)
    @app_commands.autocomplete(series=series_autocomplete)
    async def subscribe(self, interaction: discord.Interaction, series: str, where: str = "dm") -> None:
        name = display_series(series)
        key = series_key(name)
        if not key:
            raise UserError("Type a series name with letters or digits in it, like `Metallic Rouge`.")
        if where == "here":
            if interaction.guild_id is None:
                raise UserError("`where:here` works in a server; in DMs, alerts come by DM.")
            # Alerts mention the member in the server: only if they may read and write where they ask.
            perms, thread = permits.channel_permissions(interaction)
            permits.require_member_can_send(perms, "`where:here` is for a channel you can write in", thread=thread)
        delivery: DeliveryMode = "here" if where == "here" else "dm"
        outcome = await self.bot.subscriptions.subscribe(
            user_id=interaction.user.id,
            series_key=key,
            series=name,
            delivery=delivery,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
        )
        how = "by DM" if delivery == "dm" else "with a mention in this server's feed channel"
        known = (await self.bot.series_catalog.index()).get(key) is not None
        note = "" if known else " No review of it has appeared yet; you'll hear of the first."
        verb = "You now follow" if outcome == "added" else "Updated:"
        await interaction.response.send_message(
            embed=answer(f"{verb} **{neutralise(name)}**: new reviews reach you {how}.{note}"), ephemeral=True
        )

    @app_commands.command(name="unsubscribe", description="Stop hearing of new reviews of a series")
    @app_commands.describe(series="A series you follow")
    async def unsubscribe(self, interaction: discord.Interaction, series: str) -> None:
        key = series_key(series)
        if not key or not await self.bot.subscriptions.unsubscribe(interaction.user.id, key):
            raise UserError("You don't follow that series; `/subscriptions` lists the ones you do.")
        await interaction.response.send_message(
            embed=answer(f"You no longer follow **{neutralise(display_series(series))}**."), ephemeral=True
        )

    @unsubscribe.autocomplete("series")
    async def own_series(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        subs = await self.bot.subscriptions.of_user(interaction.user.id)
        key = series_key(current)
        return at_most(choice(s.series) for s in subs if key in s.series_key)

    @app_commands.command(name="subscriptions", description="The series you follow, with a remove button each")
    async def subscriptions(self, interaction: discord.Interaction) -> None:
        subs = await self.bot.subscriptions.of_user(interaction.user.id)
        view = SubscriptionList(self, interaction.user.id, subs)
        await interaction.response.send_message(
            embed=view.embed(), view=view if subs else discord.utils.MISSING, ephemeral=True
        )

    @commands.Cog.listener()
    async def on_app_command_completion(self, interaction: discord.Interaction, _command: object) -> None:
        """Tells a member, once, that an alert could not reach their DMs."""
        text = await self.bot.subscriptions.closed_dm_notice(interaction.user.id)
        if text is None:
            return
        try:
            await interaction.followup.send(embed=answer(text, discord.Colour.orange()), ephemeral=True)
        except discord.HTTPException:
            return
        await self.bot.subscriptions.told(interaction.user.id)


async def setup(bot: Hivecord) -> None:
    await bot.add_cog(Subscriptions(bot))
