"""The creator tools' records (issue #23): what a picture is, and how a reference sheet, an
avatar or a cut-out is drawn. Re-exported by :mod:`bot.records`, where the other job requests
live; apart only to keep that module short.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from bot.records_json import DrawingKeys, drawing_json

__all__ = [
    "AvatarJobRequest",
    "CutoutJobRequest",
    "ImageKind",
    "SheetJobRequest",
    "creator_request",
]


class ImageKind(StrEnum):
    """What a stored picture is; the values are the strings stored in ``images.kind``."""

    ORDINARY = "ordinary"
    SHEET = "sheet"  # front, side, back and three expressions: the first reference
    AVATAR = "avatar"  # a square head-and-shoulders portrait


@dataclass(frozen=True, slots=True)
class SheetJobRequest:
    """A reference sheet: one landscape picture, front/side/back and three expressions."""

    size: str = "1536x1024"
    size_key: str | None = "landscape"
    style: str | None = None
    transparent: ClassVar[bool] = False  # a plain light background, by design

    def to_json(self) -> dict[str, Any]:
        return drawing_json(self)


@dataclass(frozen=True, slots=True)
class AvatarJobRequest:
    """A square head-and-shoulders portrait, optionally on a transparent background."""

    size: str = "1024x1024"
    size_key: str | None = "square"
    style: str | None = None
    transparent: bool = False

    def to_json(self) -> dict[str, Any]:
        return drawing_json(self, transparent=self.transparent)


@dataclass(frozen=True, slots=True)
class CutoutJobRequest:
    """The picture varied (the job's parent) again, cut out on a transparent background."""

    size: str = "1024x1024"
    size_key: str | None = "square"
    style: str | None = None
    transparent: ClassVar[bool] = True

    def to_json(self) -> dict[str, Any]:
        return drawing_json(self)


def creator_request(
    kind: str, stored: Mapping[str, Any], drawing: DrawingKeys
) -> SheetJobRequest | AvatarJobRequest | CutoutJobRequest:
    """A creator job's request from its stored JSON (``kind`` is a ``JobKind`` value) and
    the shared keys already read from it."""
    if kind == "sheet":
        return SheetJobRequest(**drawing)
    if kind == "avatar":
        return AvatarJobRequest(**drawing, transparent=bool(stored.get("transparent")))
    return CutoutJobRequest(**drawing)
