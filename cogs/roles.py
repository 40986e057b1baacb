"""/roles set|list|remove: roles the bot gives to linked members from Hive facts (Manage Roles and Manage Server)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.command_tree import UserError
from bot.domain import RoleKind, RoleRule
from bot.text.safe import truncate
from cogs.utils.answers import answer
from cogs.utils.choices import at_most, choice
from cogs.utils.parsing import parse_community

if TYPE_CHECKING:
    from bot.app import Hivecord

WHEN_CHOICES = [
    app_commands.Choice(name="linked: every member with a linked Hive account", value="linked"),
    app_commands.Choice(name="subscriber: linked members subscribed to a community", value="subscriber"),
    app_commands.Choice(name="team: linked members on a community's team (owner, admin, mod)", value="team"),
    app_commands.Choice(name="reputation: linked members with at least a reputation score", value="reputation"),
]


def describe_rule(rule: RoleRule, members: int, refused: str | None = None) -> str:
    what = {
        "linked": "linked members",
        "subscriber": f"linked subscribers of **{rule.community}**",
        "team": f"linked team members of **{rule.community}**",
        "reputation": "linked members",
    }[rule.kind]
    if rule.min_reputation is not None:
        what += f" with reputation ≥ {rule.min_reputation:g}"
    line = f"<@&{rule.role_id}> → {what} · {members} member(s)"
    if refused:
        line += f"\n⚠️ Discord refuses it: {refused}; fix that, then run `/roles set` again"
    return line


def check_assignable(interaction: discord.Interaction, role: discord.Role) -> None:
    """The bot gives only roles it may give, and none its caller could not give themselves."""
    guild = interaction.guild
    assert guild is not None
    if role.is_default():
        raise UserError("@everyone belongs to every member already; pick another role.")
    if role.managed:
        raise UserError(f"{role.mention} is managed by an integration or a bot; no one can give it. Pick another role.")
    me = guild.me
    if not me.guild_permissions.manage_roles:
        raise UserError("I'm missing **Manage Roles** in this server; give my role that permission first.")
    if role >= me.top_role:
        raise UserError(
            f"{role.mention} is at or above my highest role ({me.top_role.mention}): I can only give roles "
            "below it. Move my role above it in Server Settings → Roles."
        )
    check_caller_above(interaction, role, "hand it out")


def check_caller_above(interaction: discord.Interaction, role: discord.Role, what: str) -> None:
    """A member acts through the bot only on roles below their own highest (the owner on any), as
    Discord lets them act themselves: giving a role, or taking it back from everyone it was given."""
    guild = interaction.guild
    assert guild is not None
    caller = interaction.user
    if not isinstance(caller, discord.Member):
        raise UserError("I could not tell your roles in this server; try again in a moment.")
    if guild.owner_id != caller.id and role >= caller.top_role:
        raise UserError(f"{role.mention} is at or above your highest role, so you can't {what} through me.")


@app_commands.guild_only()
@app_commands.default_permissions(manage_roles=True, manage_guild=True)
class Roles(commands.GroupCog, group_name="roles", group_description="Roles for linked members from Hive facts"):
    def __init__(self, bot: Hivecord) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="set", description="Give a role to linked members who meet a Hive fact")
    @app_commands.describe(
        role="The role to give",
        when="Who gets it",
        community="Community id for subscriber and team rules, like hive-158489",
        min_reputation="Lowest reputation score (required for reputation; optional with the others)",
    )
    @app_commands.choices(when=WHEN_CHOICES)
    @app_commands.checks.has_permissions(manage_roles=True, manage_guild=True)
    async def set_(
        self,
        interaction: discord.Interaction,
        role: discord.Role,
        when: str,
        community: str | None = None,
        min_reputation: app_commands.Range[float, -100.0, 100.0] | None = None,
    ) -> None:
        assert interaction.guild is not None
        check_assignable(interaction, role)
        if when not in ("linked", "subscriber", "team", "reputation"):
            raise UserError("`when` is one of linked, subscriber, team or reputation.")
        kind: RoleKind = when  # type: ignore[assignment]
        name = parse_community(community) if community else None
        await interaction.response.defer(ephemeral=True, thinking=True)
        done = await self.bot.roles.set_rule(
            guild_id=interaction.guild.id,
            role_id=role.id,
            kind=kind,
            community=name,
            min_reputation=min_reputation,
            created_by=interaction.user.id,
        )
        rule = next(r for r, _n, _why in await self.bot.roles.rules(interaction.guild.id) if r.role_id == role.id)
        text = describe_rule(rule, done.changes.added)
        text += f"\nQueued: {done.changes.added} to give, {done.changes.removed} to take back."
        if not done.facts_read:
            text += "\nThe Hive nodes did not answer just now; the facts are read again at the next check."
        title = "Role rule added" if done.created else "Role rule updated"
        await interaction.followup.send(embed=answer(text, title=title), ephemeral=True)

    @app_commands.command(name="list", description="The role rules of this server")
    @app_commands.checks.has_permissions(manage_roles=True, manage_guild=True)
    async def list_(self, interaction: discord.Interaction) -> None:
        assert interaction.guild is not None
        rules = await self.bot.roles.rules(interaction.guild.id)
        if not rules:
            text = "No role rules yet. Add one with `/roles set role:@Linked when:linked`."
        else:
            text = truncate("\n".join(describe_rule(r, n, why) for r, n, why in rules), 4000)
        await interaction.response.send_message(embed=answer(text, title="Role rules"), ephemeral=True)

    @app_commands.command(name="remove", description="Stop giving a role; the members the bot gave it to lose it")
    @app_commands.describe(role="The role whose rule to remove; the list shows this server's rules, deleted roles too")
    @app_commands.checks.has_permissions(manage_roles=True, manage_guild=True)
    async def remove(self, interaction: discord.Interaction, role: str) -> None:
        guild = interaction.guild
        assert guild is not None
        role_id = rule_role_id(guild, role)
        found = guild.get_role(role_id)
        if found is None:
            # A deleted role (the bot missed its deletion while offline): no one holds it, so its
            # rule just goes, and no hierarchy is left to check.
            if not await self.bot.roles.role_deleted(guild.id, role_id):
                raise UserError("That role has no rule in this server. `/roles list` shows them.")
            text = f"Removed the rule of the deleted role `{role_id}`; no one holds it any more."
            await interaction.response.send_message(embed=answer(text), ephemeral=True)
            return
        check_caller_above(interaction, found, "take it back")
        changes = await self.bot.roles.remove_rule(guild.id, role_id)
        if changes is None:
            raise UserError(f"{found.mention} has no rule in this server. `/roles list` shows them.")
        text = f"Removed the rule of {found.mention}; {changes.removed} member(s) lose the role."
        await interaction.response.send_message(embed=answer(text), ephemeral=True)

    @remove.autocomplete("role")
    async def remove_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        guild = interaction.guild
        caller = interaction.user
        if guild is None or not isinstance(caller, discord.Member):
            return []
        permissions = caller.guild_permissions
        if not (permissions.manage_roles and permissions.manage_guild):
            return []
        typed = current.casefold().strip().lstrip("@")
        found = []
        for rule, _members, _why in await self.bot.roles.rules(guild.id):
            role = guild.get_role(rule.role_id)
            name = f"@{role.name}" if role is not None else f"deleted role {rule.role_id}"
            if typed in name.casefold() or typed == str(rule.role_id):
                found.append(choice(name, str(rule.role_id)))
        return at_most(found)

    @commands.Cog.listener()
    async def on_guild_role_delete(self, role: discord.Role) -> None:
        await self.bot.roles.role_deleted(role.guild.id, role.id)


def rule_role_id(guild: discord.Guild, typed: str) -> int:
    """The role a /roles remove names: a choice from the list (its id), a mention, or a role's name."""
    text = typed.strip()
    digits = text.removeprefix("<@&").removesuffix(">")
    if digits.isdigit():
        return int(digits)
    wanted = text.lstrip("@").casefold()
    for role in guild.roles:
        if role.name.casefold() == wanted:
            return role.id
    raise UserError("Pick the role from the list `/roles remove` shows; `/roles list` shows this server's rules.")


class MemberSeen(commands.Cog):
    """Any interaction in a server shows the member is in it (the bot gets no member events)."""

    def __init__(self, bot: Hivecord) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        # Keystrokes (autocomplete) are left out: the command they lead to tells the same.
        if interaction.guild_id is not None and interaction.type is not discord.InteractionType.autocomplete:
            await self.bot.roles.member_seen(interaction.guild_id, interaction.user.id)


async def setup(bot: Hivecord) -> None:
    await bot.add_cog(Roles(bot))
    await bot.add_cog(MemberSeen(bot))
