"""Runs one job: the prompt, the API call, and storing the pictures.

Moderation happened at submission, before the member was told the job is queued.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.config import Settings
from bot.errors import BotError, CharacterGone, NotFound
from bot.images.convert import normalize_upload, picture_size
from bot.images.creator_prompts import build_creator_prompt, image_kind_for
from bot.images.decode import ImageRejected
from bot.images.models import estimate_cost, price_for, quality_for_tier
from bot.images.prompts import (
    CharacterSheet,
    SceneRole,
    build_create_prompt,
    build_scene_prompt,
    build_vary_prompt,
    style_for,
)
from bot.images.service import GeneratedImage, ImageRequest, ImageService
from bot.images.store import ImageStore
from bot.images.styles import StylePreset
from bot.jobs.references import variation_references
from bot.jobs.scene_cast import SceneConsentWithdrawn, cast_at_run, scene_base
from bot.records import (
    AvatarJobRequest,
    Character,
    CutoutJobRequest,
    ImageKind,
    Job,
    JobState,
    SceneJobRequest,
    SheetJobRequest,
    StoredImage,
    VaryJobRequest,
)
from bot.storage import NewImage, Storage

__all__ = ["Answer", "DrawnElsewhere", "JobRunner", "Prepared"]

log = logging.getLogger(__name__)

# API facts §3: each reference image must be under 50 MB. Which pictures a variation sends
# is decided by bot.jobs.references.
MAX_REFERENCE_BYTES = 50 * 1024 * 1024
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def reference_png(data: bytes) -> bytes:
    """A stored picture as PNG for the edits endpoint: PNG as is, anything else converted.

    Pictures are stored as WebP when OUTPUT_FORMAT=webp, but references go out labelled
    ``image/png``. Pure and CPU-bound: call it through ``asyncio.to_thread``.
    """
    if data.startswith(_PNG_SIGNATURE):
        return data
    return normalize_upload(data, max_bytes=MAX_REFERENCE_BYTES, max_side=4096)


class DrawnElsewhere(Exception):
    """Another process took this job over while this one stalled past its lease, and draws
    (or drew) it: its answer is that process's to give, so this one drops its own."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """A job's request, made ready before the job is claimed: the claim notes its prompt
    (one write, where there were two), and the API call follows the claim at once."""

    character: Character  # the character the pictures are filed under
    request: ImageRequest
    # A scene's characters, linked to it when it runs (a write, so after the claim).
    scene_cast: list[int] | None = None


@dataclass(eq=False)
class Answer:
    """OpenAI's answer to a job, held until it is written and recorded."""

    job: Job
    character: Character
    images: list[GeneratedImage]
    record: dict[str, Any]  # finish_job's arguments, apart from the files
    saved: list[NewImage] | None = None
    noted: bool = False

    def note(self) -> dict[str, Any]:
        """What a restart needs to record the written files (see ImageStore.keep_answer)."""
        assert self.saved is not None
        return {"record": self.record, "images": [dataclasses.asdict(i) for i in self.saved]}


