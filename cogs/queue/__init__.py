"""/queue: where my pictures stand, with a Cancel button per waiting job (extension)."""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.errors import NotAllowed, NotFound
from bot.records import Job, JobState
from cogs._shared.context import is_admin, services, tr
from cogs._shared.errors import handle_interaction_error
from cogs._shared.eta import eta_for
from cogs._shared.picture_message import truncate
from cogs._shared.reply import acknowledge, reply

__all__ = ["CancelJobButton", "QueueCog"]

MAX_LISTED = 20  # an embed description stays readable (and under 4096 characters)


class CancelJobButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"job:cancel:(?P<id>\d+)"
):
    def __init__(self, job_id: int, label: str = "✖") -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:80], style=discord.ButtonStyle.danger, custom_id=f"job:cancel:{job_id}"
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> CancelJobButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await cancel_job(interaction, self.job_id)
        except Exception as error:
            await handle_interaction_error(interaction, error)


async def cancel_job(interaction: discord.Interaction, job_id: int) -> None:
    await acknowledge(interaction)  # before the write: a busy database must not cost the 3 s
    svc = services(interaction)
    job = await svc.storage.jobs.get(job_id)
    if job is None or job.guild_id != interaction.guild_id:
        raise NotFound("error.job_not_found")
    if job.user_id != interaction.user.id and not is_admin(interaction):
        raise NotAllowed("error.cancel_not_owner")
    if not await svc.queue.cancel(job.id):
        raise NotAllowed("error.cancel_too_late")
    await reply(interaction, content=tr(interaction, "queue.cancelled", job=job.id), ephemeral=True)


def describe_job(interaction: discord.Interaction, job: Job, position: int | None) -> str:
    if job.state == JobState.RUNNING:
        where = tr(interaction, "queue.line_running")
    else:
        eta = services(interaction).queue.eta(position or 1)
        where = tr(
            interaction,
            "queue.line_waiting",
            position=position or "?",
            eta=eta_for(interaction, eta),
        )
    kind = tr(interaction, f"queue.kind_{job.kind}")
    return tr(
        interaction, "queue.line", job=job.id, kind=kind, user=f"<@{job.user_id}>", where=where
    )


@app_commands.guild_only()
class QueueCog(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(
        name=_("queue", key="cmd.queue.name"),
        description=_("See your waiting pictures and cancel them", key="cmd.queue.description"),
    )
    async def queue(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        svc = services(interaction)
        admin = is_admin(interaction)
        jobs = await svc.storage.jobs.pending_for_guild(interaction.guild_id or 0)
        if not admin:
            jobs = [job for job in jobs if job.user_id == interaction.user.id]
        order = svc.queue.queued_ids(interaction.guild_id)
        positions = {job_id: index for index, job_id in enumerate(order, start=1)}
        jobs.sort(key=lambda j: (j.state != JobState.RUNNING, positions.get(j.id, 0)))
        title = tr(interaction, "queue.title_guild" if admin else "queue.title_mine")
        embed = discord.Embed(title=title, colour=discord.Colour.from_rgb(255, 138, 171))
        if not jobs:
            embed.description = tr(interaction, "queue.empty")
            await interaction.edit_original_response(embed=embed)
            return
        lines = [describe_job(interaction, job, positions.get(job.id)) for job in jobs[:MAX_LISTED]]
        if len(jobs) > MAX_LISTED:
            lines.append(tr(interaction, "queue.more", count=len(jobs) - MAX_LISTED))
        embed.description = truncate("\n".join(lines), 4096)
        view = discord.ui.View(timeout=None)
        cancellable = [job for job in jobs if job.state == JobState.QUEUED][:25]
        for job in cancellable:
            view.add_item(
                CancelJobButton(job.id, tr(interaction, "queue.cancel_button", job=job.id))
            )
        await interaction.edit_original_response(embed=embed, view=view)


async def setup(bot: commands.Bot) -> None:
    bot.add_dynamic_items(CancelJobButton)
    await bot.add_cog(QueueCog(bot))
