"""Adding a picture to the server as a sticker or an emoji (issue #23): forms and Discord calls.

The rules (names, tags, slots, the file within Discord's limits) are bot/expressions.py's;
this module asks Discord. Manage Expressions is checked when the button is pressed and again
when the form comes back (a role may change in between); the bot's own permission too.
Discord's refusals become our messages: no raw Discord error reaches a member.
"""

from __future__ import annotations

import io
import logging

import discord

from bot.errors import BotError, NotAllowed, UserInputError
from bot.expressions import (
    DESCRIPTION_MAX,
    STICKER_NAME_MAX,
    ExpressionFile,
    ExpressionKind,
    PictureCheck,
    check_free_slot,
    check_name_free,
    emoji_name,
    sticker_description,
    sticker_name,
    sticker_tag,
    suggested_emoji_name,
)
from bot.i18n import Markdown
from cogs._shared.context import services, tr, tr_plain
from cogs._shared.errors import handle_interaction_error
from cogs._shared.reply import acknowledge, reply

__all__ = ["EmojiModal", "StickerModal", "require_expression_permissions"]

log = logging.getLogger(__name__)

# Discord's JSON error codes for these two endpoints, and what the member is told.
_DISCORD_REFUSALS = {
    30008: "creator.error_emoji_slots_full",
    30039: "creator.error_sticker_slots_full",
    50013: "creator.error_bot_permission",
    50045: "creator.error_file_too_large",
    50046: "creator.error_file_unreadable",
    50138: "creator.error_file_too_large",
}


def require_expression_permissions(interaction: discord.Interaction) -> None:
    """Manage Expressions for the member (in this server) and for the bot, or a refusal."""
    if interaction.guild is None or not interaction.permissions.manage_expressions:
        raise NotAllowed("creator.error_member_permission")
    bot = interaction.app_permissions
    if not (bot.manage_expressions or bot.create_expressions):
        raise NotAllowed("creator.error_bot_permission")


class _ExpressionModal(discord.ui.Modal):
    def __init__(
        self, interaction: discord.Interaction, picture: PictureCheck, title_key: str
    ) -> None:
        super().__init__(title=tr_plain(interaction, title_key)[:45], timeout=15 * 60)
        self.image_id = picture.image_id

    def add_field(
        self,
        interaction: discord.Interaction,
        key: str,
        *,
        max_length: int,
        default: str = "",
        required: bool = True,
    ) -> discord.ui.TextInput[discord.ui.Modal]:
        """A text field under its label, both named by ``key`` (``creator.<key>_label`` and
        ``creator.<key>_hint``), added below the fields before it; returned to read on submit."""
        field: discord.ui.TextInput[discord.ui.Modal] = discord.ui.TextInput(
            placeholder=tr_plain(interaction, f"creator.{key}_hint")[:100],
            default=default[:max_length] or None,
            max_length=max_length,
            required=required,
            custom_id=key,
        )
        label = tr_plain(interaction, f"creator.{key}_label")[:45]
        self.add_item(discord.ui.Label(text=label, component=field))
        return field

    async def on_submit(self, interaction: discord.Interaction) -> None:
        try:
            await acknowledge(interaction)  # private: only this member sees how it went
            require_expression_permissions(interaction)  # again: roles change
            await self.add(interaction)
        except discord.HTTPException as exc:
            await handle_interaction_error(interaction, _refusal(exc, interaction.guild))
        except Exception as error:
            await handle_interaction_error(interaction, error)

    async def add(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError

    async def file_for(
        self,
        interaction: discord.Interaction,
        kind: ExpressionKind,
        name: str,
        taken_names: list[str],
        limit: int,
    ) -> ExpressionFile:
        """The picture's file, once the server has a free slot and ``name`` is not taken."""
        check_free_slot(kind, len(taken_names), limit)
        check_name_free(kind, name, taken_names)
        guild_id = interaction.guild_id or 0
        expressions = services(interaction).expressions
        return await expressions.make_file(guild_id, interaction.user.id, self.image_id, kind)


def _audit_reason(made: ExpressionFile, interaction: discord.Interaction) -> str:
    """What the server's audit log says about a new sticker or emoji."""
    return f"Picture #{made.image.id}, added by {interaction.user.id}"


class StickerModal(_ExpressionModal):
    """Name, related emoji and description of the new sticker."""

    def __init__(self, interaction: discord.Interaction, picture: PictureCheck) -> None:
        super().__init__(interaction, picture, "creator.sticker_title")
        self.name = self.add_field(
            interaction,
            "sticker_name",
            max_length=STICKER_NAME_MAX,
            default=picture.character_name if len(picture.character_name) >= 2 else "",
        )
        self.tag = self.add_field(interaction, "sticker_tag", max_length=16, default="😊")
        self.description = self.add_field(
            interaction, "sticker_description", max_length=DESCRIPTION_MAX, required=False
        )

    async def add(self, interaction: discord.Interaction) -> None:
        guild = interaction.guild
        assert guild is not None  # require_expression_permissions refused DMs
        name = sticker_name(self.name.value)
        tag = sticker_tag(self.tag.value)
        description = sticker_description(self.description.value)
        taken = [sticker.name for sticker in await guild.fetch_stickers()]
        made = await self.file_for(interaction, "sticker", name, taken, guild.sticker_limit)
        sticker = await guild.create_sticker(
            name=name,
            description=description,
            emoji=tag,
            file=discord.File(io.BytesIO(made.data), filename="sticker.png"),
            reason=_audit_reason(made, interaction),
        )
        text = tr(interaction, "creator.sticker_added", name=sticker.name, id=made.image.id)
        await reply(interaction, content=text, ephemeral=True)


class EmojiModal(_ExpressionModal):
    """The new emoji's name (letters, digits and underscores)."""

    def __init__(self, interaction: discord.Interaction, picture: PictureCheck) -> None:
        super().__init__(interaction, picture, "creator.emoji_title")
        self.name = self.add_field(
            interaction,
            "emoji_name",
            max_length=32,
            default=suggested_emoji_name(picture.character_name),
        )

    async def add(self, interaction: discord.Interaction) -> None:
        guild = interaction.guild
        assert guild is not None
        name = emoji_name(self.name.value)
        # Animated emoji have slots of their own: only still ones count against this one.
        taken = [emoji.name for emoji in await guild.fetch_emojis() if not emoji.animated]
        made = await self.file_for(interaction, "emoji", name, taken, guild.emoji_limit)
        emoji = await guild.create_custom_emoji(
            name=name, image=made.data, reason=_audit_reason(made, interaction)
        )
        text = tr(interaction, "creator.emoji_added", emoji=Markdown(str(emoji)), name=emoji.name)
        await reply(interaction, content=text, ephemeral=True)


def _refusal(exc: discord.HTTPException, guild: discord.Guild | None) -> BotError:
    """Discord's answer as our message; the raw error only reaches the log."""
    key = _DISCORD_REFUSALS.get(exc.code)
    limit = 0
    if guild is not None:
        limit = guild.sticker_limit if exc.code == 30039 else guild.emoji_limit
    if key is None and isinstance(exc, discord.Forbidden):
        key = "creator.error_bot_permission"
    if key is None and exc.status == 400:
        key = "creator.error_rejected"
    log.warning("Discord refused a sticker or emoji: %s %s %s", exc.status, exc.code, exc.text)
    if key is None:
        return BotError("creator.error_discord")
    return UserInputError(key, count=limit)
