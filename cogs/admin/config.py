"""/config: the server's settings, shown as one embed and changed with subcommands.

The allowed channels set here are enforced for every command by the command tree
(cogs/_shared/tree.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.errors import UserInputError
from bot.quotas import MODEL_TIERS
from bot.records import SCENE_MODES, GuildConfig
from cogs._shared.choices import SIZE_CHOICES, STYLE_CHOICES, Count, localised_choices
from cogs._shared.context import services, tr
from cogs._shared.options import Option, command, options
from cogs._shared.reply import reply
from cogs.admin.checks import AcknowledgeFirst, admin_only, require_admin
from cogs.admin.config_views import config_embed
from cogs.admin.emoji import parse_emoji

if TYPE_CHECKING:
    from cogs._shared.context import ServicedBot

__all__ = ["ConfigCog"]

TIER_NAMES = {
    "economy": "Economy: cheapest pictures",
    "standard": "Standard",
    "premium": "Premium: best quality, costs more",
}
TIER_CHOICES = localised_choices("config.choice_tier_{value}", TIER_NAMES, MODEL_TIERS)
GALLERY_CHOICES = localised_choices(
    "config.choice_gallery_{value}",
    {
        "public": "Public: everyone sees everyone's pictures",
        "private": "Private: members see only their own",
    },
)

SCENE_NAMES = {
    "off": "Off: no scenes",
    "own": "Own characters only",
    "any": "Any public character whose owner allows it",
}
SCENE_CHOICES = localised_choices("scene.config.choice_{value}", SCENE_NAMES, SCENE_MODES)


# This file's slash-command options, each declared once (cogs/_shared/options.py).
ALERT_CHANNEL = Option(
    "channel", "The admin alert channel", key="admin.alert_channel", name_key="admin.channel"
)
ALLOWED = Option("allowed", "Allowed or not", key="admin.allowed")
CHANNEL = Option("channel", "The channel", key="admin.channel")
EMOJI = Option("emoji", "One emoji, e.g. ⭐ or a server emoji", key="admin.emoji")
MAX_COUNT = Option("max-count", "Most pictures one request may ask for", key="admin.max_count")
SIZE = Option("size", "Default picture shape", key="admin.size")
STYLE = Option("style", "Default art style", key="admin.style")
SCENES = Option("mode", "Whose characters members may put in a scene", key="admin.scenes")
TIER = Option("tier", "The tier", key="admin.tier")
VISIBILITY = Option("visibility", "Public or private", key="admin.visibility")
RETENTION_DAYS = Option(
    "days",
    "Days to keep pictures nobody favorited; 0 keeps them for ever",
    key="admin.retention_days",
)


@admin_only
class ConfigCog(
    AcknowledgeFirst,
    commands.GroupCog,
    group_name=_("config", key="cmd.config.name"),
    group_description=_("Admins: this server's settings", key="cmd.config.description"),
):
    def __init__(self, bot: ServicedBot) -> None:
        self.bot = bot
        super().__init__()

    async def _saved(self, interaction: discord.Interaction, **changes: Any) -> None:
        settings = services(interaction).guild_settings
        await self._show(
            interaction,
            await settings.update(interaction.guild_id or 0, **changes),
            tr(interaction, "config.saved"),
        )

    async def _show(
        self, interaction: discord.Interaction, config: GuildConfig, note: str | None = None
    ) -> None:
        retention_days = await services(interaction).retention.days(config.guild_id)
        embed = config_embed(interaction, config, retention_days)
        await reply(interaction, content=note, embed=embed, ephemeral=True)

    @command("show", "See every setting of this server", key="config.show")
    async def show(self, interaction: discord.Interaction) -> None:
        require_admin(interaction)
        config = await services(interaction).guild_settings.config(interaction.guild_id or 0)
        await self._show(interaction, config)

    @command(
        "allow-channel",
        "Allow commands in a channel (once any is set, only those)",
        key="config.allow_channel",
    )
    @options(channel=CHANNEL)
    async def allow_channel(
        self, interaction: discord.Interaction, channel: discord.TextChannel
    ) -> None:
        require_admin(interaction)
        await self._check_channel(interaction, channel)
        config = await services(interaction).guild_settings.allow_channel(
            interaction.guild_id or 0, channel.id
        )
        await self._show(
            interaction, config, tr(interaction, "config.channel_added", channel=channel.mention)
        )

    @command(
        "remove-channel",
        "Stop allowing commands in a channel (none left = anywhere)",
        key="config.remove_channel",
    )
    @options(channel=CHANNEL)
    async def remove_channel(
        self, interaction: discord.Interaction, channel: discord.TextChannel
    ) -> None:
        require_admin(interaction)
        removed = await services(interaction).guild_settings.remove_channel(
            interaction.guild_id or 0, channel.id
        )
        key = "config.channel_removed" if removed.left else "config.channel_removed_anywhere"
        await self._show(interaction, removed.config, tr(interaction, key, channel=channel.mention))

    @command(
        "defaults",
        "Default style and size, and the most pictures per request",
        key="config.defaults",
    )
    @options(style=STYLE, size=SIZE, max_count=MAX_COUNT)
    @app_commands.choices(style=STYLE_CHOICES, size=SIZE_CHOICES)
    async def defaults(
        self,
        interaction: discord.Interaction,
        style: str | None = None,
        size: str | None = None,
        max_count: Count | None = None,
    ) -> None:
        require_admin(interaction)
        # Choices are suggestions a modified client can ignore: the service checks them.
        config = await services(interaction).guild_settings.set_defaults(
            interaction.guild_id or 0, style=style, size=size, max_count=max_count
        )
        await self._show(interaction, config, tr(interaction, "config.saved"))

    @command("model", "Model tier: cheaper pictures or better ones", key="config.model")
    @options(tier=TIER)
    @app_commands.choices(tier=TIER_CHOICES)
    async def model(self, interaction: discord.Interaction, tier: str) -> None:
        require_admin(interaction)
        # Choices are suggestions a modified client can ignore: the service checks the tier.
        config = await services(interaction).guild_settings.set_model_tier(
            interaction.guild_id or 0, tier
        )
        await self._show(interaction, config, tr(interaction, "config.saved"))

    @command("forks", "Whether members may fork other members' characters", key="config.forks")
    @options(allowed=ALLOWED)
    async def forks(self, interaction: discord.Interaction, allowed: bool) -> None:
        require_admin(interaction)
        await self._saved(interaction, allow_forks=allowed)

    @command("emoji", "The reaction that marks a favorite picture", key="config.emoji")
    @options(emoji=EMOJI)
    async def emoji(
        self, interaction: discord.Interaction, emoji: app_commands.Range[str, 1, 100]
    ) -> None:
        require_admin(interaction)
        parsed = parse_emoji(emoji)
        if parsed is None:
            raise UserInputError("error.bad_emoji")
        await self._saved(interaction, favorite_emoji=parsed)

    @command("gallery", "Who can browse the gallery", key="config.gallery")
    @options(visibility=VISIBILITY)
    @app_commands.choices(visibility=GALLERY_CHOICES)
    async def gallery(self, interaction: discord.Interaction, visibility: str) -> None:
        require_admin(interaction)
        if visibility not in ("public", "private"):
            raise UserInputError("error.bad_input")
        await self._saved(interaction, gallery_public=visibility == "public")

    @command("scenes", "Whose characters members may put in a scene", key="config.scenes")
    @options(mode=SCENES)
    @app_commands.choices(mode=SCENE_CHOICES)
    async def scenes(self, interaction: discord.Interaction, mode: str) -> None:
        require_admin(interaction)
        if mode not in SCENE_MODES:
            raise UserInputError("error.bad_input")
        await self._saved(interaction, scenes=mode)

    @command(
        "alerts", "Where admins hear about budgets and problems (empty = off)", key="config.alerts"
    )
    @options(channel=ALERT_CHANNEL)
    async def alerts(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        require_admin(interaction)
        if channel is not None:
            await self._check_channel(interaction, channel, need_send=True)
        await self._saved(interaction, alert_channel_id=channel.id if channel else None)

    @command(
        "retention",
        "Delete pictures nobody favorited after some days (0 = keep them)",
        key="config.retention",
    )
    @options(days=RETENTION_DAYS)
    async def retention(
        self, interaction: discord.Interaction, days: app_commands.Range[int, 0, 3650]
    ) -> None:
        require_admin(interaction)
        # The range is a suggestion a modified client can ignore: the service checks it.
        kept = await services(interaction).retention.set_days(interaction.guild_id or 0, days)
        note = (
            tr(interaction, "config.retention_on", days=kept)
            if kept
            else tr(interaction, "config.retention_off")
        )
        await reply(interaction, content=note, ephemeral=True)

    async def _check_channel(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        *,
        need_send: bool = False,
    ) -> None:
        guild = interaction.guild
        if guild is None or guild.get_channel(channel.id) is None:
            raise UserInputError("error.channel_other_guild")
        if need_send:
            me = guild.me
            permissions = channel.permissions_for(me) if me is not None else None
            if permissions is None or not (permissions.view_channel and permissions.send_messages):
                raise UserInputError("error.alert_channel_no_access", channel=channel.mention)
