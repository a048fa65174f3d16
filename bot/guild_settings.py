"""A server's settings as admins change them with /config, and as every command reads them.

The rules for a valid setting live here (a modified client can send any value, whatever
choices Discord showed): an unknown default style or size would break /character create
for every member of the server, so it is refused before it is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.errors import UserInputError
from bot.images.styles import SIZES, STYLES
from bot.quotas import MODEL_TIERS
from bot.records import GuildConfig
from bot.storage import Storage

__all__ = ["MOST_PICTURES_PER_REQUEST", "ChannelRemoved", "GuildSettingsService"]

# The most pictures one request may ask for (what OpenAI's one call draws for us), and so
# the highest "most pictures per request" a server may set.
MOST_PICTURES_PER_REQUEST = 4


@dataclass(frozen=True, slots=True)
class ChannelRemoved:
    config: GuildConfig
    left: list[int]  # the channels still allowed; none: commands work anywhere again


class GuildSettingsService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def config(self, guild_id: int) -> GuildConfig:
        return await self.storage.guilds.config(guild_id)

    async def update(self, guild_id: int, **changes: Any) -> GuildConfig:
        """Change some settings (names as in :class:`GuildConfig`); return them all."""
        return await self.storage.guilds.update(guild_id, **changes)

    async def set_defaults(
        self,
        guild_id: int,
        *,
        style: str | None = None,
        size: str | None = None,
        max_count: int | None = None,
    ) -> GuildConfig:
        """The defaults of /character create; at least one must be given."""
        changes: dict[str, Any] = {}
        if style is not None:
            if style not in STYLES:
                raise UserInputError("error.unknown_style")
            changes["default_style"] = style
        if size is not None:
            if size not in SIZES:
                raise UserInputError("error.unknown_size")
            changes["default_size"] = size
        if max_count is not None:
            # 0 (or less) would refuse every member's picture; more than we ever draw at once
            # would promise what a request cannot get.
            if not 1 <= max_count <= MOST_PICTURES_PER_REQUEST:
                raise UserInputError("error.bad_count", max=MOST_PICTURES_PER_REQUEST)
            changes["max_count"] = max_count
        if not changes:
            raise UserInputError("error.config_nothing")
        return await self.update(guild_id, **changes)

    async def set_model_tier(self, guild_id: int, tier: str) -> GuildConfig:
        if tier not in MODEL_TIERS:
            raise UserInputError("error.bad_input")
        return await self.update(guild_id, model_tier=tier)

    async def allow_channel(self, guild_id: int, channel_id: int) -> GuildConfig:
        """Allow commands in one more channel (once any is set, only in those)."""
        await self.storage.guilds.add_allowed_channel(guild_id, channel_id)
        return await self.config(guild_id)

    async def remove_channel(self, guild_id: int, channel_id: int) -> ChannelRemoved:
        left = await self.storage.guilds.remove_allowed_channel(guild_id, channel_id)
        return ChannelRemoved(await self.config(guild_id), left)
