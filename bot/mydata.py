"""A member's own data: exported as zip files that fit Discord's uploads, or erased.

Pure core: plain values in, ZIP bytes out. ``cogs/mydata`` sends the parts; zip work and
file reads run in threads, off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import re
import time
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

from bot.favorite_reactions import ReactionFavorites
from bot.images.store import ImageStore
from bot.records import Character, StoredImage
from bot.storage import Storage
from bot.storage.removal import Removed
from bot.takedowns import MessageTakedowns

__all__ = [
    "ExportFile",
    "ExportPlan",
    "MyDataService",
    "build_export_part",
    "group_parts",
]

log = logging.getLogger(__name__)

_SLUG = re.compile(r"[^a-z0-9]+")


def _slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")[:40] or "character"


_EXTENSIONS = {"image/png": "png", "image/webp": "webp", "image/jpeg": "jpg"}


@dataclass(frozen=True, slots=True)
class ExportFile:
    arcname: str
    path: str  # relative to the image store
    size: int


@dataclass(frozen=True, slots=True)
class ExportPlan:
    """A member's data split into zip files that each fit one upload."""

    manifest: bytes
    parts: list[list[ExportFile]]  # parts[0] also holds the manifest
    estimates: list[int]  # upper bound of each zip's size in bytes
    skipped: int  # pictures whose file is missing or too large for any upload
    characters: int
    pictures: int
    favorites: int

    @property
    def empty(self) -> bool:
        return self.characters == 0 and self.pictures == 0 and self.favorites == 0


MANIFEST_NAME = "characters.json"
_ZIP_END = 22 + 512  # end-of-central-directory record plus a safety margin


def _entry_overhead(arcname: str) -> int:
    """Local header + central directory entry for one stored file (plus slack)."""
    name = len(arcname.encode("utf-8"))
    return 30 + 46 + 2 * name + 64


