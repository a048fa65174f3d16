"""The queue's observer on Discord: progress edits, the finished post, failures, alerts.

What to say is decided here; how it reaches the member is cogs/_shared/reply.py's
``JobReply``: while the interaction token lives (15 min) the member's own message is edited
in place; after that, or if the edit fails, the answer is posted to the channel instead.
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from bot.errors import BotError, ContentRefused, DeliveryFailed, PostedElsewhere
from bot.i18n import Markdown
from bot.images.convert import make_preview
from bot.images.styles import DEFAULT_SIZE
from bot.records import Character, Job, JobKind, JobState, StoredImage
from cogs._shared.alerts import AdminAlerts
from cogs._shared.eta import eta_text
from cogs._shared.picture_message import build_picture_message
from cogs._shared.reply import JobReply
from cogs._shared.scene_message import build_scene_message

if TYPE_CHECKING:
    from cogs._shared.context import ServicedBot

__all__ = ["DiscordDelivery"]

log = logging.getLogger(__name__)

DEFAULT_FILE_LIMIT = 10 * 1024 * 1024
# How far back a redelivery looks for a post it may already have made before a crash.
RECENT_POSTS = 50
# A 429 that says nothing about when to come back: Discord's buckets reset within seconds.
DEFAULT_RETRY_AFTER = 2.0


def delivery_failure(exc: discord.HTTPException) -> DeliveryFailed:
    """What a failed post means for the queue: wait and try again, or give up for good."""
    if exc.status == 429:
        # discord.py sleeps through most 429s itself, but its webhook adapter raises at once
        # on one without a Via header (it takes it for a Cloudflare block): wait it out here.
        return DeliveryFailed("rate_limited", permanent=False, retry_after=_retry_after(exc))
    if exc.status >= 500:
        return DeliveryFailed("discord_error", permanent=False)
    if exc.status == 403:
        return DeliveryFailed("forbidden", permanent=True)
    # 400 (a post Discord rejects: too large, invalid) and other refusals won't change.
    return DeliveryFailed("invalid", permanent=True)


def _retry_after(exc: discord.HTTPException) -> float:
    headers = getattr(exc.response, "headers", None) or {}
    for name in ("Retry-After", "X-RateLimit-Reset-After"):
        try:
            return max(0.0, float(headers[name]))
        except (KeyError, TypeError, ValueError):
            continue
    return DEFAULT_RETRY_AFTER


def _carries(message: discord.Message, custom_id: str) -> bool:
    return any(
        getattr(child, "custom_id", None) == custom_id
        for row in message.components
        for child in getattr(row, "children", [])
    )


class DiscordDelivery:
    def __init__(self, bot: ServicedBot) -> None:
        self.bot = bot
        self.services = bot.services
        # One edit at a time per job: "queued", "drawing", previews and the result can come
        # from different tasks, and each must land in the order it happened.
        self._locks: dict[int, asyncio.Lock] = {}

    def _lock(self, job_id: int) -> asyncio.Lock:
        return self._locks.setdefault(job_id, asyncio.Lock())

    # --- helpers ---------------------------------------------------------------------------

    def _t(self, job: Job, key: str, /, **values: Any) -> str:
        return self.services.catalog.t(job.locale, key, **values)

    async def _edit_original(self, job: Job, **fields: Any) -> discord.WebhookMessage | None:
        return await JobReply(self.bot, job).edit_original(**fields)

    def _file_limit(self, job: Job) -> int:
        guild = self.bot.get_guild(job.guild_id)
        return guild.filesize_limit if guild is not None else DEFAULT_FILE_LIMIT

    async def _character_name(self, job: Job) -> str:
        character = await self.services.job_posts.character(job)
        return character.name if character else "?"

    # --- JobObserver -----------------------------------------------------------------------

    async def job_queued(self, job: Job, position: int, eta_seconds: float | None) -> None:
        async with self._lock(job.id):
            current = await self.services.job_posts.job(job.id)
            if current is None or current.state != JobState.QUEUED:
                return  # the worker got there first: never move the message backwards
            eta = eta_text(self.services.catalog, job.locale, eta_seconds)
            key = "queue.queued" if current.attempts == 0 else "queue.requeued"
            message = await self._edit_original(
                job,
                content=self._t(job, key, position=position, job=job.id, eta=eta),
                embeds=[],
                attachments=[],
            )
            await self._note_status_message(job, message)

    async def job_started(self, job: Job) -> None:
        async with self._lock(job.id):
            if await self.services.job_posts.held_elsewhere(job.id):
                return  # (see job_done) not "Drawing…" over the other process's answer
            await self._job_started(job)

    async def _job_started(self, job: Job) -> None:
        name = await self._character_name(job)
        message = await self._edit_original(
            job, content=self._t(job, "progress.drawing", name=name, count=job.image_count)
        )
        # A job that started at once was never told a place: this is its first edit.
        await self._note_status_message(job, message)

    async def _note_status_message(self, job: Job, message: discord.WebhookMessage | None) -> None:
        """Remember the message that shows the job's progress, to tidy it after a late post."""
        if message is not None and job.response_message_id is None:
            await self.services.job_posts.note_status_message(job.id, message.id)

    async def job_progress(self, job: Job, preview: bytes) -> None:
        async with self._lock(job.id):
            if await self.services.job_posts.held_elsewhere(job.id):
                return  # (see job_done) not a stale preview over the other's picture
            await self._job_progress(job, preview)

    async def _job_progress(self, job: Job, preview: bytes) -> None:
        # Always a small WebP, never the partial picture as it came (a PNG of up to several
        # MB): a preview still uploading when the picture is ready is cancelled, and a large
        # upload cut off mid-way held up the finished picture behind it (seen under load).
        # Shrunk cheaply (make_preview): the finished picture replaces it within seconds.
        small = await asyncio.to_thread(make_preview, preview, box=512)
        filename = "preview.webp"
        name = await self._character_name(job)
        embed = discord.Embed(description=self._t(job, "progress.preview", name=name))
        embed.set_image(url=f"attachment://{filename}")
        await self._edit_original(
            job,
            content=self._t(job, "progress.drawing", name=name, count=job.image_count),
            embed=embed,
            attachments=[discord.File(io.BytesIO(small), filename=filename)],
        )

    async def job_done(
        self, job: Job, character: Character, images: list[StoredImage]
    ) -> int | None:
        async with self._lock(job.id):
            try:
                if await self.services.job_posts.held_elsewhere(job.id):
                    # This process stood still past its lease (after recording the pictures,
                    # or while an earlier edit held the message): the process that took the
                    # job over posts them. Read once the message is this post's to edit.
                    raise PostedElsewhere()
                return await self._job_done(job, character, images)
            except discord.RateLimited as exc:  # a wait longer than discord.py would sleep
                wait = exc.retry_after
                raise DeliveryFailed("rate_limited", permanent=False, retry_after=wait) from exc
            except discord.HTTPException as exc:
                raise delivery_failure(exc) from exc
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise DeliveryFailed("unreachable", permanent=False) from exc
            finally:
                self._locks.pop(job.id, None)

    async def _job_done(
        self, job: Job, character: Character, images: list[StoredImage]
    ) -> int | None:
        # Long (61 lines) because it is one sequence: not twice, the member's message, else
        # the channel; each step's fallback reads best right after it.
        if job.state == JobState.DONE:
            # Read back as done: a redelivery after a restart. A crash may have come between
            # the post and its record; posting again would show the pictures twice.
            # Every post carries a Delete button for its first picture (a scene has no Vary).
            existing = await self._find_post(job, f"pic:del:{images[0].id}")
            if existing is not None:
                log.info("Job %s was already posted (message %s); not again", job.id, existing)
                await self.services.job_posts.note_posted(
                    [image.id for image in images], job.channel_id, existing
                )
                return existing

        async def build() -> Any:
            return await self._build_post(job, character, images)

        built = await build()
        message: discord.Message | discord.WebhookMessage | None = await self._edit_original(
            job,
            content=None,
            embeds=built.embeds,
            attachments=built.files,
            view=built.view,
        )
        if message is None:
            answer = JobReply(self.bot, job)
            built = await build()  # discord.File objects are single-use
            try:
                message = await answer.post(
                    self._t(job, "delivery.late", user=f"<@{job.user_id}>"),
                    embeds=built.embeds,
                    files=built.files,
                    view=built.view,
                )
            except discord.NotFound:
                # The channel was deleted while the job ran: nowhere is left to post. The
                # picture stays stored (gallery, /mydata); the job counts as delivered so no
                # restart retries it (and logs a traceback) forever.
                log.warning(
                    "Job %s: channel %s was deleted; picture kept, not posted",
                    job.id,
                    job.channel_id,
                )
                return None
            await self._tidy_stale_notice(job, answer)
        await self.services.job_posts.note_posted(
            [image.id for image in images], job.channel_id, message.id
        )
        return message.id

    async def _build_post(self, job: Job, character: Character, images: list[StoredImage]) -> Any:
        """The post of a finished job: a scene's (cogs/_shared/scene_message.py) or a
        character's picture message."""
        if job.kind is JobKind.SCENE:
            return await build_scene_message(
                self.bot, job, images, file_limit=self._file_limit(job)
            )
        return await build_picture_message(
            catalog=self.services.catalog,
            store=self.services.store,
            locale=job.locale,
            character=character,
            images=images,
            requester_id=job.user_id,
            style_key=job.request.style or character.style,
            size_key=job.request.size_key or DEFAULT_SIZE,
            file_limit=self._file_limit(job),
        )

    async def _tidy_stale_notice(self, job: Job, answer: JobReply) -> None:
        """After a late channel post, the member's "Drawing…" message would stay forever
        (its token is dead): it goes, so the channel shows one finished picture."""
        stored = await self.services.job_posts.job(job.id)  # the id is noted on the way
        await answer.delete_stale(stored.response_message_id if stored is not None else None)

    async def _find_post(self, job: Job, marker: str) -> int | None:
        """The message already showing this job's pictures (its buttons carry ``marker``):
        the member's own message, else one of the bot's recent posts in the channel."""
        answer = JobReply(self.bot, job)
        original = await answer.fetch_original()
        if original is not None and _carries(original, marker):
            return original.id
        channel = answer.channel()
        if self.bot.user is None:
            return None
        try:
            async for message in channel.history(limit=RECENT_POSTS):
                if message.author.id == self.bot.user.id and _carries(message, marker):
                    return message.id
        except discord.HTTPException as exc:  # no Read Message History: post as before
            log.info("Job %s: cannot search the channel (%s)", job.id, exc.status)
        return None

    async def job_failed(self, job: Job, error: BotError) -> None:
        async with self._lock(job.id):
            # (See job_done.) The process that took the job over tells its member.
            if not await self.services.job_posts.held_elsewhere(job.id):
                await self._job_failed(job, error)
        if job.state != JobState.QUEUED:
            self._locks.pop(job.id, None)

    async def _job_failed(self, job: Job, error: BotError) -> None:
        text = self._t(job, error.message_key, **error.values)
        if job.state == JobState.QUEUED:
            # Kept in the queue (e.g. billing): say so on the member's message.
            await self._edit_original(job, content=text, embeds=[], attachments=[])
            return
        if job.state != JobState.DONE:  # (a job drawn, whose pictures went, was charged)
            text = f"{text}\n{self._t(job, 'error.refunded')}"
        # The bot's own text, so a late notice quoting it as its reason escapes it no more.
        text = Markdown(text)
        answer = JobReply(self.bot, job)
        if isinstance(error, ContentRefused) and answer.token_alive:
            # Refusals are explained privately; the public status message goes away, but only
            # once the private notice exists (see cogs/_shared/reply.py for Discord's rule).
            if await answer.privately(text, resolving=self._t(job, "reply.answered_privately")):
                return
            # Never the reason in public instead: by direct message, as after the token died.
            log.info("Job %s: private refusal notice failed; telling it directly", job.id)
            await self._failed_late(job, answer, error, text)
            return
        edited = await self._edit_original(job, content=text, embeds=[], attachments=[], view=None)
        if edited is None:  # the token is dead: the channel hears it, the notice is tidied
            await self._failed_late(job, answer, error, text)

    async def _failed_late(self, job: Job, answer: JobReply, error: BotError, text: str) -> None:
        user = f"<@{job.user_id}>"
        if isinstance(error, ContentRefused):
            # A refusal's reason stays private (a scene's also names whose consent went):
            # it goes by direct message, and the channel hears only that nothing was drawn.
            told = await answer.direct(text)
            notice = self._t(
                job, "delivery.refused_late" if told else "delivery.refused_late_no_dm", user=user
            )
        else:
            notice = self._t(job, "delivery.failed_late", user=user, reason=text)
        try:
            await answer.post(notice)
        except discord.HTTPException as exc:
            # The channel was deleted, or the bot may no longer post there: the member hears
            # it by direct message instead (a refusal's reason went that way already).
            why = "was deleted" if exc.status == 404 else f"refused the post ({exc.status})"
            log.warning("Job %s: channel %s %s; failure not posted", job.id, job.channel_id, why)
            if not isinstance(error, ContentRefused):
                await answer.direct(text)
            return
        await self._tidy_stale_notice(job, answer)

    async def job_delayed(self, job: Job, error: BotError) -> None:
        async with self._lock(job.id):
            text = self._t(job, error.message_key, **error.values)
            await self._edit_original(job, content=text, embeds=[], attachments=[])

    async def storage_alert(self, guild_id: int) -> None:
        # No claim_alert here: it is a database write, and writes are what fails. The queue
        # sends this once per guild per incident.
        log.error("Admin alert for guild %s: storage", guild_id)
        await AdminAlerts(self.bot)(guild_id, "alert.storage", {})

    async def job_cancelled(self, job: Job) -> None:
        # Nothing more will be said about this job: forget its lock (else one per cancel leaks).
        self._locks.pop(job.id, None)

    async def job_undeliverable(self, job: Job, error: BotError) -> None:
        """Privately while the token lives; else in the channel (job answers are public)."""
        async with self._lock(job.id):
            text = self._t(job, error.message_key, **error.values)
            answer = JobReply(self.bot, job)
            if await answer.privately(text, resolving=self._t(job, "reply.answered_privately")):
                return
            try:
                await answer.post(
                    self._t(
                        job, "delivery.undeliverable_late", user=f"<@{job.user_id}>", reason=text
                    )
                )
            except discord.HTTPException as exc:  # the same missing permission, most likely
                log.warning("Job %s: channel refused the notice too (%s)", job.id, exc.status)
                # A direct message is the one way left to the member; it names the channel.
                where = f"<#{job.channel_id}>"
                await answer.direct(
                    self._t(job, "delivery.undeliverable_dm", channel=where, reason=text)
                )
            else:
                await self._tidy_stale_notice(job, answer)
        self._locks.pop(job.id, None)

    async def admin_alert(self, guild_id: int, error: BotError) -> None:
        reason = getattr(error, "reason", error.message_key)
        if not await self.services.job_posts.claim_admin_alert(guild_id, reason):
            return  # admins already heard about this today
        log.error("Admin alert for guild %s: %s", guild_id, reason)
        await AdminAlerts(self.bot)(guild_id, f"alert.{reason}", error.values)
