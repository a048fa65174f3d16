"""Turning a member's request into a queued job: validate, moderate, reserve, enqueue.

This is the service the slash commands and buttons call. It knows nothing of Discord's UI:
it takes plain values and returns a :class:`~bot.records.Submitted` or raises one of our
errors, which the Discord layer shows as a friendly message.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from bot.access import visible_character
from bot.errors import NotAllowed, NotFound, UserInputError
from bot.images.convert import normalize_upload
from bot.images.decode import ImageRejected
from bot.images.prompts import CHANGE_LIMIT, CharacterSheet, clean_text
from bot.images.service import ImageService
from bot.images.store import ImageStore
from bot.images.styles import DEFAULT_SIZE, SIZES, STYLES
from bot.jobs.queue import JobQueue
from bot.jobs.references import variation_references
from bot.jobs.shape import known, shape_request
from bot.quotas import QuotaService
from bot.records import (
    Character,
    CreateJobRequest,
    JobKind,
    JobRequest,
    SceneJobRequest,
    Submitted,
    VaryJobRequest,
)
from bot.reservations import reservation_inputs
from bot.storage import NewCharacter, NewJob, Storage

__all__ = ["CreateRequest", "JobSpec", "PictureRequests", "Requester", "VaryRequest"]

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# Uploads are decoded one at a time, on one thread of their own: a 4096 x 4096 RGBA
# picture needs about 180 MB while it is shrunk, and memory freed by one thread is reused
# by the next decode instead of piling up in per-thread malloc arenas (bench/uploads.py).
_DECODER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="upload-decoder")


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asked, where, and how to reach their interaction later."""

    guild_id: int
    channel_id: int
    user_id: int
    role_ids: list[int]
    locale: str
    is_admin: bool = False
    application_id: int | None = None
    interaction_token: str | None = field(default=None, repr=False)
    interaction_at: float | None = None


@dataclass(frozen=True, slots=True)
class JobSpec:
    """What a job will draw: its kind, the character it is filed under (None: a fork, or
    its ``new_character``, made when it is queued), how many pictures, the request and the
    pictures it starts from."""

    kind: JobKind
    character_id: int | None
    count: int
    request: JobRequest
    parent_image_id: int | None = None
    reference_path: str | None = None
    new_character: NewCharacter | None = None


@dataclass(frozen=True, slots=True)
class CreateRequest:
    sheet: CharacterSheet  # as the member typed it: request_create cleans it
    style: str | None = None
    size: str | None = None
    count: int = 1
    transparent: bool = False
    reference: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class VaryRequest:
    character_id: int
    change: str = ""
    strength: str = "subtle"
    count: int = 1
    size: str | None = None
    parent_image_id: int | None = None


