"""OpenAI-style API errors: ``{"error": {"message", "type", "param", "code"}}``.

Messages follow the live API's wording where it is known (see
/work/shared/openai-images-api.md §6); the rest mimic its style.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

INVALID_REQUEST = "invalid_request_error"


class ApiError(Exception):
    """An error answer the fake sends instead of a result."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = INVALID_REQUEST,
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers: dict[str, str] = dict(headers or {})

    def error_object(self) -> dict[str, Any]:
        return {"message": self.message, "type": self.type, "param": self.param, "code": self.code}

    def body(self) -> dict[str, Any]:
        return {"error": self.error_object()}


def _quoted_list(values: Sequence[str]) -> str:
    quoted = [f"'{v}'" for v in values]
    if len(quoted) <= 1:
        return "".join(quoted)
    if len(quoted) == 2:
        return f"{quoted[0]} and {quoted[1]}"
    return ", ".join(quoted[:-1]) + f", and {quoted[-1]}"


def invalid_value(param: str, value: object, supported: Sequence[str] | None = None) -> ApiError:
    message = f"Invalid value: '{value}'."
    if supported:
        message += f" Supported values are: {_quoted_list(supported)}."
    return _bad_param(param, message, "invalid_value")


def _bad_param(param: str, message: str, code: str) -> ApiError:
    """A 400 about one parameter, as the API words them: its name is in ``param`` too."""
    return ApiError(400, message, param=param, code=code)


def invalid_value_message(param: str, message: str) -> ApiError:
    return _bad_param(param, message, "invalid_value")


def unknown_parameter(param: str) -> ApiError:
    return _bad_param(param, f"Unknown parameter: '{param}'.", "unknown_parameter")


def unsupported_parameter(param: str) -> ApiError:
    return _bad_param(
        param,
        f"Unsupported parameter: '{param}' is not supported with this model.",
        "unsupported_parameter",
    )


def missing_required(param: str) -> ApiError:
    return _bad_param(
        param, f"Missing required parameter: '{param}'.", "missing_required_parameter"
    )


def invalid_type(param: str, expected: str, got: str) -> ApiError:
    return _bad_param(
        param,
        f"Invalid type for '{param}': expected {expected}, but got {got} instead.",
        "invalid_type",
    )


def integer_out_of_range(param: str, value: int, low: int, high: int) -> ApiError:
    if value < low:
        return _bad_param(
            param,
            f"Invalid '{param}': integer below minimum value. "
            f"Expected a value >= {low}, but got {value} instead.",
            "integer_below_min_value",
        )
    return _bad_param(
        param,
        f"Invalid '{param}': integer above maximum value. "
        f"Expected a value <= {high}, but got {value} instead.",
        "integer_above_max_value",
    )


def _too_long(param: str, kind: str, article: str, limit: int, length: int) -> ApiError:
    """``kind`` (with its ``article``) longer than ``limit``: the API's wording."""
    return _bad_param(
        param,
        f"Invalid '{param}': {kind} too long. Expected {article} {kind} with maximum length "
        f"{limit}, but got {article} {kind} with length {length} instead.",
        f"{kind}_above_max_length",
    )


def string_too_long(param: str, limit: int, length: int) -> ApiError:
    return _too_long(param, "string", "a", limit, length)


def string_empty(param: str) -> ApiError:
    return _bad_param(
        param,
        f"Invalid '{param}': string too short. Expected a string with minimum length 1, "
        "but got an empty string instead.",
        "string_below_min_length",
    )


def array_too_long(param: str, limit: int, length: int) -> ApiError:
    return _too_long(param, "array", "an", limit, length)


def model_not_found(model: str) -> ApiError:
    return ApiError(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        code="model_not_found",
    )


def _bad_file(param: str, problem: str, code: str) -> ApiError:
    """An upload the API refuses for its type: ``problem`` with the formats it takes."""
    return _bad_param(
        param,
        f"Invalid file '{param}': {problem}. "
        "Supported file formats are 'image/jpeg', 'image/png', and 'image/webp'.",
        code,
    )


def unsupported_mimetype(param: str, content_type: str) -> ApiError:
    return _bad_file(param, f"unsupported mimetype ('{content_type}')", "unsupported_file_mimetype")


def missing_mimetype(param: str) -> ApiError:
    return _bad_file(param, "missing mimetype", "missing_file_mimetype")


def missing_api_key() -> ApiError:
    return ApiError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization "
        "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password "
        "field (with blank username) if you're accessing the API from your browser and are "
        "prompted for a username and password. You can obtain an API key from "
        "https://platform.openai.com/account/api-keys.",
    )


def incorrect_api_key(key: str) -> ApiError:
    shown = f"{key[:3]}{'*' * max(len(key) - 7, 0)}{key[-4:]}" if len(key) > 7 else "***"
    return ApiError(
        401,
        f"Incorrect API key provided: {shown}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        code="invalid_api_key",
    )


def invalid_json_body() -> ApiError:
    return ApiError(
        400,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
        "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
        "sent was not valid JSON. If you have trouble figuring out how to fix this, please "
        "contact us through our help center at help.openai.com.)",
    )


def server_error(message: str | None = None) -> ApiError:
    return ApiError(
        500,
        message
        or "The server had an error while processing your request. Sorry about that! You can "
        "retry your request, or contact us through our help center at help.openai.com if you "
        "keep seeing this error.",
        type="server_error",
    )


def rate_limit_exceeded(
    model: str, limit: int, used: int, requested: int, retry_after: float | None
) -> ApiError:
    wait = f" Please try again in {retry_after:.3g}s." if retry_after is not None else ""
    return ApiError(
        429,
        f"Rate limit reached for {model} in organization org-fake on images per minute (IPM): "
        f"Limit {limit}, Used {used}, Requested {requested}.{wait} Visit "
        "https://platform.openai.com/account/rate-limits to learn more.",
        type="requests",
        code="rate_limit_exceeded",
    )


def insufficient_quota() -> ApiError:
    return ApiError(
        429,
        "You exceeded your current quota, please check your plan and billing details. For more "
        "information on this error, read the docs: "
        "https://platform.openai.com/docs/guides/error-codes/api-errors.",
        type="insufficient_quota",
        code="insufficient_quota",
    )


def moderation_blocked(request_id: str, categories: Sequence[str]) -> ApiError:
    return ApiError(
        400,
        "Your request was rejected by the safety system. If you believe this is an error, "
        f"contact us at help.openai.com and include the request ID {request_id}. "
        f"safety_violations=[{', '.join(categories)}].",
        type="image_generation_user_error",
        code="moderation_blocked",
    )


def invalid_url(method: str, path: str) -> ApiError:
    return ApiError(404, f"Invalid URL ({method} {path})")
