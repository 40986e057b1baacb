"""What the fake Discord knows: users, guilds, roles, members, channels, messages, commands."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from . import permissions as perms
from .permissions import Overwrite
from .snowflake import SnowflakeGenerator, snowflake_time

TEXT_CHANNEL = 0
DM_CHANNEL = 1
CATEGORY_CHANNEL = 4
NEWS_CHANNEL = 5
PUBLIC_THREAD = 11
FORUM_CHANNEL = 15
MEDIA_CHANNEL = 16  # a forum of media posts; missing from the published spec but real
THREAD_TYPES = (10, 11, 12)  # announcement, public and private threads
FORUM_TYPES = (FORUM_CHANNEL, MEDIA_CHANNEL)

EPHEMERAL_FLAG = 1 << 6
LOADING_FLAG = 1 << 7


@dataclass
class User:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None


@dataclass
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int
    position: int = 0
    managed: bool = False
    bot_id: int | None = None
    mentionable: bool = False


@dataclass
class Member:
    guild_id: int
    user_id: int
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))


@dataclass
class ForumTag:
    """One of a forum's `available_tags`."""

    id: int
    name: str
    moderated: bool = False  # only members with Manage Threads may apply it
    emoji_id: int | None = None
    emoji_name: str | None = None


@dataclass
class Channel:
    id: int
    type: int
    name: str = ""
    guild_id: int | None = None
    position: int = 0
    overwrites: list[Overwrite] = field(default_factory=list)
    topic: str | None = None
    parent_id: int | None = None
    recipient_id: int | None = None
    last_message_id: int | None = None
    # Forums: the tags posts may carry. Threads: their state and the forum tags applied.
    available_tags: list[ForumTag] = field(default_factory=list)
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    auto_archive_duration: int = 1440
    archive_timestamp: datetime.datetime | None = None
    applied_tags: list[int] = field(default_factory=list)
    slowmode: int = 0  # rate_limit_per_user: seconds between one member's messages

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    channel_ids: list[int] = field(default_factory=list)
    role_ids: list[int] = field(default_factory=list)
    member_ids: list[int] = field(default_factory=list)


@dataclass
class StoredMessage:
    """A message as Discord stores it; `history` keeps earlier versions, oldest first."""

    id: int
    channel_id: int
    author_id: int
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    allowed_mentions: dict[str, Any] | None = None
    nonce: str | int | None = None
    flags: int = 0
    tts: bool = False
    type: int = 0
    message_reference: dict[str, Any] | None = None
    webhook_id: int | None = None
    interaction_id: int | None = None
    edited_at: datetime.datetime | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False
    embeds_dropped: bool = False  # the author lacked Embed Links, so Discord dropped them
    reactions: dict[str, set[int]] = field(default_factory=dict)  # emoji -> the users who reacted

    @property
    def created_at(self) -> datetime.datetime:
        return snowflake_time(self.id)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL_FLAG)

    def snapshot(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "embeds": self.embeds,
            "components": self.components,
            "flags": self.flags,
            "edited_at": self.edited_at,
        }


@dataclass
class InteractionRecord:
    """One interaction the fake sent and everything the bot did with it."""

    id: int
    token: str
    type: int
    payload: dict[str, Any]
    channel_id: int
    user_id: int
    guild_id: int | None
    created: float  # loop time, for the 3 s answer deadline
    message_id: int | None = None  # the message a component sits on
    callback: dict[str, Any] | None = None
    original_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)


@dataclass
class DefaultWorld:
    """Ids of the seeded server, for tests to name things by role rather than by number."""

    application_id: int
    bot_id: int
    owner_id: int
    admin_id: int
    member_id: int
    guild_id: int
    everyone_role_id: int
    admin_role_id: int
    bot_role_id: int
    general_id: int
    no_view_id: int
    no_send_id: int
    no_embed_id: int


