"""Request validation for /images/generations and /images/edits, like the live API.

Validation turns the raw parameters into an :class:`ImageJob` (everything resolved: real
width/height, quality and background as reported back) or raises an
:class:`~tests.fakes.openai.errors.ApiError` with the live API's status, ``param`` and
``code``. The rules come from /work/shared/openai-images-api.md §1 and §3.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, UnidentifiedImageError

from . import errors
from .errors import ApiError
from .records import Upload

# ---------------------------------------------------------------------------------------------
# Models


@dataclass(frozen=True)
class ModelSpec:
    name: str
    arbitrary_sizes: bool
    qualities: tuple[str, ...]
    # Allowed input_fidelity values; None means "omit the parameter" (it is rejected).
    input_fidelity: tuple[str, ...] | None
    markup: bool = False


_BASE_QUALITIES = ("low", "medium", "high", "auto")
_EXTRA_QUALITIES = ("low", "medium", "high", "xhigh", "max", "auto")


_GPT_IMAGE_25_NAMES = (
    "gpt-image-2.5-sunburst",
    "gpt-image-2.5-sunburst-2026-09-08",
    "gpt-image-2.5-flare",
    "gpt-image-2.5-flare-2026-09-08",
    # Assumption: the client's docstrings do not describe 2.6 yet; treated like 2.5.
    "gpt-image-2.6-sunburst",
    "gpt-image-2.6-flare",
)
_MODEL_SPECS = (
    ModelSpec("gpt-image-1-mini", False, _BASE_QUALITIES, input_fidelity=("low",)),
    ModelSpec("gpt-image-1.5", False, _BASE_QUALITIES, input_fidelity=("high", "low")),
    ModelSpec("gpt-image-2", True, _BASE_QUALITIES, input_fidelity=None),
    ModelSpec("gpt-image-2-2026-04-21", True, _BASE_QUALITIES, input_fidelity=None),
    *(
        ModelSpec(name, True, _EXTRA_QUALITIES, input_fidelity=("high", "low"), markup=True)
        for name in _GPT_IMAGE_25_NAMES
    ),
    # "Follows the same input constraints as GPT image models": standard sizes only.
    ModelSpec("chatgpt-image-latest", False, _BASE_QUALITIES, input_fidelity=("high", "low")),
)
MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in _MODEL_SPECS}

RETIRED_MODELS: frozenset[str] = frozenset({"dall-e-2", "dall-e-3", "gpt-image-1"})

# ---------------------------------------------------------------------------------------------
# Limits

STANDARD_SIZES = ("1024x1024", "1024x1536", "1536x1024")
MAX_PROMPT_CHARS = 32_000
MAX_N = 10
MAX_INPUT_IMAGES = 16
MAX_IMAGE_BYTES = 50 * 1024 * 1024
MAX_MASK_BYTES = 4 * 1024 * 1024
MAX_EDGE = 3840
MAX_PIXELS = 3840 * 2160
# Not in the client docs ("the model's current pixel and edge limits"); third-party
# measurements put the floor at about 655,360 pixels (e.g. 1024x640).
MIN_PIXELS = 655_360
MAX_ASPECT = 3.0
MAX_PARTIAL_IMAGES = 3
MAX_SAFETY_IDENTIFIER_CHARS = 64
ACCEPTED_MIMETYPES = ("image/png", "image/webp", "image/jpeg")
_PIL_FORMATS = {"PNG", "WEBP", "JPEG", "MPO"}

_COMMON_PARAMS = frozenset(
    [
        "prompt",
        "model",
        "n",
        "size",
        "quality",
        "background",
        "output_format",
        "output_compression",
        "partial_images",
        "stream",
        "response_format",
        "safety_identifier",
        "user",
        "complexity",
        "frame_count",
        "frame_duration_ms",
        "svg",
    ]
)
KNOWN_PARAMS: dict[str, frozenset[str]] = {
    "generations": _COMMON_PARAMS | {"moderation", "style"},
    "edits": _COMMON_PARAMS | {"input_fidelity", "image", "image[]", "mask", "markup"},
}
# Known to the client but unsupported for GPT image models; the live API answers
# "Unknown parameter: 'response_format'." (unknown_parameter).
LEGACY_PARAMS = ("response_format", "style")

_SIZE_RE = re.compile(r"^(\d+)x(\d+)$")
_INT_RE = re.compile(r"^-?\d+$")


@dataclass
class ImageJob:
    """A validated image request, with every value resolved as the response reports it."""

    endpoint: str
    model: str
    prompt: str
    n: int
    width: int
    height: int
    quality: str  # resolved: never "auto"
    background: str  # resolved: "transparent" or "opaque"
    output_format: str
    output_compression: int | None
    stream: bool
    partial_images: int
    input_fidelity: str | None
    complexity: str | None
    safety_identifier: str | None
    images: list[Upload] = field(default_factory=list)
    input_sizes: list[tuple[int, int]] = field(default_factory=list)
    mask: Upload | None = None
    markup: Upload | None = None

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"


# ---------------------------------------------------------------------------------------------
# Typed readers. JSON bodies carry typed values; multipart fields are strings. A JSON null
# counts as "not given".


def _present(fields: Mapping[str, Any], name: str) -> bool:
    return fields.get(name) is not None


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "an unknown type"


def read_str(fields: Mapping[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if isinstance(value, list):
        raise errors.invalid_type(name, "a string", "an array")
    if not isinstance(value, str):
        raise errors.invalid_type(name, "a string", _type_name(value))
    return value


def read_int(fields: Mapping[str, Any], name: str, *, multipart: bool) -> int | None:
    value = fields.get(name)
    if value is None:
        return None
    if multipart and isinstance(value, str):
        if not _INT_RE.match(value.strip()):
            raise errors.invalid_type(name, "an integer", "a string")
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise errors.invalid_type(name, "an integer", _type_name(value))
    return value


def read_bool(fields: Mapping[str, Any], name: str, *, multipart: bool) -> bool | None:
    value = fields.get(name)
    if value is None:
        return None
    if multipart and isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise errors.invalid_type(name, "a boolean", "a string")
    if not isinstance(value, bool):
        raise errors.invalid_type(name, "a boolean", _type_name(value))
    return value


def _enum(fields: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> str | None:
    value = read_str(fields, name)
    if value is not None and value not in allowed:
        raise errors.invalid_value(name, value, allowed)
    return value


# ---------------------------------------------------------------------------------------------
# Validation


def validate_image_request(
    endpoint: str, fields: Mapping[str, Any], files: list[Upload], *, multipart: bool
) -> ImageJob:
    """Validate one generations/edits request; raise ApiError like the live API would."""
    _check_unknown_params(endpoint, fields, files)

    prompt = read_str(fields, "prompt")
    if prompt is None:
        raise errors.missing_required("prompt")
    if prompt == "":
        raise errors.string_empty("prompt")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise errors.string_too_long("prompt", MAX_PROMPT_CHARS, len(prompt))

    spec = _check_model(read_str(fields, "model"))

    for legacy in LEGACY_PARAMS:
        if _present(fields, legacy):
            raise errors.unknown_parameter(legacy)

    n = read_int(fields, "n", multipart=multipart)
    n = 1 if n is None else n
    if not 1 <= n <= MAX_N:
        raise errors.integer_out_of_range("n", n, 1, MAX_N)

    width, height = _check_size(spec, read_str(fields, "size"))

    quality = _enum(fields, "quality", spec.qualities) or "auto"
    output_format = _check_output_format(fields)
    compression = _check_compression(fields, output_format, multipart=multipart)
    background = _enum(fields, "background", ("transparent", "opaque", "auto")) or "auto"
    if background == "transparent" and output_format not in ("png", "webp"):
        raise errors.invalid_value_message(
            "background",
            f"Transparent background is not supported for output format '{output_format}'. "
            "Use 'png' or 'webp'.",
        )
    if endpoint == "generations":
        _enum(fields, "moderation", ("low", "auto"))
    complexity = _enum(fields, "complexity", ("low", "medium", "high"))

    stream = bool(read_bool(fields, "stream", multipart=multipart))
    partial_images = read_int(fields, "partial_images", multipart=multipart)
    if partial_images is not None:
        if not 0 <= partial_images <= MAX_PARTIAL_IMAGES:
            raise errors.integer_out_of_range(
                "partial_images", partial_images, 0, MAX_PARTIAL_IMAGES
            )
        if partial_images > 0 and not stream:
            raise errors.invalid_value_message(
                "partial_images", "partial_images is only supported when stream is true."
            )

    for gif_only in ("frame_count", "frame_duration_ms"):
        if _present(fields, gif_only):
            raise errors.invalid_value_message(
                gif_only, f"'{gif_only}' is only supported with output_format=gif."
            )
    if any(key == "svg" or key.startswith("svg[") for key in fields):
        raise errors.invalid_value_message("svg", "'svg' is only supported with output_format=svg.")

    safety_identifier = read_str(fields, "safety_identifier")
    if safety_identifier is not None and len(safety_identifier) > MAX_SAFETY_IDENTIFIER_CHARS:
        raise errors.string_too_long(
            "safety_identifier", MAX_SAFETY_IDENTIFIER_CHARS, len(safety_identifier)
        )
    user = read_str(fields, "user")

    job = ImageJob(
        endpoint=endpoint,
        model=spec.name,
        prompt=prompt,
        n=n,
        width=width,
        height=height,
        quality=resolve_quality(quality),
        background="transparent" if background == "transparent" else "opaque",
        output_format=output_format,
        output_compression=compression,
        stream=stream,
        partial_images=partial_images or 0,
        input_fidelity=None,
        complexity=complexity,
        safety_identifier=safety_identifier or user or None,
    )
    if endpoint == "edits":
        _check_edit_inputs(spec, fields, files, job)
    return job


def resolve_quality(quality: str) -> str:
    """What the response reports for a requested quality (it never says "auto")."""
    return "medium" if quality == "auto" else quality


def _check_unknown_params(endpoint: str, fields: Mapping[str, Any], files: list[Upload]) -> None:
    known = KNOWN_PARAMS[endpoint]
    for name in [*fields, *(u.field_name for u in files)]:
        if name in known or name.startswith("svg["):
            continue
        raise errors.unknown_parameter(name)


def _check_model(model: str | None) -> ModelSpec:
    if model is None:
        # The live default is the server's choice; the bot must always send one.
        raise errors.missing_required("model")
    spec = MODELS.get(model)
    if spec is None:  # retired (dall-e-2/3, gpt-image-1) or unknown
        raise errors.model_not_found(model)
    return spec


def parse_size(size: str) -> tuple[int, int] | None:
    match = _SIZE_RE.match(size)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2))


def _check_size(spec: ModelSpec, size: str | None) -> tuple[int, int]:
    if size is None or size == "auto":
        return 1024, 1024
    supported = (*STANDARD_SIZES, "auto")
    if size in STANDARD_SIZES:
        parsed = parse_size(size)
        assert parsed is not None
        return parsed
    parsed = parse_size(size)
    if not spec.arbitrary_sizes or parsed is None:
        raise errors.invalid_value("size", size, supported)
    width, height = parsed

    def bad(reason: str) -> ApiError:
        return errors.invalid_value_message("size", f"Invalid size '{size}'. {reason}")

    if width == 0 or height == 0 or width % 16 or height % 16:
        raise bad("Width and height must both be divisible by 16.")
    if max(width, height) / min(width, height) > MAX_ASPECT:
        raise bad("The aspect ratio must be between 1:3 and 3:1.")
    if max(width, height) > MAX_EDGE or width * height > MAX_PIXELS:
        raise bad("The maximum supported resolution is 3840x2160.")
    if width * height < MIN_PIXELS:
        raise bad(f"The requested size must have at least {MIN_PIXELS} pixels.")
    return width, height


def _check_output_format(fields: Mapping[str, Any]) -> str:
    value = read_str(fields, "output_format")
    if value is None:
        return "png"
    if value in ("gif", "svg"):
        raise errors.invalid_value_message(
            "output_format",
            f"Output format '{value}' requires preview or project access, "
            "which this project does not have.",
        )
    if value not in ("png", "webp", "jpeg"):
        raise errors.invalid_value("output_format", value, ("png", "webp", "jpeg"))
    return value


def _check_compression(
    fields: Mapping[str, Any], output_format: str, *, multipart: bool
) -> int | None:
    compression = read_int(fields, "output_compression", multipart=multipart)
    if compression is None:
        return None
    if not 0 <= compression <= 100:
        raise errors.integer_out_of_range("output_compression", compression, 0, 100)
    if output_format == "png" and compression < 100:
        raise errors.invalid_value_message(
            "output_compression",
            "Compression less than 100 is not supported for PNG output format.",
        )
    return compression


# ---------------------------------------------------------------------------------------------
# Edits: uploaded files and input_fidelity


def _check_edit_inputs(
    spec: ModelSpec, fields: Mapping[str, Any], files: list[Upload], job: ImageJob
) -> None:
    for name in ("image", "image[]", "mask", "markup"):
        if _present(fields, name):
            raise errors.invalid_type(name, "a file", "a string")

    images = [u for u in files if u.field_name in ("image", "image[]")]
    if not images:
        raise errors.missing_required("image")
    if len(images) > MAX_INPUT_IMAGES:
        raise errors.array_too_long("image", MAX_INPUT_IMAGES, len(images))
    as_list = any(u.field_name == "image[]" for u in images)
    for index, upload in enumerate(images):
        param = f"image[{index}]" if as_list else "image"
        job.input_sizes.append(_check_image_file(upload, param, MAX_IMAGE_BYTES))
    job.images = images

    masks = [u for u in files if u.field_name == "mask"]
    markups = [u for u in files if u.field_name == "markup"]
    if len(masks) > 1 or len(markups) > 1:
        raise errors.invalid_value_message("mask", "Only one mask and one markup are allowed.")
    if masks and markups:
        raise errors.invalid_value_message("markup", "markup cannot be combined with mask.")
    if markups and not spec.markup:
        raise errors.unsupported_parameter("markup")
    for uploads, param in ((masks, "mask"), (markups, "markup")):
        if uploads:
            _check_overlay(uploads[0], param, job.input_sizes[0])
    job.mask = masks[0] if masks else None
    job.markup = markups[0] if markups else None

    fidelity = read_str(fields, "input_fidelity")
    if fidelity is not None:
        if spec.input_fidelity is None:
            raise errors.unsupported_parameter("input_fidelity")
        if fidelity not in spec.input_fidelity:
            raise errors.invalid_value("input_fidelity", fidelity, spec.input_fidelity)
    elif spec.input_fidelity is not None:
        fidelity = "low"
    job.input_fidelity = fidelity


def _check_image_file(upload: Upload, param: str, max_bytes: int) -> tuple[int, int]:
    content_type = (upload.content_type or "").split(";")[0].strip().lower()
    if not content_type:
        raise errors.missing_mimetype(param)
    if content_type not in ACCEPTED_MIMETYPES:
        raise errors.unsupported_mimetype(param, content_type)
    if len(upload.data) >= max_bytes:
        raise errors.invalid_value_message(
            param,
            f"Invalid file '{param}': file too large ({len(upload.data)} bytes). "
            f"The maximum size is {max_bytes} bytes.",
        )
    image = _open_image(upload.data)
    if image is None or image.format not in _PIL_FORMATS:
        raise ApiError(
            400,
            f"Invalid image file or mode for image '{param}', please check your image file.",
            param=param,
            code="invalid_image_file",
        )
    return image.size


def _check_overlay(upload: Upload, param: str, first_size: tuple[int, int]) -> None:
    """mask / markup: a PNG with an alpha channel and the first image's dimensions."""
    content_type = (upload.content_type or "").split(";")[0].strip().lower()
    image = _open_image(upload.data)
    if content_type != "image/png" or image is None or image.format != "PNG":
        raise errors.invalid_value_message(
            param, f"Invalid {param} image format - {param} image must be a PNG file."
        )
    if param == "mask" and len(upload.data) >= MAX_MASK_BYTES:
        raise errors.invalid_value_message(
            param, f"Invalid mask image: the mask must be under {MAX_MASK_BYTES} bytes."
        )
    if not _has_alpha(image):
        raise errors.invalid_value_message(
            param, f"Invalid {param} image format - {param} image missing alpha channel"
        )
    if image.size != first_size:
        raise errors.invalid_value_message(
            param,
            f"Invalid {param} image: {param} size {image.size[0]}x{image.size[1]} does not "
            f"match the first image's size {first_size[0]}x{first_size[1]}.",
        )


def _open_image(data: bytes) -> Image.Image | None:
    try:
        return Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
