"""Gallery thumbnails: read from the disk cache and decoded, rebuilt (and stored again)
when broken.

A new picture's thumbnail is made after the picture is posted (``make_after_post``), so
the member never waits for it. It can also be missing (a crash or a failure before it was
made, a failed write) or unreadable (a truncated file); a contact sheet then shows a fresh
one made from the picture, and the record points at it from then on. File reads and
Pillow run in a thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import logging

from PIL import Image

from bot.images.convert import load_picture, thumbnail_and_image
from bot.images.decode import ImageRejected
from bot.images.store import ImageStore
from bot.records import StoredImage
from bot.storage import Storage

__all__ = ["ThumbnailCache"]

log = logging.getLogger(__name__)


def _thumbnail_or_repair(
    store: ImageStore, guild_id: int, image: StoredImage
) -> tuple[Image.Image | None, str | None]:
    """The cached thumbnail, decoded; if it is missing or unreadable, a new one from the
    picture.

    Returns ``(decoded thumbnail or None, path of a newly stored thumbnail or None)``.
    The decoded picture goes straight to the renderer: decoding it is how we know the
    file is sound, so it is never decoded twice. Runs in a thread: file reads and Pillow.
    """
    if image.thumb_path:
        try:
            data = store.read(image.thumb_path)
        except (OSError, ValueError):
            data = b""
        picture = load_picture(data, max_side=256)
        if picture is not None:
            return picture, None
    return _new_thumbnail(store, guild_id, image)


def _new_thumbnail(
    store: ImageStore, guild_id: int, image: StoredImage
) -> tuple[Image.Image | None, str | None]:
    """A thumbnail made from the picture and stored: ``(its pixels, its path)``, or
    ``(None, None)`` when the picture has no readable file. Runs in a thread."""
    try:
        thumbnail, pixels = thumbnail_and_image(store.read(image.file_path))
    except (OSError, ValueError, ImageRejected):
        log.warning("Picture %s has no readable file; showing a placeholder", image.id)
        return None, None
    return pixels, store.save(guild_id, thumbnail, "image/webp", kind="thumb")


class ThumbnailCache:
    def __init__(self, storage: Storage, store: ImageStore) -> None:
        self.storage = storage
        self.store = store
        # Two pages showing the same broken thumbnail must not both record a repair.
        self._repair_lock = asyncio.Lock()
        # New pictures' thumbnails are made one at a time: twenty jobs finishing together
        # must not take the CPU their posts need.
        self._after_post = asyncio.Semaphore(1)

    async def make_after_post(self, guild_id: int, images: list[StoredImage]) -> None:
        """Make (and record) the thumbnails of pictures just posted. Never raises: a picture
        whose thumbnail fails here is whole anyway; the gallery makes it when first shown."""
        missing = [image for image in images if not image.thumb_path]
        if not missing:
            return
        try:
            async with self._after_post:
                made = await asyncio.to_thread(
                    lambda: [_new_thumbnail(self.store, guild_id, image) for image in missing]
                )
                await self._record(guild_id, missing, [path for _, path in made], repair=False)
        except Exception as exc:  # a full disk, storage trouble: the gallery tries again
            log.warning(
                "Thumbnails of pictures %s not made now (%s); the gallery makes them",
                [image.id for image in missing],
                type(exc).__name__,
            )
            return
        log.info(
            "Thumbnails made for pictures %s",
            [image.id for image, (_, path) in zip(missing, made, strict=True) if path],
        )

    async def pictures(self, guild_id: int, images: list[StoredImage]) -> list[Image.Image | None]:
        """Decoded thumbnails from the disk cache, rebuilding (and storing) any missing or
        broken."""
        results = await asyncio.to_thread(
            lambda: [_thumbnail_or_repair(self.store, guild_id, image) for image in images]
        )
        await self._record(guild_id, images, [path for _, path in results], repair=True)
        return [picture for picture, _ in results]

    async def _record(
        self, guild_id: int, images: list[StoredImage], paths: list[str | None], *, repair: bool
    ) -> None:
        """Point each picture's record at its newly stored thumbnail (``None``: none made).
        A page showing a broken one (``repair``) logs it; a new picture's is no news."""
        made = [(image, path) for image, path in zip(images, paths, strict=True) if path]
        if not made:
            return
        async with self._repair_lock:
            for image, path in made:
                current = await self.storage.images.get(image.id)
                if current is None or current.thumb_path != image.thumb_path:
                    # Deleted, or repaired by another page meanwhile: keep theirs.
                    await asyncio.to_thread(self.store.delete, [path])
                    continue
                if not await self.storage.gallery.set_thumbnail(guild_id, image.id, path):
                    # Deleted between that read and this write: its deletion could not know
                    # of this file, so no thumbnail of a deleted picture stays on the disk.
                    await asyncio.to_thread(self.store.delete, [path])
                    continue
                if image.thumb_path:
                    await asyncio.to_thread(self.store.delete, [image.thumb_path])
                if repair:
                    log.info("Rebuilt the thumbnail of picture %s", image.id)