class FakeDiscordState:
    """Plain data plus the rules that need it (permissions, DM channels); no I/O here."""

    def __init__(self, *, bot_name: str = "hivecord") -> None:
        self.ids = SnowflakeGenerator()
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.roles: dict[int, Role] = {}
        self.members: dict[tuple[int, int], Member] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, StoredMessage] = {}
        self.channel_messages: dict[int, list[int]] = {}
        # Registered application commands; key None holds the global ones.
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.dm_channels: dict[int, int] = {}
        self.closed_dms: set[int] = set()
        self.interactions: dict[int, InteractionRecord] = {}
        self.application_id = self.ids.next()
        self.owner = self.add_user("app-owner")
        self.bot = self.add_user(bot_name, bot=True)
        self.world: DefaultWorld | None = None

    # -- building the world -------------------------------------------------------------------

    def add_user(self, username: str, *, bot: bool = False) -> User:
        user = User(id=self.ids.next(), username=username, bot=bot)
        self.users[user.id] = user
        return user

    def add_guild(self, name: str, *, owner_id: int) -> Guild:
        guild = Guild(id=self.ids.next(), name=name, owner_id=owner_id)
        self.guilds[guild.id] = guild
        # @everyone shares the guild's id, as on Discord.
        everyone = Role(id=guild.id, guild_id=guild.id, name="@everyone", permissions=perms.EVERYONE_DEFAULT)
        self.roles[everyone.id] = everyone
        guild.role_ids.append(everyone.id)
        self.add_member(guild.id, owner_id)
        return guild

    def add_role(
        self,
        guild_id: int,
        name: str,
        permissions: int,
        *,
        managed_by: int | None = None,
        mentionable: bool = False,
        position: int | None = None,
    ) -> Role:
        """A new role, on top of the others or at `position` (the roles from there up move one higher)."""
        guild = self.guilds[guild_id]
        if position is None:
            position = len(guild.role_ids)
        else:
            for other in guild.role_ids:
                if other != guild_id and self.roles[other].position >= position:
                    self.roles[other].position += 1
        role = Role(
            id=self.ids.next(),
            guild_id=guild_id,
            name=name,
            permissions=permissions,
            position=position,
            managed=managed_by is not None,
            bot_id=managed_by,
            mentionable=mentionable,
        )
        self.roles[role.id] = role
        guild.role_ids.append(role.id)
        return role

    def add_member(self, guild_id: int, user_id: int, role_ids: list[int] | None = None) -> Member:
        member = Member(guild_id=guild_id, user_id=user_id, role_ids=list(role_ids or []))
        self.members[(guild_id, user_id)] = member
        guild = self.guilds[guild_id]
        if user_id not in guild.member_ids:
            guild.member_ids.append(user_id)
        return member

    def add_text_channel(
        self,
        guild_id: int,
        name: str,
        *,
        overwrites: list[Overwrite] | None = None,
        topic: str | None = None,
        parent_id: int | None = None,
        type: int = TEXT_CHANNEL,
    ) -> Channel:
        guild = self.guilds[guild_id]
        channel = Channel(
            id=self.ids.next(),
            type=type,
            name=name,
            guild_id=guild_id,
            position=len(guild.channel_ids),
            overwrites=list(overwrites or []),
            topic=topic,
            parent_id=parent_id,
        )
        self.channels[channel.id] = channel
        guild.channel_ids.append(channel.id)
        return channel

    def add_forum_channel(
        self,
        guild_id: int,
        name: str,
        *,
        tags: list[str] | None = None,
        moderated: tuple[str, ...] = (),
        overwrites: list[Overwrite] | None = None,
        media: bool = False,
    ) -> Channel:
        """A forum (type 15, or a media channel 16) with one tag per name in `tags`."""
        kind = MEDIA_CHANNEL if media else FORUM_CHANNEL
        channel = self.add_text_channel(guild_id, name, overwrites=overwrites, type=kind)
        channel.available_tags = [ForumTag(self.ids.next(), t, moderated=t in moderated) for t in tags or []]
        return channel

    def add_thread(
        self, parent_id: int, name: str, *, thread_id: int | None = None, auto_archive_duration: int = 1440
    ) -> Channel:
        """A public thread under `parent_id`; a thread on a message takes that message's id."""
        parent = self.channels[parent_id]
        assert parent.guild_id is not None
        thread = Channel(
            id=thread_id if thread_id is not None else self.ids.next(),
            type=PUBLIC_THREAD,
            name=name,
            guild_id=parent.guild_id,
            parent_id=parent_id,
            owner_id=self.bot.id,
            auto_archive_duration=auto_archive_duration,
            archive_timestamp=datetime.datetime.now(datetime.UTC),
        )
        self.channels[thread.id] = thread
        self.guilds[parent.guild_id].channel_ids.append(thread.id)
        return thread

    def set_overwrite(self, channel_id: int, overwrite: Overwrite) -> None:
        channel = self.channels[channel_id]
        channel.overwrites = [
            o for o in channel.overwrites if (o.kind, o.target_id) != (overwrite.kind, overwrite.target_id)
        ]
        channel.overwrites.append(overwrite)

    def remove_guild(self, guild_id: int) -> None:
        guild = self.guilds.pop(guild_id)
        for channel_id in guild.channel_ids:
            self.channels.pop(channel_id, None)
        for role_id in guild.role_ids:
            self.roles.pop(role_id, None)
        for user_id in guild.member_ids:
            self.members.pop((guild_id, user_id), None)

    def seed_default_world(self) -> DefaultWorld:
        """One server with an owner, an admin (Manage Server), a plain member and the bot.

        Channels: #general (all allowed), and three where the bot's role is denied View Channel,
        Send Messages or Embed Links.
        """
        owner = self.add_user("guild-owner")
        admin = self.add_user("admin")
        member = self.add_user("member")
        guild = self.add_guild("Hive Test Guild", owner_id=owner.id)
        admin_role = self.add_role(guild.id, "Admin", perms.MANAGE_GUILD | perms.MANAGE_MESSAGES)
        bot_role = self.add_role(guild.id, self.bot.username, perms.BOT_DEFAULT, managed_by=self.bot.id)
        self.add_member(guild.id, admin.id, [admin_role.id])
        self.add_member(guild.id, member.id)
        self.add_member(guild.id, self.bot.id, [bot_role.id])
        general = self.add_text_channel(guild.id, "general")
        no_view = self.add_text_channel(
            guild.id, "bot-cannot-view", overwrites=[Overwrite(bot_role.id, 0, deny=perms.VIEW_CHANNEL)]
        )
        no_send = self.add_text_channel(
            guild.id, "bot-cannot-send", overwrites=[Overwrite(bot_role.id, 0, deny=perms.SEND_MESSAGES)]
        )
        no_embed = self.add_text_channel(
            guild.id, "bot-cannot-embed", overwrites=[Overwrite(bot_role.id, 0, deny=perms.EMBED_LINKS)]
        )
        self.world = DefaultWorld(
            application_id=self.application_id,
            bot_id=self.bot.id,
            owner_id=owner.id,
            admin_id=admin.id,
            member_id=member.id,
            guild_id=guild.id,
            everyone_role_id=guild.id,
            admin_role_id=admin_role.id,
            bot_role_id=bot_role.id,
            general_id=general.id,
            no_view_id=no_view.id,
            no_send_id=no_send.id,
            no_embed_id=no_embed.id,
        )
        return self.world

    # -- permissions --------------------------------------------------------------------------

    def guild_permissions(self, guild_id: int, user_id: int) -> int:
        guild = self.guilds[guild_id]
        member = self.members[(guild_id, user_id)]
        return perms.base_permissions(
            is_owner=guild.owner_id == user_id,
            everyone_permissions=self.roles[guild_id].permissions,
            role_permissions=[self.roles[r].permissions for r in member.role_ids if r in self.roles],
        )

    def permissions_in(self, channel_id: int, user_id: int) -> int:
        channel = self.channels[channel_id]
        if channel.guild_id is None:
            # DMs have no roles; closed DMs are a separate check (code 50007, not 50013).
            return perms.BOT_DEFAULT
        if (channel.guild_id, user_id) not in self.members:
            return 0
        member = self.members[(channel.guild_id, user_id)]
        # A thread has no overwrites of its own: Discord applies its parent channel's.
        source = channel
        if channel.is_thread and channel.parent_id in self.channels:
            source = self.channels[channel.parent_id]
        return perms.channel_permissions(
            self.guild_permissions(channel.guild_id, user_id),
            guild_id=channel.guild_id,
            member_id=user_id,
            member_role_ids=member.role_ids,
            overwrites=source.overwrites,
        )

    # -- channels and messages ----------------------------------------------------------------

    def dm_channel_for(self, user_id: int) -> Channel:
        channel_id = self.dm_channels.get(user_id)
        if channel_id is not None:
            return self.channels[channel_id]
        channel = Channel(id=self.ids.next(), type=DM_CHANNEL, recipient_id=user_id)
        self.channels[channel.id] = channel
        self.dm_channels[user_id] = channel.id
        return channel

    def store_message(self, message: StoredMessage) -> StoredMessage:
        self.messages[message.id] = message
        self.channel_messages.setdefault(message.channel_id, []).append(message.id)
        if not message.ephemeral and message.channel_id in self.channels:
            self.channels[message.channel_id].last_message_id = message.id
        return message

    def channel_history(self, channel_id: int, *, include_ephemeral: bool = False) -> list[StoredMessage]:
        found = (self.messages[i] for i in self.channel_messages.get(channel_id, []))
        return [m for m in found if not m.deleted and (include_ephemeral or not m.ephemeral)]

    def find_command(self, name: str, guild_id: int | None, type: int = 1) -> tuple[dict[str, Any], bool]:
        """The registered command a user would invoke: guild commands shadow global ones."""
        if guild_id is not None:
            for command in self.commands.get(guild_id, []):
                if command["name"] == name and command.get("type", 1) == type:
                    return command, True
        for command in self.commands.get(None, []):
            if command["name"] == name and command.get("type", 1) == type:
                return command, False
        raise LookupError(f"no application command {name!r} registered (did the bot sync its tree?)")