class PictureRequests:
    """What members may ask the queue for: a new character, a variation, a re-roll."""

    def __init__(
        self,
        storage: Storage,
        images: ImageService,
        store: ImageStore,
        queue: JobQueue,
        quotas: QuotaService,
    ) -> None:
        self.storage = storage
        self.images = images
        self.store = store
        self.queue = queue
        self.quotas = quotas

    async def request_create(
        self,
        who: Requester,
        request: CreateRequest,
        fetch_reference: Callable[[], Awaitable[bytes | None]] | None = None,
    ) -> Submitted:
        """Queue a new character's first pictures.

        ``fetch_reference`` downloads the member's reference picture; it is called only
        once every cheap check has passed. One function (over 60 lines) on purpose: the steps
        run in order of cost, and that order is the point; split up, it would not show.
        """
        sheet = request.sheet.cleaned()
        if not sheet.name:
            raise UserInputError("error.name_empty")
        config = await self.storage.guilds.config(who.guild_id)
        style, size_key, count = shape_request(
            config, style=request.style, size_key=request.size, count=request.count
        )
        # Cheap refusals first: a member with no quota or room left costs no download, no
        # decode and no moderation call (reserve_and_enqueue checks again, atomically).
        await self.check_room(who, count)
        data = request.reference
        if data is None and fetch_reference is not None:
            data = await fetch_reference()
        reference = await self._reference(data)
        await self.images.check_prompt("\n".join([sheet.name, *(v for _, v in sheet.facts())]))

        # Made with the job, in the transaction that accepts it (one write, not two).
        character = NewCharacter(who.guild_id, who.user_id, sheet.name, sheet.to_dict(), style)
        reference_path = None
        if reference is not None:
            reference_path = await asyncio.to_thread(
                self.store.save, who.guild_id, reference, "image/png", kind="ref"
            )
        try:
            drawing = CreateJobRequest(
                style=style,
                size=SIZES[size_key],
                size_key=size_key,
                transparent=request.transparent,
            )
            spec = JobSpec(
                JobKind.CREATE,
                None,
                count,
                drawing,
                reference_path=reference_path,
                new_character=character,
            )
            return await self.reserve_and_enqueue(who, spec)
        except Exception:
            # Refused by a quota or cap: leave nothing behind (no character was made).
            if reference_path:
                self.store.delete([reference_path])
            raise

    async def request_vary(self, who: Requester, request: VaryRequest) -> Submitted:
        """Queue a variation. Another member's character is varied through a fork.

        The submitted job's ``character_id`` is the character the pictures belong to: the
        one asked for, or the member's own fork of it (made, or reused, in the transaction
        that accepts the job).
        """
        character = await self.vary_target(who, request.character_id)
        strong = request.strength == "strong"
        parent_image_id = await self._parent_for(who, character, request.parent_image_id)
        config = await self.storage.guilds.config(who.guild_id)
        style, size_key, count = shape_request(
            config,
            style=known(character.style, STYLES),
            size_key=request.size,
            count=request.count,
        )
        change = clean_text(request.change, CHANGE_LIMIT)
        await self.check_room(who, count)  # before the paid moderation call
        if change:
            await self.images.check_prompt(change)
        mine = character.owner_id == who.user_id
        drawing = VaryJobRequest(
            style=style,
            size=SIZES[size_key],
            size_key=size_key,
            change=change,
            strength="strong" if strong else "subtle",
            varied_character_id=character.id,
        )
        target = character.id if mine else None  # a fork is made when the job is queued
        spec = JobSpec(JobKind.VARY, target, count, drawing, parent_image_id=parent_image_id)
        return await self.reserve_and_enqueue(who, spec, fork_of=None if mine else character)

    async def vary_target(self, who: Requester, character_id: int) -> Character:
        """The character to vary, if this member may vary it (directly or by forking it).

        Cheap enough to run before a modal opens, so a refusal comes before any typing.
        """
        character = await self.visible_character(who, character_id)
        if character.owner_id != who.user_id:
            config = await self.storage.guilds.config(who.guild_id)
            if not config.allow_forks:
                raise NotAllowed("error.fork_disabled")
        return character

    async def set_main(self, who: Requester, character_id: int, image_id: int) -> Character:
        """Make one of the character's pictures its main (canonical) reference."""
        character = await self.visible_character(who, character_id)
        if character.owner_id != who.user_id:
            raise NotAllowed("error.main_not_owner")
        if not await self.storage.characters.set_canonical(character.id, image_id):
            raise NotFound("error.main_wrong_picture", name=character.name)
        return await self.storage.characters.get(character.id) or character

    async def _parent_for(self, who: Requester, character: Character, image_id: int | None) -> int:
        """The picture a variation starts from: the one asked for, else the main picture.

        Only a picture the member may use as a reference (bot.jobs.references): a parent
        deleted meanwhile, or one that belongs elsewhere, is replaced by the main picture
        (or, for a fork without pictures, its original's). Nothing at all: a clear refusal
        now rather than a failed job later. The runner checks again when the job runs.
        """
        usable = await variation_references(
            self.storage, character, who.user_id, parent_image_id=image_id, sheet_first=False
        )
        if not usable:
            raise NotFound("error.no_reference")
        return usable[0].id

    async def request_reroll(self, who: Requester, image_id: int) -> Submitted:
        """Run the request that made ``image_id`` again, for a fresh picture."""
        image = await self.storage.images.get(image_id)
        if image is None or image.guild_id != who.guild_id or image.job_id is None:
            raise NotFound("error.image_gone")
        job = await self.storage.jobs.get(image.job_id)
        character = await self.visible_character(who, image.character_id)
        if job is None:
            raise NotFound("error.image_gone")
        if character.owner_id != who.user_id:
            raise NotAllowed("error.reroll_not_owner")
        # The request as it was, shaped by the server's settings as they are now: a lowered
        # maximum count makes fewer pictures rather than refusing the button.
        config = await self.storage.guilds.config(who.guild_id)
        style, size_key, count = shape_request(
            config,
            style=known(job.request.style, STYLES) or known(character.style, STYLES),
            size_key=known(job.request.size_key, SIZES),
            count=job.image_count,
            clamp_count=True,
        )
        request = dataclasses.replace(
            job.request, style=style, size=SIZES[size_key], size_key=size_key
        )
        spec = JobSpec(
            # An early version's "reroll" job is drawn again as what it was: a creation.
            JobKind.CREATE if job.kind is JobKind.REROLL else job.kind,
            character.id,
            count,
            request,
            parent_image_id=job.parent_image_id,
            reference_path=job.reference_path,
        )
        return await self.reserve_and_enqueue(who, spec)

    async def visible_character(self, who: Requester, character_id: int) -> Character:
        """The character if this member may see it in this guild, else a clear NotFound."""
        return await visible_character(self.storage, who.guild_id, who.user_id, character_id)

    async def reserve_and_enqueue(
        self,
        who: Requester,
        spec: JobSpec,
        *,
        fork_of: Character | None = None,
    ) -> Submitted:
        """Reserve the job's estimated cost within the limits and queue it, in one step."""
        limits = await self.quotas.limits_for(who.guild_id, who.user_id, who.role_ids, time.time())
        kind, references = reservation_inputs(spec.kind, spec.request, spec.reference_path)
        reserved = await self.quotas.estimate_usd(
            who.guild_id,
            kind=kind,
            size=spec.request.size,
            count=spec.count,
            references=references,
        )
        return await self.queue.enqueue(_new_job(who, spec, reserved), limits, fork_of=fork_of)

    async def enqueue_scene(
        self,
        who: Requester,
        *,
        lead_id: int,
        count: int,
        request: SceneJobRequest,
    ) -> Submitted:
        """Queue a scene the scene service (bot/scenes.py) has checked: the same quotas,
        caps, budget and queue as every job, charged to ``who``. ``lead_id``: the character
        the job is filed under until it runs (the first one)."""
        spec = JobSpec(JobKind.SCENE, lead_id, count, request)
        return await self.reserve_and_enqueue(who, spec)

    async def check_room(self, who: Requester, count: int) -> None:
        """Raise the quota or queue-cap refusal a job of ``count`` pictures would get now."""
        # What the job would draw does not matter to the check: only who, and how many.
        job = _new_job(
            who, JobSpec(JobKind.CREATE, None, count, CreateJobRequest(size=SIZES[DEFAULT_SIZE]))
        )
        await self.quotas.check_room(job, who.role_ids, time.time())

    @staticmethod
    async def _reference(data: bytes | None) -> bytes | None:
        if data is None:
            return None
        decode = functools.partial(normalize_upload, data, max_bytes=MAX_UPLOAD_BYTES)
        try:
            return await asyncio.get_running_loop().run_in_executor(_DECODER, decode)
        except ImageRejected as exc:
            raise UserInputError(f"error.upload_{exc.reason}") from None


def _new_job(who: Requester, spec: JobSpec, reserved_usd: float | None = None) -> NewJob:
    return NewJob(
        guild_id=who.guild_id,
        channel_id=who.channel_id,
        user_id=who.user_id,
        kind=spec.kind,
        request=spec.request,
        image_count=spec.count,
        locale=who.locale,
        character_id=spec.character_id,
        parent_image_id=spec.parent_image_id,
        reference_path=spec.reference_path,
        application_id=who.application_id,
        interaction_token=who.interaction_token,
        interaction_at=who.interaction_at,
        reserved_usd=reserved_usd,
        new_character=spec.new_character,
    )