class JobRunner:
    def __init__(
        self, storage: Storage, images: ImageService, store: ImageStore, settings: Settings
    ) -> None:
        self._storage = storage
        self._images = images
        self._store = store
        self._settings = settings

    async def prepare(self, job: Job) -> Prepared:
        """The job's request as it may be drawn now: its character, and for a variation the
        pictures its member may still use. Reads only: the job may still be cancelled."""
        if isinstance(job.request, SceneJobRequest):
            return await self._scene_request(job, job.request)
        character = await self._storage.characters.get(job.character_id or 0)
        if character is None:
            raise CharacterGone()
        return Prepared(character, await self._build_request(job, character))

    async def draw(
        self,
        job: Job,
        prepared: Prepared,
        on_partial: Callable[[bytes], Awaitable[None]] | None,
    ) -> Answer:
        """Ask OpenAI for the pictures of a claimed job: the one step that is paid for."""
        character, request = prepared.character, prepared.request
        scene_id = None
        if prepared.scene_cast is not None:
            scene_id = await self._storage.scenes.record_cast(
                job_id=job.id,
                guild_id=job.guild_id,
                maker_id=job.user_id,
                character_ids=prepared.scene_cast,
            )
        result = await self._images.create(request, on_partial)
        price = price_for(self._settings.price_table, request.model)
        cost = estimate_cost(
            price,
            text_input=result.text_input_tokens,
            image_input=result.image_input_tokens,
            image_output=result.output_tokens,
        )
        record = {
            "job_id": job.id,
            "guild_id": job.guild_id,
            "character_id": character.id,
            "owner_id": job.user_id,
            "parent_image_id": job.parent_image_id,
            "prompt": request.prompt,
            "model": request.model,
            "input_tokens": result.text_input_tokens + result.image_input_tokens,
            "output_tokens": result.output_tokens,
            "cost_usd": cost,
            "scene_id": scene_id,
            "image_kind": str(image_kind_for(job.kind)),
            "scene_cast": prepared.scene_cast,
        }
        return Answer(job, character, result.images, record)

    async def keep(self, answer: Answer) -> tuple[Character, list[StoredImage]]:
        """Write the answer's pictures, then record them; safe to call again after a fault.

        Files are written first and noted (``ImageStore.keep_answer``), so a crash or a
        storage error before the record leaves them for a retry or the next start instead
        of paying OpenAI again. The record is idempotent by job id.
        """
        if not answer.noted:
            # One trip to a thread for both writes: with many answers at once, each hop
            # waits for a free worker.
            await asyncio.to_thread(self._save_and_note, answer)
        assert answer.saved is not None
        return await self.record(answer.job, answer.character, answer.record, answer.saved)

    def _save_and_note(self, answer: Answer) -> None:
        """Write the pictures (unless a try before did), then the note naming them."""
        if answer.saved is None:
            answer.saved = self._save_all(answer.job.guild_id, answer.images)
        self._store.keep_answer(answer.job.id, answer.note())
        answer.noted = True

    async def record(
        self, job: Job, character: Character, record: dict[str, Any], saved: list[NewImage]
    ) -> tuple[Character, list[StoredImage]]:
        """Record pictures already written (now, or by a process that stopped before)."""
        ids = await self._storage.images.finish_job(images=saved, **record)
        if ids is None:
            # Not this process's to record: another took the job over while this one
            # stalled, or the character was deleted (or the job ended) while drawing.
            elsewhere = (await self._storage.leases.held_elsewhere([job.id])).get(job.id)
            if elsewhere is JobState.RUNNING:
                # It may be recording these very files from their note (a shared volume):
                # they stay, for it (or, if it draws anew, for the sweep of unnamed files).
                raise DrawnElsewhere()
            # No orphan files, but those another process recorded (read after the above).
            recorded = await self._storage.images.for_job(job.id)
            theirs = {path for image in recorded for path in (image.file_path, image.thumb_path)}
            paths = [
                path
                for image in saved
                for path in (image.file_path, image.thumb_path)
                if path and path not in theirs
            ]
            await asyncio.to_thread(self._store.delete, paths)
            await asyncio.to_thread(self._store.forget_answer, job.id)
            raise DrawnElsewhere() if elsewhere is not None else CharacterGone()
        # Off the event loop: unlinking a file just written with fsync can wait on the disk.
        await asyncio.to_thread(self._store.forget_answer, job.id)
        stored = [img for img in await self._storage.images.for_job(job.id) if img.id in ids]
        refreshed = await self._storage.characters.get(character.id) or character
        return refreshed, stored

    def _save_all(self, guild_id: int, images: list[GeneratedImage]) -> list[NewImage]:
        saved: list[NewImage] = []
        written: list[str] = []
        try:
            for image in images:
                width, height = picture_size(image.data)
                path = self._store.save(guild_id, image.data, image.mime)
                written.append(path)
                # No thumbnail yet: made after the post (JobPoster.post_new), off the member's path.
                saved.append(NewImage(path, None, width, height, image.mime))
        except BaseException:
            # A full or read-only disk midway: what was written belongs to nothing.
            self._store.delete(written)
            raise
        return saved

    async def _build_request(self, job: Job, character: Character) -> ImageRequest:
        request = job.request
        sheet = CharacterSheet.from_dict(character.sheet)
        style = style_for(request.style or character.style)
        size = request.size
        transparent = request.transparent
        common = await self._common(job, size=size, transparent=transparent)
        if isinstance(request, SheetJobRequest | AvatarJobRequest | CutoutJobRequest):
            return await self._creator_request(job, character, request, sheet, style, common)
        if isinstance(request, VaryJobRequest):
            strong = request.strong
            references, sheet_leads = await self._references(job, character, strong=strong)
            prompt = build_vary_prompt(
                sheet,
                style,
                change=request.change,
                strong=strong,
                size=size,
                transparent=transparent,
                references=len(references),
                sheet_leads=sheet_leads,
            )
            return ImageRequest(
                prompt=prompt,
                model=self._settings.vary_model,
                references=references,
                # Both strengths keep the face: high fidelity where the model accepts it (the
                # image service drops it where not, e.g. gpt-image-2). Subtle plans little and
                # stays close; strong re-plans pose and scene.
                input_fidelity="high",
                complexity="high" if strong else "low",
                **common,
            )
        references = []
        if job.reference_path:
            try:
                references = [await asyncio.to_thread(self._store.read, job.reference_path)]
            except FileNotFoundError:
                # Gone from the disk (removed by hand, or lost to a fault at submission):
                # waiting mends nothing, as it would a storage fault. The job ends, refunded.
                raise BotError("error.reference_lost") from None
        return ImageRequest(
            prompt=build_create_prompt(sheet, style, size=size, transparent=transparent),
            model=self._settings.image_model,
            references=references,
            input_fidelity="high" if references else None,
            **common,
        )

    async def _common(self, job: Job, *, size: str, transparent: bool) -> dict[str, Any]:
        """What every request of this job shares, whatever its kind (ImageRequest's fields)."""
        config = await self._storage.guilds.config(job.guild_id)
        return {
            "size": size,
            "n": job.image_count,
            "quality": quality_for_tier(config.model_tier, self._settings.image_quality),
            "output_format": self._settings.output_format,
            "transparent": transparent,
            "user_id": job.user_id,
        }

    async def _scene_request(self, job: Job, request: SceneJobRequest) -> Prepared:
        """A scene's edit request, from its characters as they may be used now
        (bot/jobs/scene_cast.py), filed under the first of them; the scene links them when
        the job runs."""
        cast = await cast_at_run(self._storage, job)
        base = await scene_base(self._storage, job, cast)
        references = await self._read_references([base] if base is not None else [])
        roles: list[SceneRole] = []
        used: list[Character] = []
        for member in cast:
            pictures = await self._read_references(member.references)
            if pictures:
                references += pictures
                roles.append(
                    SceneRole(CharacterSheet.from_dict(member.character.sheet), len(pictures))
                )
                used.append(member.character)
        if len(used) < 2:
            raise SceneConsentWithdrawn()
        prompt = build_scene_prompt(
            roles,
            style_for(request.style or used[0].style),
            setting=request.setting,
            size=request.size,
            change=request.change,
            edits_first_image=len(references) > sum(r.references for r in roles),
        )
        image_request = ImageRequest(
            prompt=prompt,
            model=self._settings.vary_model,  # Sunburst keeps subjects consistent
            references=references,
            input_fidelity="high",
            complexity="high",
            **await self._common(job, size=request.size, transparent=False),
        )
        return Prepared(used[0], image_request, [c.id for c in used])

    async def _creator_request(
        self,
        job: Job,
        character: Character,
        request: SheetJobRequest | AvatarJobRequest | CutoutJobRequest,
        sheet: CharacterSheet,
        style: StylePreset,
        common: dict[str, Any],
    ) -> ImageRequest:
        """A reference sheet, an avatar or a cut-out: an edit with the character's references."""
        # A cut-out redraws the picture it was asked from: that one goes first.
        cutout = isinstance(request, CutoutJobRequest)
        references, sheet_leads = await self._references(job, character, sheet_first=not cutout)
        if isinstance(request, AvatarJobRequest):
            # An avatar is a PNG, whatever OUTPUT_FORMAT says.
            common = {**common, "output_format": "png"}
        return ImageRequest(
            prompt=build_creator_prompt(
                request, sheet, style, references=len(references), sheet_leads=sheet_leads
            ),
            model=self._settings.vary_model,
            references=references,
            input_fidelity="high",
            # A sheet plans a whole layout; an avatar or a cut-out stays close.
            complexity="high" if isinstance(request, SheetJobRequest) else "low",
            **common,
        )

    async def _references(
        self, job: Job, character: Character, *, strong: bool = False, sheet_first: bool = True
    ) -> tuple[list[bytes], bool]:
        """The reference pictures of a variation, as PNG bytes, most important first, and
        whether the first one sent is a reference sheet.

        Chosen now, not at submission (see bot.jobs.references): only pictures of the
        character's lineage that the job's member may still see. An unreadable picture is
        skipped; with nothing left the job fails (and is refunded).
        """
        chosen = await variation_references(
            self._storage,
            character,
            job.user_id,
            parent_image_id=job.parent_image_id,
            strong=strong,
            sheet_first=sheet_first,
        )
        pictures = await self._read_pictures(chosen)
        if not pictures:
            raise NotFound("error.no_reference")
        return [png for _, png in pictures], pictures[0][0].kind == ImageKind.SHEET

    async def _read_references(self, chosen: list[StoredImage]) -> list[bytes]:
        """Stored pictures as PNG bytes for the edits endpoint; unreadable ones skipped."""
        return [png for _, png in await self._read_pictures(chosen)]

    async def _read_pictures(self, chosen: list[StoredImage]) -> list[tuple[StoredImage, bytes]]:
        """The readable ones of ``chosen``, each with its PNG bytes for the edits endpoint."""
        pictures: list[tuple[StoredImage, bytes]] = []
        for image in chosen:
            try:
                data = await asyncio.to_thread(self._store.read, image.file_path)
                png = await asyncio.to_thread(reference_png, data)
            except OSError:
                log.warning("Reference picture %s is missing on disk", image.id)
                continue
            except ImageRejected as exc:
                log.warning("Reference picture %s is unusable (%s)", image.id, exc.reason)
                continue
            if len(png) >= MAX_REFERENCE_BYTES:
                log.warning("Reference picture %s is too large to send", image.id)
                continue
            pictures.append((image, png))
        return pictures
