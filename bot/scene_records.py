"""The records of scenes (bot/scenes.py), apart so bot/records.py stays small.

``bot.records`` re-exports them: name them from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bot.records_json import DrawingKeys, drawing_json

__all__ = ["SCENE_MODES", "SceneJobRequest", "SceneMode", "scene_mode"]


# Whose characters a member may put in a scene: none, their own, or any that consent.
SceneMode = Literal["off", "own", "any"]
SCENE_MODES: tuple[SceneMode, ...] = ("off", "own", "any")


def scene_mode(value: object) -> SceneMode:
    for mode in SCENE_MODES:
        if value == mode:
            return mode
    return "own"


@dataclass(frozen=True, slots=True)
class SceneJobRequest:
    """How a scene is drawn: its characters in the order the prompt names them, and where.

    ``base_image_id``: a scene picture this one edits ("Vary scene"), with ``change``.
    Which of the characters are really sent is decided again when the job runs
    (bot/jobs/scene_cast.py): consent can be withdrawn while the job waits.
    """

    size: str
    size_key: str | None = None
    style: str | None = None
    setting: str = ""
    character_ids: tuple[int, ...] = ()
    base_image_id: int | None = None
    change: str = ""

    @property
    def transparent(self) -> bool:
        return False  # a scene has a setting, never a cutout

    @classmethod
    def from_json(cls, stored: Mapping[str, Any], drawing: DrawingKeys) -> SceneJobRequest:
        """From a job's stored request and its shared keys (read by bot.records_json)."""
        ids = stored.get("character_ids")
        ids = ids if isinstance(ids, list) else []
        base = stored.get("base_image_id")
        return cls(
            **drawing,
            setting=str(stored.get("setting") or ""),
            character_ids=tuple(i for i in ids if isinstance(i, int)),
            base_image_id=base if isinstance(base, int) else None,
            change=str(stored.get("change") or ""),
        )

    def to_json(self) -> dict[str, Any]:
        return drawing_json(
            self,
            setting=self.setting,
            character_ids=list(self.character_ids),
            base_image_id=self.base_image_id,
            change=self.change,
        )