def build_export_part(store: ImageStore, plan: ExportPlan, index: int) -> bytes:
    """Zip one part of ``plan``. Synchronous (file reads): call it in a thread.

    Pictures are stored uncompressed: they are PNG/WebP already and would not shrink.
    """
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        if index == 0:
            archive.writestr(MANIFEST_NAME, plan.manifest, compress_type=zipfile.ZIP_DEFLATED)
        for item in plan.parts[index]:
            try:
                data = store.read(item.path)
            except (OSError, ValueError):
                continue  # deleted meanwhile: the manifest still lists it
            archive.writestr(item.arcname, data, compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


def group_parts(sizes: list[int], *, max_files: int, max_bytes: int) -> list[list[int]]:
    """Indexes of parts grouped into messages of at most ``max_files``/``max_bytes``."""
    groups: list[list[int]] = []
    current: list[int] = []
    total = 0
    for index, size in enumerate(sizes):
        if current and (len(current) >= max_files or total + size > max_bytes):
            groups.append(current)
            current, total = [], 0
        current.append(index)
        total += size
    if current:
        groups.append(current)
    return groups


def _image_record(image: StoredImage, arcname: str | None, user_id: int) -> dict[str, Any]:
    mine = image.owner_id == user_id
    return {
        "id": image.id,
        "file": arcname,
        # Another member's scene filed under one of the member's characters: the picture is
        # of their character, but its prompt holds the maker's words (and the descriptions
        # of the maker's characters, private ones too): those stay the maker's.
        "prompt": image.prompt if mine else None,
        "model": image.model,
        "width": image.width,
        "height": image.height,
        "variation_of": image.parent_image_id,
        "favorites": image.favorite_count,
        "made_by_you": mine,
        "created_at": image.created_at,
    }


def _manifest(
    guild_id: int,
    user_id: int,
    characters: list[Character],
    records: dict[int, list[dict[str, Any]]],
    others: list[dict[str, Any]],
    favorites: list[tuple[int, float]],
) -> dict[str, Any]:
    """``characters.json``: every character with its pictures' records, then the rest."""
    return {
        "format": 1,
        "exported_at": time.time(),
        "guild_id": str(guild_id),
        "user_id": str(user_id),
        "characters": [
            {
                "id": c.id,
                "name": c.name,
                "sheet": c.sheet,
                "style": c.style,
                "private": c.private,
                "forked_from": c.forked_from_id,
                "portrait": c.canonical_image_id,
                "created_at": c.created_at,
                "pictures": records.get(c.id, []),
            }
            for c in characters
        ],
        "pictures_of_other_characters": others,
        "favorites": [{"picture": image_id, "at": at} for image_id, at in favorites],
    }


def _plan_export(
    store: ImageStore,
    guild_id: int,
    user_id: int,
    characters: list[Character],
    images: list[StoredImage],
    favorites: list[tuple[int, float]],
    part_limit: int,
) -> ExportPlan:
    """Decide which file goes in which zip; reads only file sizes. Runs in a thread."""
    names = {c.id: f"{_slug(c.name)}-{c.id}" for c in characters}
    files: list[ExportFile] = []
    records: dict[int, list[dict[str, Any]]] = {}
    others: list[dict[str, Any]] = []
    skipped = 0
    for image in images:
        folder = names.get(image.character_id, f"other-{image.character_id}")
        arcname: str | None = f"{folder}/{image.id}.{_EXTENSIONS.get(image.mime, 'png')}"
        try:
            size = store.path(image.file_path).stat().st_size
        except (OSError, ValueError):
            size = -1
        assert arcname is not None
        if size < 0 or size + _entry_overhead(arcname) + _ZIP_END > part_limit:
            skipped += 1
            arcname = None
        else:
            files.append(ExportFile(arcname, image.file_path, size))
        record = _image_record(image, arcname, user_id)
        if image.character_id in names:
            records.setdefault(image.character_id, []).append(record)
        else:
            others.append(record)
    manifest = _manifest(guild_id, user_id, characters, records, others, favorites)
    manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
    manifest_size = len(zlib.compress(manifest_bytes, 6)) + 64 + _entry_overhead(MANIFEST_NAME)

    parts: list[list[ExportFile]] = [[]]
    estimates = [_ZIP_END + manifest_size]
    for item in files:
        cost = item.size + _entry_overhead(item.arcname)
        if estimates[-1] + cost > part_limit:
            # A file alone always fits an empty part (checked above).
            parts.append([])
            estimates.append(_ZIP_END)
        parts[-1].append(item)
        estimates[-1] += cost
    return ExportPlan(
        manifest_bytes, parts, estimates, skipped, len(characters), len(images), len(favorites)
    )


class MyDataService:
    """Export and erasure of everything one member stored in one server."""

    def __init__(
        self,
        storage: Storage,
        store: ImageStore,
        takedowns: MessageTakedowns,
        reactions: ReactionFavorites | None = None,
    ) -> None:
        self.storage = storage
        self.store = store
        self.takedowns = takedowns
        self.reactions = reactions  # ⭐ reactions held through a storage fault

    async def export_plan(self, guild_id: int, user_id: int, *, part_limit: int) -> ExportPlan:
        data = await self.storage.gallery.export_data(guild_id, user_id)
        return await asyncio.to_thread(
            _plan_export,
            self.store,
            guild_id,
            user_id,
            data.characters,
            data.images,
            data.favorites,
            part_limit,
        )

    async def export_part(self, plan: ExportPlan, index: int) -> bytes:
        return await asyncio.to_thread(build_export_part, self.store, plan, index)

    async def delete_member_data(self, guild_id: int, user_id: int) -> Removed:
        held = self.reactions
        erasing = held.erasing(guild_id, user_id) if held else contextlib.nullcontext()
        async with erasing:
            removed = await self.storage.deletions.delete_member_data(guild_id, user_id)
        self.takedowns.wake()
        await asyncio.to_thread(self.store.delete, removed.files)
        log.info(
            "Erased the data of member %s in guild %s (%d characters, %d pictures)",
            user_id,
            guild_id,
            removed.characters,
            removed.images,
        )
        return removed
