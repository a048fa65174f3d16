"""/mydata export and /mydata delete, for the member's data in this server."""

from __future__ import annotations

import io

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.gallery import group_parts
from cogs._shared.cleanup import remove_messages_later
from cogs._shared.context import services, tr
from cogs.gallery.confirm import ConfirmView
from cogs.pictures.message import REQUEST_BUDGET

__all__ = ["MyDataCog"]

MAX_FILES_PER_MESSAGE = 10


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
        super().__init__()

    @app_commands.command(
        name=_("export", key="cmd.mydata_export.name"),
        description=_(
            "Get a zip of your characters' pictures, sheets and prompts",
            key="cmd.mydata_export.description",
        ),
    )
    async def export(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        svc = services(interaction)
        guild_id = interaction.guild_id or 0
        part_limit = min(interaction.filesize_limit, REQUEST_BUDGET)
        plan = await svc.gallery.export_plan(guild_id, interaction.user.id, part_limit=part_limit)
        if plan.empty:
            await interaction.edit_original_response(content=tr(interaction, "mydata.export_empty"))
            return
        total = len(plan.parts)
        groups = group_parts(
            plan.estimates, max_files=MAX_FILES_PER_MESSAGE, max_bytes=REQUEST_BUDGET
        )
        for number, group in enumerate(groups):
            files = []
            for index in group:
                data = await svc.gallery.export_part(plan, index)
                suffix = f"-part{index + 1}of{total}" if total > 1 else ""
                files.append(
                    discord.File(io.BytesIO(data), filename=f"my-characters-{guild_id}{suffix}.zip")
                )
            if number == 0:
                text = tr(
                    interaction,
                    "mydata.export_ready",
                    characters=plan.characters,
                    pictures=plan.pictures,
                    files=total,
                )
                if plan.skipped:
                    text += "\n" + tr(interaction, "mydata.export_skipped", count=plan.skipped)
                await interaction.edit_original_response(content=text, attachments=files)
            else:
                text = tr(
                    interaction,
                    "mydata.export_more",
                    first=group[0] + 1,
                    last=group[-1] + 1,
                    files=total,
                )
                await interaction.followup.send(content=text, files=files, ephemeral=True)

    @app_commands.command(
        name=_("delete", key="cmd.mydata_delete.name"),
        description=_(
            "Erase your characters, pictures, favorites and prompts here (asks first)",
            key="cmd.mydata_delete.description",
        ),
    )
    async def delete(self, interaction: discord.Interaction) -> None:
        svc = services(interaction)
        guild_id = interaction.guild_id or 0
        user_id = interaction.user.id

        async def confirmed(press: discord.Interaction) -> None:
            await press.response.edit_message(content=tr(press, "mydata.deleting"), view=None)
            removed = await svc.gallery.delete_member_data(guild_id, user_id)
            remove_messages_later(press.client, removed.messages)
            await press.edit_original_response(
                content=tr(
                    press, "mydata.deleted", characters=removed.characters, pictures=removed.images
                )
            )

        view = ConfirmView(
            interaction,
            confirm_label=tr(interaction, "mydata.button.delete"),
            cancel_label=tr(interaction, "manage.button.cancel"),
            cancelled_text=tr(interaction, "mydata.delete_cancelled"),
            expired_text=tr(interaction, "mydata.delete_expired"),
            on_confirm=confirmed,
        )
        await interaction.response.send_message(
            tr(interaction, "mydata.delete_confirm"), view=view, ephemeral=True
        )
