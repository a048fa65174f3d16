"""/queue: where my pictures stand, with a Cancel button per waiting job (extension)."""

from __future__ import annotations

import logging
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.jobs.board import ListedJob
from bot.records import Job, JobState
from cogs._shared.context import is_admin, services, tr
from cogs._shared.errors import handle_interaction_error
from cogs._shared.eta import eta_for
from cogs._shared.options import command
from cogs._shared.picture_message import truncate
from cogs._shared.reply import JobReply, acknowledge, reply

__all__ = ["CancelJobButton", "QueueCog"]

log = logging.getLogger(__name__)

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
    job = await services(interaction).queue_board.cancel(
        interaction.guild_id or 0, interaction.user.id, job_id, is_admin=is_admin(interaction)
    )
    await reply(interaction, content=tr(interaction, "queue.cancelled", job=job.id), ephemeral=True)
    await tell_member(interaction, job)


async def tell_member(interaction: discord.Interaction, job: Job) -> None:
    """The member's own message said "Queued": it says the job was cancelled instead (an
    admin may have cancelled it), in the member's language. ``job`` is as it was before the
    cancel, with the token the cancel dropped. Past the token's life the bot deletes that
    stale notice with its own token, as it does after a late post."""
    text = services(interaction).catalog.t(job.locale, "queue.cancelled", job=job.id)
    answer = JobReply(interaction.client, job)
    try:
        if await answer.edit_original(content=text, embeds=[], attachments=[]) is None:
            await answer.delete_stale(job.response_message_id)
    except discord.HTTPException as exc:  # the job is cancelled either way
        log.info("Job %s: cancelled, but its message stays (%s)", job.id, exc.status)


def describe_job(interaction: discord.Interaction, listed: ListedJob) -> str:
    job = listed.job
    if job.state == JobState.RUNNING:
        where = tr(interaction, "queue.line_running")
    else:
        where = tr(
            interaction,
            "queue.line_waiting",
            position=listed.position or "?",
            eta=eta_for(interaction, listed.eta_seconds),
        )
    kind = tr(interaction, f"queue.kind_{job.kind}")
    return tr(
        interaction, "queue.line", job=job.id, kind=kind, user=f"<@{job.user_id}>", where=where
    )


class QueueCog(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @command("queue", "See your waiting pictures and cancel them", key="queue")
    @app_commands.guild_only()  # on the command: a plain Cog's class decorator marks nothing
    async def queue(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        admin = is_admin(interaction)
        jobs = await services(interaction).queue_board.listing(
            interaction.guild_id or 0, interaction.user.id, is_admin=admin
        )
        title = tr(interaction, "queue.title_guild" if admin else "queue.title_mine")
        embed = discord.Embed(title=title, colour=discord.Colour.from_rgb(255, 138, 171))
        if not jobs:
            embed.description = tr(interaction, "queue.empty")
            await interaction.edit_original_response(embed=embed)
            return
        listed = jobs[:MAX_LISTED]
        lines = [describe_job(interaction, job) for job in listed]
        if len(jobs) > MAX_LISTED:
            lines.append(tr(interaction, "queue.more", count=len(jobs) - MAX_LISTED))
        embed.description = truncate("\n".join(lines), 4096)
        view = discord.ui.View(timeout=None)
        # A Cancel button for each waiting job the list shows (never one it does not: a
        # button must say which job it cancels); 20 listed fit a message's 25 buttons.
        cancellable = [shown.job for shown in listed if shown.job.state == JobState.QUEUED]
        for job in cancellable:
            view.add_item(
                CancelJobButton(job.id, tr(interaction, "queue.cancel_button", job=job.id))
            )
        await interaction.edit_original_response(embed=embed, view=view)


async def setup(bot: commands.Bot) -> None:
    bot.add_dynamic_items(CancelJobButton)
    await bot.add_cog(QueueCog(bot))
