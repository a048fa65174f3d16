"""What the fake remembers about each request it received."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Literal

from PIL import Image

Endpoint = Literal["generations", "edits", "moderations", "variations"]
IMAGE_ENDPOINTS: frozenset[str] = frozenset({"generations", "edits"})


@dataclass(frozen=True)
class Upload:
    """One file part of a multipart edit request, exactly as it arrived."""

    field_name: str  # "image", "image[]", "mask" or "markup"
    filename: str | None
    content_type: str | None
    data: bytes

    def open(self) -> Image.Image:
        """Decode the upload with Pillow (raises if it is not an image)."""
        return Image.open(io.BytesIO(self.data))


@dataclass
class RecordedRequest:
    """One request, filled in as it is handled.

    The convenience attributes (``model``, ``size``, ``n`` ...) are read from the raw
    parameters before validation, so they are set even for requests the fake rejected;
    numbers that did not parse stay ``None``. ``fields`` holds every non-file parameter as
    sent (JSON values for generations/moderations; strings, or lists of strings for repeated
    fields, for multipart edits).
    """

    endpoint: Endpoint
    request_id: str
    started_at: float
    headers: dict[str, str] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    model: str | None = None
    prompt: str | None = None
    size: str | None = None
    n: int | None = None
    quality: str | None = None
    background: str | None = None
    output_format: str | None = None
    stream: bool = False
    partial_images: int | None = None
    input_fidelity: str | None = None
    complexity: str | None = None
    safety_identifier: str | None = None
    images: list[Upload] = field(default_factory=list)
    mask: Upload | None = None
    markup: Upload | None = None
    status: int | None = None  # None while the request is still being handled
    error: dict[str, Any] | None = None  # the "error" object sent, if any
    fault: str | None = None  # the injected fault kind that answered this request
    outputs: list[bytes] = field(default_factory=list)  # final image bytes sent back
    # The usage objects sent with finished pictures: what OpenAI would bill for this request.
    billed: list[dict[str, Any]] = field(default_factory=list)
    events_sent: int = 0  # SSE events (partials + completed) written so far
    finished_at: float | None = None

    @property
    def retry_count(self) -> int:
        """The client's ``x-stainless-retry-count`` header (0 on the first attempt)."""
        try:
            return int(self.headers.get("x-stainless-retry-count", "0"))
        except ValueError:
            return 0

    @property
    def done(self) -> bool:
        return self.finished_at is not None

    @property
    def error_code(self) -> str | None:
        return None if self.error is None else self.error.get("code")

    def summary(self) -> str:
        return (
            f"{self.endpoint} model={self.model} n={self.n} size={self.size} "
            f"stream={self.stream} status={self.status} code={self.error_code} "
            f"prompt={(self.prompt or '')[:40]!r}"
        )
