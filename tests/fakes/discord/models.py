"""The fake's world: users, guilds, channels, roles, emojis and members, with the exact JSON
shapes discord.py parses. Changes made by tests after the bot connected are dispatched over the
gateway (CHANNEL_CREATE, GUILD_ROLE_CREATE, GUILD_MEMBER_UPDATE, ...)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .actors import MemberActions
from .clock import iso
from .permissions import (
    ADMINISTRATOR,
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    MANAGE_GUILD,
    Intents,
    base_permissions,
    channel_permissions,
)
from .validation import DEFAULT_FILESIZE_LIMIT

if TYPE_CHECKING:
    from .fake import FakeDiscord
    from .records import Message

TIER_FILESIZE_LIMITS = {
    0: DEFAULT_FILESIZE_LIMIT,
    1: DEFAULT_FILESIZE_LIMIT,
    2: 50 * 2**20,
    3: 100 * 2**20,
}


@dataclass(eq=False)
class User:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    dms_open: bool = True  # False: the bot's DMs to this user fail with 50007

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "avatar_decoration_data": None,
            "public_flags": 0,
            # Required by the spec's UserResponse (tests/contracts).
            "flags": 0,
            "primary_guild": None,
        }
        if self.bot:
            data["bot"] = True
        return data

    def __repr__(self) -> str:
        return f"<User {self.username!r} id={self.id}{' bot' if self.bot else ''}>"


@dataclass(eq=False)
class Role:
    id: int
    guild: Guild
    name: str
    permissions: int
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False
    tags: dict[str, Any] | None = None

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(int(self.permissions)),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.tags is not None:
            data["tags"] = self.tags
        return data

    def __repr__(self) -> str:
        return f"<Role {self.name!r} id={self.id} permissions={int(self.permissions)}>"


@dataclass(eq=False)
class Emoji:
    """A custom guild emoji; ``str(emoji)`` is the message form, ``route_key`` the REST form."""

    id: int
    name: str
    guild: Guild
    animated: bool = False

    @property
    def route_key(self) -> str:
        return f"{self.name}:{self.id}"

    def __str__(self) -> str:
        return f"<{'a' if self.animated else ''}:{self.name}:{self.id}>"

    def partial(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": str(self.id), "name": self.name}
        if self.animated:
            data["animated"] = True
        return data

    def payload(self) -> dict[str, Any]:
        return {
            **self.partial(),
            "animated": self.animated,
            "roles": [],
            "require_colons": True,
            "managed": False,
            "available": True,
        }


@dataclass
class Overwrite:
    id: int
    type: int  # 0 role, 1 member
    allow: int = 0
    deny: int = 0

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(int(self.allow)),
            "deny": str(int(self.deny)),
        }


@dataclass(eq=False)
class Channel:
    id: int
    guild: Guild
    name: str
    type: int = 0
    position: int = 0
    topic: str | None = None
    nsfw: bool = False
    parent_id: int | None = None
    overwrites: dict[int, Overwrite] = field(default_factory=dict)
    last_message_id: int | None = None

    @property
    def guild_id(self) -> int | None:
        return self.guild.id

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild.id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.payload() for o in self.overwrites.values()],
            "nsfw": self.nsfw,
            "parent_id": None if self.parent_id is None else str(self.parent_id),
            "flags": 0,
        }
        if self.type in (0, 2, 5):
            data["topic"] = self.topic
            data["last_message_id"] = (
                None if self.last_message_id is None else str(self.last_message_id)
            )
            data["rate_limit_per_user"] = 0
        return data

    def messages(self) -> list[Message]:
        return self.guild.fake.messages(self)

    def __repr__(self) -> str:
        return f"<Channel #{self.name} id={self.id}>"


@dataclass(eq=False)
class DMChannel:
    id: int
    recipient: User
    last_message_id: int | None = None
    type: int = 1

    @property
    def guild_id(self) -> int | None:
        return None

    @property
    def guild(self) -> None:
        return None

    @property
    def name(self) -> str:
        return f"DM with {self.recipient.username}"

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": 1,
            "last_message_id": None if self.last_message_id is None else str(self.last_message_id),
            "recipients": [self.recipient.payload()],
            "flags": 0,
        }

    def __repr__(self) -> str:
        return f"<DMChannel with {self.recipient.username!r} id={self.id}>"


class Member(MemberActions):
    """A guild member. Test members also act (``slash``, ``click``, ``react``... see actors)."""

    def __init__(
        self,
        fake: FakeDiscord,
        guild: Guild,
        user: User,
        *,
        role_ids: list[int],
        locale: str = "en-US",
        nick: str | None = None,
    ) -> None:
        self.fake = fake
        self.guild = guild
        self.user = user
        self.role_ids = role_ids
        self.locale = locale
        self.nick = nick
        self.joined_at = fake.clock.now()

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def name(self) -> str:
        return self.user.username

    @property
    def mention(self) -> str:
        return self.user.mention

    @property
    def dms_open(self) -> bool:
        return self.user.dms_open

    @dms_open.setter
    def dms_open(self, value: bool) -> None:
        self.user.dms_open = value

    @property
    def roles(self) -> list[Role]:
        return [self.guild.roles[r] for r in self.role_ids if r in self.guild.roles]

    @property
    def permissions(self) -> int:
        """Guild-level permissions (roles, owner, administrator)."""
        return base_permissions(self)

    def permissions_in(self, channel: Channel) -> int:
        return channel_permissions(self, channel)

    def add_role(self, role: Role) -> None:
        if role.id not in self.role_ids:
            self.role_ids.append(role.id)
            self._member_updated()

    def remove_role(self, role: Role) -> None:
        if role.id in self.role_ids:
            self.role_ids.remove(role.id)
            self._member_updated()

    def _member_updated(self) -> None:
        data = {"guild_id": str(self.guild.id), **self.payload()}
        intent = None if self.user.bot else Intents.GUILD_MEMBERS
        self.fake._dispatch("GUILD_MEMBER_UPDATE", data, intent=intent)
        self.fake._notify()

    def payload(self, *, with_user: bool = True, permissions: int | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.role_ids],
            "joined_at": iso(self.joined_at),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "premium_since": None,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        if permissions is not None:
            data["permissions"] = str(int(permissions))
        return data

    def __repr__(self) -> str:
        return f"<Member {self.name!r} id={self.id} guild={self.guild.name!r}>"


class Guild:
    """A guild. Create with ``fake.add_guild``; then add channels, roles, members, emojis."""

    def __init__(
        self,
        fake: FakeDiscord,
        guild_id: int,
        name: str,
        *,
        locale: str,
        premium_tier: int,
        features: list[str],
        bot_permissions: int,
        owner_id: int,
    ) -> None:
        self.fake = fake
        self.id = guild_id
        self.name = name
        self.locale = locale
        self.premium_tier = premium_tier
        self.features = list(features)
        self.owner_id = owner_id
        self.created_at = fake.clock.now()
        self._filesize_limit: int | None = None
        self.roles: dict[int, Role] = {}
        self.channels: dict[int, Channel] = {}
        self.members: dict[int, Member] = {}
        self.emojis: dict[int, Emoji] = {}
        self.roles[guild_id] = Role(guild_id, self, "@everyone", int(DEFAULT_EVERYONE_PERMISSIONS))
        bot_role = Role(
            fake._new_id(),
            self,
            fake.bot_user.username,
            int(bot_permissions),
            position=1,
            managed=True,
            tags={"bot_id": str(fake.bot_user.id)},
        )
        self.roles[bot_role.id] = bot_role
        self.bot_role = bot_role
        self._admin_role: Role | None = None
        self.members[fake.bot_user.id] = Member(fake, self, fake.bot_user, role_ids=[bot_role.id])
        self.default_channel = self._create_channel(
            "general", type=0, topic=None, nsfw=False, parent=None
        )

    # -- properties ------------------------------------------------------------------------
    @property
    def everyone_role(self) -> Role:
        return self.roles[self.id]

    @property
    def bot_member(self) -> Member:
        return self.members[self.fake.bot_user.id]

    @property
    def filesize_limit(self) -> int:
        """Per-file upload limit: 10 MiB, 50 MiB at boost tier 2, 100 MiB at tier 3 (settable)."""
        if self._filesize_limit is not None:
            return self._filesize_limit
        return TIER_FILESIZE_LIMITS.get(self.premium_tier, DEFAULT_FILESIZE_LIMIT)

    @filesize_limit.setter
    def filesize_limit(self, value: int | None) -> None:
        self._filesize_limit = value

    def channel(self, name: str) -> Channel:
        for channel in self.channels.values():
            if channel.name == name:
                return channel
        raise KeyError(f"no channel #{name} in {self.name!r}")

    def member(self, name: str) -> Member:
        for member in self.members.values():
            if member.name == name:
                return member
        raise KeyError(f"no member {name!r} in {self.name!r}")

    # -- building the guild ----------------------------------------------------------------
    def _create_channel(
        self, name: str, *, type: int, topic: str | None, nsfw: bool, parent: Channel | None
    ) -> Channel:
        channel = Channel(
            self.fake._new_id(),
            self,
            name,
            type=type,
            position=len(self.channels),
            topic=topic,
            nsfw=nsfw,
            parent_id=None if parent is None else parent.id,
        )
        self.channels[channel.id] = channel
        self.fake._channels[channel.id] = channel
        return channel

    def add_channel(
        self,
        name: str,
        *,
        type: int = 0,
        topic: str | None = None,
        nsfw: bool = False,
        parent: Channel | None = None,
    ) -> Channel:
        channel = self._create_channel(name, type=type, topic=topic, nsfw=nsfw, parent=parent)
        self.fake._dispatch("CHANNEL_CREATE", channel.payload(), intent=Intents.GUILDS, guild=self)
        self.fake._notify()
        return channel

    def add_role(
        self,
        name: str,
        permissions: int = 0,
        *,
        color: int = 0,
        hoist: bool = False,
        mentionable: bool = False,
    ) -> Role:
        role = Role(
            self.fake._new_id(),
            self,
            name,
            int(permissions),
            position=len(self.roles),
            color=color,
            hoist=hoist,
            mentionable=mentionable,
        )
        self.roles[role.id] = role
        self._role_event("GUILD_ROLE_CREATE", role)
        return role

    def set_role_permissions(self, role: Role, permissions: int) -> None:
        role.permissions = int(permissions)
        self._role_event("GUILD_ROLE_UPDATE", role)

    def set_bot_permissions(self, permissions: int) -> None:
        """Guild-wide permissions of the bot's managed role (the invite's permission integer)."""
        self.set_role_permissions(self.bot_role, permissions)

    def _role_event(self, event: str, role: Role) -> None:
        data = {"guild_id": str(self.id), "role": role.payload()}
        self.fake._dispatch(event, data, intent=Intents.GUILDS, guild=self)
        self.fake._notify()

    def _admin(self) -> Role:
        if self._admin_role is None:
            self._admin_role = self.add_role(
                "Admins", int(ADMINISTRATOR | MANAGE_GUILD), hoist=True
            )
        return self._admin_role

    def add_member(
        self,
        name: str,
        roles: list[Role] | tuple[Role, ...] = (),
        admin: bool = False,
        locale: str = "en-US",
        *,
        nick: str | None = None,
        global_name: str | None = None,
    ) -> Member:
        user = User(self.fake._new_id(), name, global_name=global_name or name.title())
        self.fake._users[user.id] = user
        role_ids = [r.id for r in roles]
        if admin:
            role_ids.append(self._admin().id)
        member = Member(self.fake, self, user, role_ids=role_ids, locale=locale, nick=nick)
        self.members[user.id] = member
        data = {"guild_id": str(self.id), **member.payload()}
        self.fake._dispatch("GUILD_MEMBER_ADD", data, intent=Intents.GUILD_MEMBERS, guild=self)
        self.fake._notify()
        return member

    def add_emoji(self, name: str, *, animated: bool = False) -> Emoji:
        emoji = Emoji(self.fake._new_id(), name, self, animated=animated)
        self.emojis[emoji.id] = emoji
        data = {"guild_id": str(self.id), "emojis": [e.payload() for e in self.emojis.values()]}
        self.fake._dispatch(
            "GUILD_EMOJIS_UPDATE", data, intent=Intents.GUILD_EXPRESSIONS, guild=self
        )
        self.fake._notify()
        return emoji

    def set_channel_permissions(
        self, channel: Channel, target: Role | Member, *, allow: int = 0, deny: int = 0
    ) -> None:
        """Set (replace) the permission overwrite for a role or member on a channel."""
        kind = 0 if isinstance(target, Role) else 1
        channel.overwrites[target.id] = Overwrite(target.id, kind, int(allow), int(deny))
        self.fake._dispatch("CHANNEL_UPDATE", channel.payload(), intent=Intents.GUILDS, guild=self)
        self.fake._notify()

    def set_bot_channel_permissions(
        self, channel: Channel, *, allow: int = 0, deny: int = 0
    ) -> None:
        """E.g. ``deny=ATTACH_FILES``: channel posts and interaction responses with files then
        get 403 50013."""
        self.set_channel_permissions(channel, self.bot_member, allow=allow, deny=deny)

    def set_premium_tier(self, tier: int) -> None:
        self.premium_tier = tier
        self.fake._dispatch("GUILD_UPDATE", self.rest_payload(), intent=Intents.GUILDS, guild=self)
        self.fake._notify()

    # -- payloads ---------------------------------------------------------------------------
    def rest_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "icon_hash": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(self.owner_id),
            "region": "deprecated",
            "afk_channel_id": None,
            "afk_timeout": 300,
            "widget_enabled": False,
            "widget_channel_id": None,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [r.payload() for r in self.roles.values()],
            "emojis": [e.payload() for e in self.emojis.values()],
            "features": list(self.features),
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": str(self.default_channel.id),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "max_presences": None,
            "max_members": 500000,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": self.premium_tier,
            "premium_subscription_count": {0: 0, 1: 2, 2: 7, 3: 14}.get(self.premium_tier, 0),
            "preferred_locale": self.locale,
            "public_updates_channel_id": None,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "nsfw_level": 0,
            "nsfw": False,
            "home_header": None,  # required by the spec's GuildResponse (tests/contracts)
            "stickers": [],
            "premium_progress_bar_enabled": False,
            "safety_alerts_channel_id": None,
            "incidents_data": None,
        }

    def gateway_payload(self, intents: int, *, joined: bool = False) -> dict[str, Any]:
        """GUILD_CREATE: members are only all there with the GUILD_MEMBERS intent. ``joined``:
        the bot was just added (no ``unavailable`` key, so discord.py fires on_guild_join)."""
        if intents & Intents.GUILD_MEMBERS:
            members = list(self.members.values())
        else:
            members = [self.bot_member]
        data = {
            **self.rest_payload(),
            "joined_at": iso(self.created_at),
            "large": len(self.members) >= 250,
            "unavailable": False,
            "member_count": len(self.members),
            "voice_states": [],
            "members": [m.payload() for m in members],
            "channels": [c.payload() for c in self.channels.values()],
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }
        if joined:
            del data["unavailable"]
        return data

    def partial_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "banner": None,
            "owner": False,
            "permissions": str(self.bot_member.permissions),
            "features": list(self.features),
        }

    def interaction_guild(self) -> dict[str, Any]:
        return {"id": str(self.id), "locale": self.locale, "features": list(self.features)}

    def __repr__(self) -> str:
        return f"<Guild {self.name!r} id={self.id}>"


__all__ = [
    "DEFAULT_BOT_PERMISSIONS",
    "Channel",
    "DMChannel",
    "Emoji",
    "Guild",
    "Member",
    "Overwrite",
    "Role",
    "User",
]
