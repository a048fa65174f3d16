"""Loopback fake of Discord's REST API, gateway and CDN for end-to-end tests of the bot.

Start it, point the bot at ``fake.base_url`` (DISCORD_API_BASE) with ``fake.bot_token``, then
drive it with test members::

    async with FakeDiscord() as fake:
        guild = fake.add_guild("Test Guild")
        alice = guild.add_member("alice")
        ...start the bot...
        await fake.wait_until_ready()
        h = await alice.slash("character create", prompt="a knight")
        await h.wait_ack()
        msg = await h.wait_original(lambda m: m.attachments)
        assert fake.violations == []
"""

from .actors import InteractionRejected
from .clock import FakeClock
from .errors import APIError
from .fake import FakeDiscord
from .interactions import InteractionHandle, InteractionRecord
from .models import Channel, DMChannel, Emoji, Guild, Member, Role, User
from .permissions import (
    ADD_REACTIONS,
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    ATTACH_FILES,
    CREATE_INSTANT_INVITE,
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    EMBED_LINKS,
    MANAGE_CHANNELS,
    MANAGE_GUILD,
    MANAGE_MESSAGES,
    MANAGE_ROLES,
    MENTION_EVERYONE,
    PRIVILEGED_INTENTS,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    SEND_TTS_MESSAGES,
    USE_APPLICATION_COMMANDS,
    USE_EXTERNAL_EMOJIS,
    VIEW_CHANNEL,
    Intents,
    Permissions,
)
from .records import (
    FLAG_EPHEMERAL,
    FLAG_IS_COMPONENTS_V2,
    FLAG_LOADING,
    FLAG_SUPPRESS_EMBEDS,
    Attachment,
    CallbackRecord,
    GatewayRecord,
    Message,
    MessageState,
    RequestRecord,
    SyncRecord,
    Upload,
)

__all__ = [
    "ADD_REACTIONS",
    "ADMINISTRATOR",
    "ALL_PERMISSIONS",
    "ATTACH_FILES",
    "CREATE_INSTANT_INVITE",
    "DEFAULT_BOT_PERMISSIONS",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "EMBED_LINKS",
    "FLAG_EPHEMERAL",
    "FLAG_IS_COMPONENTS_V2",
    "FLAG_LOADING",
    "FLAG_SUPPRESS_EMBEDS",
    "MANAGE_CHANNELS",
    "MANAGE_GUILD",
    "MANAGE_MESSAGES",
    "MANAGE_ROLES",
    "MENTION_EVERYONE",
    "PRIVILEGED_INTENTS",
    "READ_MESSAGE_HISTORY",
    "SEND_MESSAGES",
    "SEND_MESSAGES_IN_THREADS",
    "SEND_TTS_MESSAGES",
    "USE_APPLICATION_COMMANDS",
    "USE_EXTERNAL_EMOJIS",
    "VIEW_CHANNEL",
    "APIError",
    "Attachment",
    "CallbackRecord",
    "Channel",
    "DMChannel",
    "Emoji",
    "FakeClock",
    "FakeDiscord",
    "GatewayRecord",
    "Guild",
    "Intents",
    "InteractionHandle",
    "InteractionRecord",
    "InteractionRejected",
    "Member",
    "Message",
    "MessageState",
    "Permissions",
    "RequestRecord",
    "Role",
    "SyncRecord",
    "Upload",
    "User",
]
