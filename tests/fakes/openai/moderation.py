"""POST /moderations: results keyed with the API's JSON spelling (slashes and dashes)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import errors

MODERATION_MODELS: frozenset[str] = frozenset(
    {
        "omni-moderation-latest",
        "omni-moderation-2024-09-26",
        "text-moderation-latest",
        "text-moderation-stable",
    }
)
DEFAULT_MODERATION_MODEL = "omni-moderation-latest"

CATEGORIES: tuple[str, ...] = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
# Categories the omni model also scores for images; the rest are text-only.
IMAGE_CATEGORIES: frozenset[str] = frozenset(
    {
        "self-harm",
        "self-harm/intent",
        "self-harm/instructions",
        "sexual",
        "violence",
        "violence/graphic",
    }
)
FLAGGED_SCORE = 0.97
PARENT_SCORE = 0.88


def normalize_category(category: str) -> str:
    """Accept the JSON spelling or the Python attribute name (``self_harm_intent``)."""
    if category in CATEGORIES:
        return category
    by_attribute = {c.replace("/", "_").replace("-", "_"): c for c in CATEGORIES}
    if category in by_attribute:
        return by_attribute[category]
    raise ValueError(f"unknown moderation category {category!r}; expected one of {CATEGORIES}")


@dataclass(frozen=True)
class ModerationInput:
    """One item to score: its text (possibly empty) and whether it includes an image."""

    text: str
    has_image: bool


def parse_input(body: Mapping[str, Any]) -> list[ModerationInput]:
    """Split ``input`` into the items that each get one result."""
    value = body.get("input")
    if value is None:
        raise errors.missing_required("input")
    if isinstance(value, str):
        return [ModerationInput(value, False)]
    if not isinstance(value, list) or not value:
        raise errors.invalid_type("input", "a string or an array", "an empty array or object")
    if all(isinstance(item, str) for item in value):
        return [ModerationInput(item, False) for item in value]
    texts: list[str] = []
    has_image = False
    for index, item in enumerate(value):
        param = f"input[{index}]"
        if not isinstance(item, dict):
            raise errors.invalid_type(param, "an object", "a string")
        kind = item.get("type")
        if kind == "text" and isinstance(item.get("text"), str):
            texts.append(item["text"])
        elif kind == "image_url" and isinstance(item.get("image_url"), dict):
            url = item["image_url"].get("url")
            if not isinstance(url, str) or not url.startswith(("https://", "http://", "data:")):
                raise errors.invalid_value(f"{param}.image_url.url", url)
            has_image = True
        else:
            raise errors.invalid_value(f"{param}.type", kind, ("text", "image_url"))
    # A list of multi-modal objects gets one result for the whole list.
    return [ModerationInput("\n".join(texts), has_image)]


def _low_score(text: str, category: str) -> float:
    digest = hashlib.sha256(f"{category}\x00{text}".encode()).digest()
    return round(1e-6 + (digest[0] * 256 + digest[1]) / 65535 * 0.01, 8)


def moderate(item: ModerationInput, flags: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """One ``results[]`` entry; ``flags`` are (lower-case substring, category) pairs."""
    lowered = item.text.lower()
    flagged = {category for needle, category in flags if needle in lowered}
    parents = {c.split("/")[0] for c in flagged if "/" in c} - flagged

    scores: dict[str, float] = {}
    for category in CATEGORIES:
        if category in flagged:
            scores[category] = FLAGGED_SCORE
        elif category in parents:
            scores[category] = PARENT_SCORE
        else:
            scores[category] = _low_score(item.text, category)
    categories = {c: c in flagged or c in parents for c in CATEGORIES}

    applied: dict[str, list[str]] = {}
    for category in CATEGORIES:
        kinds = ["text"] if item.text else []
        if item.has_image and category in IMAGE_CATEGORIES:
            kinds.append("image")
        applied[category] = kinds

    return {
        "flagged": any(categories.values()),
        "categories": categories,
        "category_scores": scores,
        "category_applied_input_types": applied,
    }
