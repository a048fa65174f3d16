"""What each GPT image model accepts, and what its tokens cost.

The API rejects parameters a model does not support (``input_fidelity`` on ``gpt-image-2``,
for example), so every request is shaped by the capabilities listed here rather than by
hopeful defaults. See ``shared/openai-images-api.md`` §1 and §3.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, Field

__all__ = [
    "ModelCapabilities",
    "ModelPrice",
    "capabilities_for",
    "estimate_cost",
    "estimate_job_cost",
    "price_for",
    "quality_for_tier",
]

STANDARD_SIZES = frozenset({"1024x1024", "1536x1024", "1024x1536"})


@dataclass(frozen=True, slots=True)
class ModelCapabilities:
    arbitrary_sizes: bool
    # Empty: the parameter must not be sent at all.
    input_fidelity: frozenset[str]
    transparent_background: bool
    complexity: bool


_GPT_IMAGE_2 = ModelCapabilities(
    arbitrary_sizes=True, input_fidelity=frozenset(), transparent_background=True, complexity=False
)
_GPT_IMAGE_25 = ModelCapabilities(
    arbitrary_sizes=True,
    input_fidelity=frozenset({"low", "high"}),
    transparent_background=True,
    complexity=True,
)
_GPT_IMAGE_15 = ModelCapabilities(
    arbitrary_sizes=False,
    input_fidelity=frozenset({"low", "high"}),
    transparent_background=True,
    complexity=False,
)
# The API facts name transparent backgrounds for 1.5, 2 (in preview) and 2.5/2.6 only; a
# model they do not name draws an opaque picture, and the sticker flow offers a cut-out.
_GPT_IMAGE_MINI = ModelCapabilities(
    arbitrary_sizes=False,
    input_fidelity=frozenset({"low"}),
    transparent_background=False,
    complexity=False,
)
# An unknown or moving alias: send only what every GPT image model accepts.
_CONSERVATIVE = ModelCapabilities(
    arbitrary_sizes=False,
    input_fidelity=frozenset(),
    transparent_background=False,
    complexity=False,
)


def capabilities_for(model: str) -> ModelCapabilities:
    """The capabilities of ``model``, including its dated snapshots."""
    if model.startswith(("gpt-image-2.5-", "gpt-image-2.6-")):
        return _GPT_IMAGE_25
    if model == "gpt-image-2" or model.startswith("gpt-image-2-"):
        return _GPT_IMAGE_2
    if model.startswith("gpt-image-1.5"):
        return _GPT_IMAGE_15
    if model.startswith("gpt-image-1-mini"):
        return _GPT_IMAGE_MINI
    return _CONSERVATIVE


class ModelPrice(BaseModel):
    """US dollars per million tokens, as printed on OpenAI's pricing page."""

    text_input: float = Field(ge=0)
    image_input: float = Field(ge=0)
    image_output: float = Field(ge=0)


# A dated snapshot's suffix: ``gpt-image-2.5-flare-2026-09-08`` is ``gpt-image-2.5-flare``.
_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def price_for(table: Mapping[str, ModelPrice], model: str) -> ModelPrice | None:
    """The price of ``model`` in PRICE_TABLE. A dated snapshot the table does not name costs
    what its model costs: OpenAI's pricing page names the model, and the API facts advise
    pinning a snapshot; without this, its pictures would cost nothing against a budget."""
    price = table.get(model)
    if price is None:
        price = table.get(_SNAPSHOT.sub("", model))
    return price


def estimate_cost(
    price: ModelPrice | None, *, text_input: int, image_input: int, image_output: int
) -> float | None:
    """Dollars for one request's token usage, or ``None`` when no price is configured."""
    if price is None:
        return None
    return (
        text_input * price.text_input
        + image_input * price.image_input
        + image_output * price.image_output
    ) / 1_000_000


# What a job is reserved at before it runs (README, "The dollar budget"). Deliberately on the
# high side, so a burst cannot outrun a budget: OpenAI's published output for one 1024x1024
# picture is about 272 tokens at low quality, 1056 at medium and 4160 at high; we reserve
# half as much again, scaled by area for other sizes, plus each streamed partial image.
ESTIMATED_OUTPUT_TOKENS_1024 = {
    "low": 400,
    "medium": 1600,
    "high": 6300,
    "xhigh": 9400,
    "max": 12500,
    "auto": 6300,
}
ESTIMATED_PARTIAL_TOKENS = 150
# Our prompts (instructions plus a sheet capped at a few hundred words) stay well under this.
ESTIMATED_TEXT_TOKENS = 1500
# One reference picture, fitted in 2048 px with a 768 px short side at high fidelity.
ESTIMATED_REFERENCE_TOKENS = 2200


def estimate_job_cost(
    price: ModelPrice | None,
    *,
    quality: str,
    size: str,
    count: int,
    references: int,
    partial_images: int,
) -> float | None:
    """A conservative estimate of one job's dollars, before it runs (None: no price known)."""
    try:
        width, height = (int(v) for v in size.lower().split("x"))
    except ValueError:
        width, height = 1536, 1024  # "auto": the largest standard size
    per_picture = ESTIMATED_OUTPUT_TOKENS_1024.get(quality, ESTIMATED_OUTPUT_TOKENS_1024["max"])
    output = count * (
        per_picture * width * height / (1024 * 1024) + partial_images * ESTIMATED_PARTIAL_TOKENS
    )
    return estimate_cost(
        price,
        text_input=ESTIMATED_TEXT_TOKENS,
        image_input=references * ESTIMATED_REFERENCE_TOKENS,
        image_output=round(output),
    )


def quality_for_tier(tier: str, standard: str) -> str:
    """The render quality a server's model tier (``/config model``) asks for.

    Quality is what moves the price of a picture most; ``standard`` is IMAGE_QUALITY.
    """
    return {"economy": "low", "premium": "high"}.get(tier, standard)
