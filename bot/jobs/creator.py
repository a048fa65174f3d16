"""The creator tools' requests (issue #23): a reference sheet, an avatar, a cut-out.

Each is one picture, queued, reserved and charged like any job (bot.jobs.submit), and drawn
as an edit that sends the character's references (bot.jobs.runner). Another member's
character is drawn through the member's own copy of it, as a variation would be.
"""

from __future__ import annotations

from bot.errors import NotFound
from bot.images.styles import SIZES, STYLES
from bot.jobs.references import variation_references
from bot.jobs.shape import known
from bot.jobs.submit import JobSpec, PictureRequests, Requester
from bot.records import (
    AvatarJobRequest,
    CutoutJobRequest,
    JobKind,
    JobRequest,
    SheetJobRequest,
    Submitted,
)

__all__ = ["CreatorRequests"]


class CreatorRequests:
    """What members may ask of a character they like, beyond new pictures of it."""

    def __init__(self, requests: PictureRequests) -> None:
        self._requests = requests

    async def request_sheet(
        self, who: Requester, character_id: int, *, image_id: int | None = None
    ) -> Submitted:
        """A reference sheet of the character (drawn from ``image_id`` and its references)."""
        return await self._queue(who, character_id, image_id, JobKind.SHEET, SheetJobRequest())

    async def request_avatar(
        self,
        who: Requester,
        character_id: int,
        *,
        image_id: int | None = None,
        transparent: bool = False,
    ) -> Submitted:
        """A square head-and-shoulders portrait, on transparency when asked."""
        request = AvatarJobRequest(transparent=transparent)
        return await self._queue(who, character_id, image_id, JobKind.AVATAR, request)

    async def request_cutout(self, who: Requester, image_id: int) -> Submitted:
        """``image_id`` drawn again with a transparent background (for a sticker or emoji)."""
        image = await self._requests.storage.images.get(image_id)
        if image is None or image.guild_id != who.guild_id:
            raise NotFound("error.image_gone")
        # The same shape as the picture it redraws (a sticker must not lose its feet).
        shape = f"{image.width}x{image.height}"
        size_key = next((key for key, size in SIZES.items() if size == shape), "square")
        request = CutoutJobRequest(size=SIZES[size_key], size_key=size_key)
        return await self._queue(who, image.character_id, image.id, JobKind.CUTOUT, request)

    async def _queue(
        self,
        who: Requester,
        character_id: int,
        image_id: int | None,
        kind: JobKind,
        request: SheetJobRequest | AvatarJobRequest | CutoutJobRequest,
    ) -> Submitted:
        requests = self._requests
        character = await requests.vary_target(who, character_id)
        # The picture it starts from: the one asked for if usable, else the main picture.
        usable = await variation_references(
            requests.storage, character, who.user_id, parent_image_id=image_id, sheet_first=False
        )
        if not usable:
            raise NotFound("error.no_reference")
        await requests.check_room(who, 1)
        style = known(character.style, STYLES)
        shaped: JobRequest = _with_style(request, style)
        mine = character.owner_id == who.user_id
        target = character.id if mine else None  # a fork is made when the job is queued
        spec = JobSpec(kind, target, 1, shaped, parent_image_id=usable[0].id)
        return await requests.reserve_and_enqueue(who, spec, fork_of=None if mine else character)


def _with_style(
    request: SheetJobRequest | AvatarJobRequest | CutoutJobRequest, style: str | None
) -> JobRequest:
    if isinstance(request, AvatarJobRequest):
        return AvatarJobRequest(style=style, transparent=request.transparent)
    if isinstance(request, SheetJobRequest):
        return SheetJobRequest(style=style)
    return CutoutJobRequest(size=request.size, size_key=request.size_key, style=style)
