"""/mydata export and /mydata delete, for the member's data in this server."""

from __future__ import annotations

import io
import logging

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.mydata import group_parts
from cogs._shared.confirm import ask_before_deleting
from cogs._shared.context import services, tr
from cogs._shared.options import command
from cogs._shared.picture_message import REQUEST_BUDGET

__all__ = ["MyDataCog"]

log = logging.getLogger(__name__)

MAX_FILES_PER_MESSAGE = 10
# A part is not started on a token with less than this left (uploads take time).
TOKEN_MARGIN_SECONDS = 60


@app_commands.guild_only()
class MyDataCog(
    commands.GroupCog,
    group_name=_("mydata", key="cmd.mydata.name"),
    group_description=_(
        "Your characters and pictures in this server: export or erase them",
        key="cmd.mydata.description",
    ),
):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self._exporting: set[tuple[int, int]] = set()  # (guild, member) exports running
        super().__init__()

    @command(
        "export", "Get a zip of your characters' pictures, sheets and prompts", key="mydata_export"
    )
    async def export(self, interaction: discord.Interaction) -> None:
        key = (interaction.guild_id or 0, interaction.user.id)
        if key in self._exporting:
            # An export reads and zips every picture: one per member at a time is plenty.
            await interaction.response.send_message(
                tr(interaction, "mydata.export_busy"), ephemeral=True
            )
            return
        self._exporting.add(key)  # before any await: a second click sees it at once
        try:
            await interaction.response.defer(thinking=True, ephemeral=True)
            await self._export(interaction)
        finally:
            self._exporting.discard(key)

    async def _export(self, interaction: discord.Interaction) -> None:
        svc = services(interaction)
        guild_id = interaction.guild_id or 0
        # A direct message takes Discord's default 10 MiB per file whatever the server's
        # boost: parts that fit it can still go by DM if the token dies on the way.
        dm_limit = discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES
        part_limit = min(interaction.filesize_limit, dm_limit, REQUEST_BUDGET)
        plan = await svc.mydata.export_plan(guild_id, interaction.user.id, part_limit=part_limit)
        if plan.empty:
            await interaction.edit_original_response(content=tr(interaction, "mydata.export_empty"))
            return
        total = len(plan.parts)
        groups = group_parts(
            plan.estimates, max_files=MAX_FILES_PER_MESSAGE, max_bytes=REQUEST_BUDGET
        )
        by_dm = False
        for number, group in enumerate(groups):
            files = []
            for index in group:
                data = await svc.mydata.export_part(plan, index)
                suffix = f"-part{index + 1}of{total}" if total > 1 else ""
                files.append(
                    discord.File(io.BytesIO(data), filename=f"my-characters-{guild_id}{suffix}.zip")
                )
            if number == 0:
                text = tr(
                    interaction,
                    "mydata.export_ready",
                    characters=tr(interaction, "count.characters", count=plan.characters),
                    pictures=tr(interaction, "count.pictures", count=plan.pictures),
                    files=tr(interaction, "count.zip_files", count=total),
                )
                if plan.skipped:
                    text += "\n" + tr(interaction, "mydata.export_skipped", count=plan.skipped)
            else:
                text = tr(
                    interaction,
                    "mydata.export_more",
                    first=group[0] + 1,
                    last=group[-1] + 1,
                    files=total,
                )
            if not by_dm and await _send_private(interaction, text, files, first=number == 0):
                continue
            if not by_dm:
                # The 15-minute token ran out while the zips were built: the rest (private:
                # prompts and pictures) goes by direct message, never to the channel.
                by_dm = True
                text = tr(interaction, "mydata.export_by_dm") + "\n" + text
            if not await _send_dm(interaction, text, files):
                await _say_dm_closed(interaction)
                return

    @command(
        "delete",
        "Erase your characters, pictures, favorites and prompts here (asks first)",
        key="mydata_delete",
    )
    async def delete(self, interaction: discord.Interaction) -> None:
        svc = services(interaction)
        guild_id = interaction.guild_id or 0
        user_id = interaction.user.id

        async def confirmed(press: discord.Interaction) -> None:
            await press.response.edit_message(content=tr(press, "mydata.deleting"), view=None)
            removed = await svc.mydata.delete_member_data(guild_id, user_id)
            await press.edit_original_response(
                content=tr(
                    press,
                    "mydata.deleted",
                    characters=tr(press, "count.characters", count=removed.characters),
                    pictures=tr(press, "count.pictures", count=removed.images),
                )
            )

        question = tr(interaction, "mydata.delete_confirm")
        await ask_before_deleting(interaction, question, keys="mydata", on_confirm=confirmed)


async def _send_private(
    interaction: discord.Interaction, text: str, files: list[discord.File], *, first: bool
) -> bool:
    """Post one part as the member's private answer; False once the token is (nearly) dead."""
    remaining = (interaction.expires_at - discord.utils.utcnow()).total_seconds()
    if remaining < TOKEN_MARGIN_SECONDS:
        return False
    try:
        if first:
            await interaction.edit_original_response(content=text, attachments=files)
        else:
            await interaction.followup.send(content=text, files=files, ephemeral=True)
    except discord.HTTPException as exc:
        if exc.status in (401, 404):  # 50027 Invalid Webhook Token / 10015 Unknown Webhook
            _rewind(files)
            return False
        raise
    return True


async def _send_dm(interaction: discord.Interaction, text: str, files: list[discord.File]) -> bool:
    try:
        await interaction.user.send(content=text, files=files)
    except discord.Forbidden:  # 50007: the member does not accept DMs from the bot
        return False
    return True


async def _say_dm_closed(interaction: discord.Interaction) -> None:
    """Nothing private is left to answer with: say so in the channel, without the files."""
    channel = interaction.channel
    if not isinstance(channel, discord.abc.Messageable):
        return
    try:
        await channel.send(
            tr(interaction, "mydata.export_dm_closed", user=f"<@{interaction.user.id}>"),
            allowed_mentions=discord.AllowedMentions.none(),
        )
    except discord.HTTPException as exc:  # no access to the channel: nobody left to tell
        log.info("Export for %s: no way left to deliver it (%s)", interaction.user.id, exc.status)


def _rewind(files: list[discord.File]) -> None:
    """A failed upload consumed the files; make them sendable once more."""
    for file in files:
        file.reset()
