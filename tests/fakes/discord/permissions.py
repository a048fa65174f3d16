"""Permission and intent bits, and Discord's channel permission algorithm."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Channel, Member


class Permissions(enum.IntFlag):
    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    PRIORITY_SPEAKER = 1 << 8
    STREAM = 1 << 9
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    SEND_TTS_MESSAGES = 1 << 12
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    VIEW_GUILD_INSIGHTS = 1 << 19
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    MUTE_MEMBERS = 1 << 22
    DEAFEN_MEMBERS = 1 << 23
    MOVE_MEMBERS = 1 << 24
    USE_VAD = 1 << 25
    CHANGE_NICKNAME = 1 << 26
    MANAGE_NICKNAMES = 1 << 27
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    MANAGE_GUILD_EXPRESSIONS = 1 << 30
    USE_APPLICATION_COMMANDS = 1 << 31
    REQUEST_TO_SPEAK = 1 << 32
    MANAGE_EVENTS = 1 << 33
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    USE_EXTERNAL_STICKERS = 1 << 37
    SEND_MESSAGES_IN_THREADS = 1 << 38
    USE_EMBEDDED_ACTIVITIES = 1 << 39
    MODERATE_MEMBERS = 1 << 40
    VIEW_CREATOR_MONETIZATION_ANALYTICS = 1 << 41
    USE_SOUNDBOARD = 1 << 42
    CREATE_GUILD_EXPRESSIONS = 1 << 43
    CREATE_EVENTS = 1 << 44
    USE_EXTERNAL_SOUNDS = 1 << 45
    SEND_VOICE_MESSAGES = 1 << 46
    SEND_POLLS = 1 << 49
    USE_EXTERNAL_APPS = 1 << 50
    PIN_MESSAGES = 1 << 51


CREATE_INSTANT_INVITE = Permissions.CREATE_INSTANT_INVITE
ADMINISTRATOR = Permissions.ADMINISTRATOR
MANAGE_CHANNELS = Permissions.MANAGE_CHANNELS
MANAGE_GUILD = Permissions.MANAGE_GUILD
ADD_REACTIONS = Permissions.ADD_REACTIONS
VIEW_CHANNEL = Permissions.VIEW_CHANNEL
SEND_MESSAGES = Permissions.SEND_MESSAGES
SEND_TTS_MESSAGES = Permissions.SEND_TTS_MESSAGES
MANAGE_MESSAGES = Permissions.MANAGE_MESSAGES
EMBED_LINKS = Permissions.EMBED_LINKS
ATTACH_FILES = Permissions.ATTACH_FILES
READ_MESSAGE_HISTORY = Permissions.READ_MESSAGE_HISTORY
MENTION_EVERYONE = Permissions.MENTION_EVERYONE
USE_EXTERNAL_EMOJIS = Permissions.USE_EXTERNAL_EMOJIS
MANAGE_ROLES = Permissions.MANAGE_ROLES
USE_APPLICATION_COMMANDS = Permissions.USE_APPLICATION_COMMANDS
SEND_MESSAGES_IN_THREADS = Permissions.SEND_MESSAGES_IN_THREADS

ALL_PERMISSIONS = Permissions(sum(p.value for p in Permissions))

#: What the bot may do in a direct message (there are no roles or overwrites there).
DM_BOT_PERMISSIONS = (
    VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES | READ_MESSAGE_HISTORY | ADD_REACTIONS
)

#: What the invite link in discord-facts.md grants the bot (379968).
DEFAULT_BOT_PERMISSIONS = DM_BOT_PERMISSIONS | USE_EXTERNAL_EMOJIS

#: @everyone in a freshly created guild (roughly what Discord grants).
DEFAULT_EVERYONE_PERMISSIONS = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | Permissions.STREAM
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | SEND_TTS_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | MENTION_EVERYONE
    | USE_EXTERNAL_EMOJIS
    | Permissions.CONNECT
    | Permissions.SPEAK
    | Permissions.USE_VAD
    | Permissions.CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
    | Permissions.REQUEST_TO_SPEAK
    | Permissions.CREATE_PUBLIC_THREADS
    | Permissions.CREATE_PRIVATE_THREADS
    | Permissions.USE_EXTERNAL_STICKERS
    | SEND_MESSAGES_IN_THREADS
    | Permissions.USE_EMBEDDED_ACTIVITIES
    | Permissions.SEND_VOICE_MESSAGES
    | Permissions.SEND_POLLS
    | Permissions.USE_EXTERNAL_APPS
)


class Intents(enum.IntFlag):
    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_MODERATION = 1 << 2
    GUILD_EXPRESSIONS = 1 << 3
    GUILD_INTEGRATIONS = 1 << 4
    GUILD_WEBHOOKS = 1 << 5
    GUILD_INVITES = 1 << 6
    GUILD_VOICE_STATES = 1 << 7
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    GUILD_MESSAGE_TYPING = 1 << 11
    DIRECT_MESSAGES = 1 << 12
    DIRECT_MESSAGE_REACTIONS = 1 << 13
    DIRECT_MESSAGE_TYPING = 1 << 14
    MESSAGE_CONTENT = 1 << 15
    GUILD_SCHEDULED_EVENTS = 1 << 16
    AUTO_MODERATION_CONFIGURATION = 1 << 20
    AUTO_MODERATION_EXECUTION = 1 << 21
    GUILD_MESSAGE_POLLS = 1 << 24
    DIRECT_MESSAGE_POLLS = 1 << 25


PRIVILEGED_INTENTS = Intents.GUILD_MEMBERS | Intents.GUILD_PRESENCES | Intents.MESSAGE_CONTENT


def base_permissions(member: Member) -> int:
    """Guild-level permissions of a member (roles only, no channel overwrites)."""
    guild = member.guild
    if member.user.id == guild.owner_id:
        return int(ALL_PERMISSIONS)
    perms = guild.everyone_role.permissions
    for role_id in member.role_ids:
        role = guild.roles.get(role_id)
        if role is not None:
            perms |= role.permissions
    if perms & ADMINISTRATOR:
        return int(ALL_PERMISSIONS)
    return int(perms)


def channel_permissions(member: Member, channel: Channel) -> int:
    """Discord's documented overwrite algorithm, plus the implicit text-channel rules."""
    perms = base_permissions(member)
    if perms & ADMINISTRATOR:
        return int(ALL_PERMISSIONS)
    guild = member.guild
    overwrites = channel.overwrites
    everyone = overwrites.get(guild.id)
    if everyone is not None:
        perms &= ~everyone.deny
        perms |= everyone.allow
    allow = deny = 0
    for role_id in member.role_ids:
        overwrite = overwrites.get(role_id)
        if overwrite is not None:
            allow |= overwrite.allow
            deny |= overwrite.deny
    perms &= ~deny
    perms |= allow
    own = overwrites.get(member.user.id)
    if own is not None:
        perms &= ~own.deny
        perms |= own.allow
    if not perms & VIEW_CHANNEL:
        return 0
    if not perms & SEND_MESSAGES:
        perms &= ~(SEND_TTS_MESSAGES | MENTION_EVERYONE | EMBED_LINKS | ATTACH_FILES)
    return int(perms)


def missing(have: int, need: int) -> list[str]:
    """Names of the bits in ``need`` that ``have`` lacks."""
    return [p.name or str(p.value) for p in Permissions if p & need and not p & have]
