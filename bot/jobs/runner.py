"""Runs one job: the prompt, the API call, and storing the pictures.

Moderation happened at submission, before the member was told the job is queued.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.config import Settings
from bot.errors import NotFound
from bot.images.convert import make_thumbnail, png_size
from bot.images.models import estimate_cost
from bot.images.prompts import CharacterSheet, build_create_prompt, build_vary_prompt, style_for
from bot.images.service import GeneratedImage, ImageRequest, ImageService
from bot.images.store import ImageStore
from bot.storage import Character, Job, NewImage, Storage, StoredImage

__all__ = ["JobRunner"]

log = logging.getLogger(__name__)

# References beyond the canonical one (favorites, the parent picture) sent with a variation.
MAX_REFERENCES = 4


class JobRunner:
    def __init__(
        self, storage: Storage, images: ImageService, store: ImageStore, settings: Settings
    ) -> None:
        self._storage = storage
        self._images = images
        self._store = store
        self._settings = settings

    async def run(
        self, job: Job, on_partial: Callable[[bytes], Awaitable[None]] | None
    ) -> tuple[Character, list[StoredImage]]:
        character = await self._storage.characters.get(job.character_id or 0)
        if character is None:
            raise NotFound("error.character_gone")
        request = await self._build_request(job, character)
        await self._storage.jobs.record_prompt(job.id, request.prompt, request.model)
        result = await self._images.create(request, on_partial)

        new_images = await asyncio.to_thread(self._save_all, job.guild_id, result.images)
        price = self._settings.price_table.get(request.model)
        cost = estimate_cost(
            price,
            text_input=result.text_input_tokens,
            image_input=result.image_input_tokens,
            image_output=result.output_tokens,
        )
        ids = await self._storage.images.finish_job(
            job_id=job.id,
            guild_id=job.guild_id,
            character_id=character.id,
            owner_id=job.user_id,
            parent_image_id=job.parent_image_id,
            prompt=request.prompt,
            model=request.model,
            images=new_images,
            input_tokens=result.text_input_tokens + result.image_input_tokens,
            output_tokens=result.output_tokens,
            cost_usd=cost,
        )
        stored = [img for img in await self._storage.images.for_job(job.id) if img.id in ids]
        refreshed = await self._storage.characters.get(character.id) or character
        return refreshed, stored

    def _save_all(self, guild_id: int, images: list[GeneratedImage]) -> list[NewImage]:
        saved = []
        for image in images:
            width, height = png_size(image.data)
            path = self._store.save(guild_id, image.data, image.mime)
            thumb = self._store.save(
                guild_id, make_thumbnail(image.data), "image/webp", kind="thumb"
            )
            saved.append(NewImage(path, thumb, width, height, image.mime))
        return saved

    async def _build_request(self, job: Job, character: Character) -> ImageRequest:
        req = job.request
        sheet = CharacterSheet.from_dict(character.sheet)
        style = style_for(req.get("style", character.style))
        size = req["size"]
        transparent = bool(req.get("transparent"))
        references: list[bytes] = []
        if job.kind == "vary":
            references = await self._variation_references(job, character)
            strong = req.get("strength") == "strong"
            prompt = build_vary_prompt(
                sheet,
                style,
                change=req.get("change", ""),
                strong=strong,
                size=size,
                transparent=transparent,
            )
            return ImageRequest(
                prompt=prompt,
                model=self._settings.vary_model,
                size=size,
                n=job.image_count,
                quality=self._settings.image_quality,
                output_format=self._settings.output_format,
                transparent=transparent,
                user_id=job.user_id,
                references=references,
                input_fidelity="high",
                # Subtle stays close to the reference; strong may re-plan pose and scene.
                complexity="high" if strong else "low",
            )
        if job.reference_path:
            references = [await asyncio.to_thread(self._store.read, job.reference_path)]
        prompt = build_create_prompt(sheet, style, size=size, transparent=transparent)
        return ImageRequest(
            prompt=prompt,
            model=self._settings.image_model,
            size=size,
            n=job.image_count,
            quality=self._settings.image_quality,
            output_format=self._settings.output_format,
            transparent=transparent,
            user_id=job.user_id,
            references=references,
            input_fidelity="high" if references else None,
        )

    async def _variation_references(self, job: Job, character: Character) -> list[bytes]:
        """The canonical picture first, then the parent picture, as PNG bytes."""
        ids: list[int] = []
        for image_id in (character.canonical_image_id, job.parent_image_id):
            if image_id is not None and image_id not in ids:
                ids.append(image_id)
        references = []
        for image_id in ids[:MAX_REFERENCES]:
            image = await self._storage.images.get(image_id)
            if image is None:
                continue  # a deleted parent: the canonical reference still anchors the look
            try:
                references.append(await asyncio.to_thread(self._store.read, image.file_path))
            except OSError:
                log.warning("Reference picture %s is missing on disk", image_id)
        if not references:
            raise NotFound("error.no_reference")
        return references
