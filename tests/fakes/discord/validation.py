"""Discord's payload limits. Every function returns a list of FieldError (empty = valid);
paths mirror the JSON so the fake can answer with a real ``Invalid Form Body`` tree."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from .errors import FieldError
from .records import FLAG_EPHEMERAL, FLAG_IS_COMPONENTS_V2, walk_components

Path = tuple[str | int, ...]

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_FILES = 10
MAX_EMBED_TOTAL = 6000
MAX_REQUEST_BYTES = 25 * 1024 * 1024
DEFAULT_FILESIZE_LIMIT = 10 * 1024 * 1024
MAX_AUTOCOMPLETE_CHOICES = 25

#: Discord's locales (API Reference, Locales).
LOCALES = frozenset(
    [
        "id",
        "da",
        "de",
        "en-GB",
        "en-US",
        "es-ES",
        "es-419",
        "fr",
        "hr",
        "it",
        "lt",
        "hu",
        "nl",
        "no",
        "pl",
        "pt-BR",
        "ro",
        "fi",
        "sv-SE",
        "vi",
        "tr",
        "cs",
        "el",
        "bg",
        "ru",
        "uk",
        "hi",
        "th",
        "zh-CN",
        "ja",
        "zh-TW",
        "ko",
    ]
)

#: Message flags a bot may set when creating a message.
SETTABLE_FLAGS = (1 << 2) | FLAG_EPHEMERAL | (1 << 12) | (1 << 13) | FLAG_IS_COMPONENTS_V2

SELECT_TYPES = (3, 5, 6, 7, 8)
V2_TOP_LEVEL = (1, 9, 10, 12, 13, 14, 17)


def _required(path: Path) -> FieldError:
    """What Discord says of a field that must be there and is not."""
    return FieldError(path, "BASE_TYPE_REQUIRED", "This field is required")


def _not_object(path: Path) -> FieldError:
    """What Discord says of a field that must be a JSON object and is something else."""
    return FieldError(path, "MODEL_TYPE_CONVERT", "Must be an object.")


def _length(
    path: Path, value: Any, lo: int, hi: int, *, required: bool = False
) -> list[FieldError]:
    if value is None:
        if required:
            return [_required(path)]
        return []
    if not isinstance(value, str):
        return [FieldError(path, "BASE_TYPE_STRING", "Must be a string.")]
    if len(value) < lo or len(value) > hi:
        if lo == 0:
            return [FieldError(path, "BASE_TYPE_MAX_LENGTH", f"Must be {hi} or fewer in length.")]
        if lo == hi:
            return [FieldError(path, "BASE_TYPE_BAD_LENGTH", f"Must be {lo} in length.")]
        return [
            FieldError(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {lo} and {hi} in length.")
        ]
    return []


def _count(path: Path, items: Any, hi: int, lo: int = 0) -> list[FieldError]:
    if items is None:
        return []
    if not isinstance(items, list):
        return [FieldError(path, "BASE_TYPE_ARRAY", "Must be an array.")]
    if len(items) > hi:
        return [FieldError(path, "BASE_TYPE_MAX_LENGTH", f"Must be {hi} or fewer in length.")]
    if len(items) < lo:
        return [FieldError(path, "BASE_TYPE_MIN_LENGTH", f"Must be {lo} or more in length.")]
    return []


def _int_range(path: Path, value: Any, lo: int, hi: int) -> list[FieldError]:
    if value is None:
        return []
    if isinstance(value, bool) or not isinstance(value, int):
        return [FieldError(path, "NUMBER_TYPE_COERCE", f"Value {value!r} is not int.")]
    if value < lo:
        return [
            FieldError(
                path, "NUMBER_TYPE_MIN", f"int value should be greater than or equal to {lo}."
            )
        ]
    if value > hi:
        return [
            FieldError(path, "NUMBER_TYPE_MAX", f"int value should be less than or equal to {hi}.")
        ]
    return []


def _min_max(
    path: Path,
    obj: dict[str, Any],
    keys: tuple[str, str],
    hi: int,
    code: str,
    *,
    default: int | None = None,
) -> list[FieldError]:
    """A component's lower and upper bound (select values, text input length): the lower in
    0..hi, the upper in 1..hi, and the lower not above the upper (``code`` if it is)."""
    low_key, high_key = keys
    low, high = obj.get(low_key, default), obj.get(high_key, default)
    errors = _int_range((*path, low_key), low, 0, hi)
    errors += _int_range((*path, high_key), high, 1, hi)
    if isinstance(low, int) and isinstance(high, int) and low > high:
        errors.append(
            FieldError(
                (*path, low_key), code, f"{low_key} must be less than or equal to {high_key}"
            )
        )
    return errors


# --------------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------------


def embed_text_length(embed: dict[str, Any]) -> int:
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    for fld in embed.get("fields") or []:
        if isinstance(fld, dict):
            total += len(str(fld.get("name") or "")) + len(str(fld.get("value") or ""))
    footer = embed.get("footer")
    if isinstance(footer, dict):
        total += len(footer.get("text") or "")
    author = embed.get("author")
    if isinstance(author, dict):
        total += len(author.get("name") or "")
    return total


def _url(path: Path, value: Any, *, allow_attachment: bool = True) -> list[FieldError]:
    if value is None:
        return []
    schemes = ("http://", "https://") + (("attachment://",) if allow_attachment else ())
    if not isinstance(value, str) or not value.startswith(schemes) or len(value) > 2048:
        return [FieldError(path, "URL_TYPE_INVALID_URL", "Not a well formed URL.")]
    return []


def validate_embed(path: Path, embed: Any) -> list[FieldError]:
    if not isinstance(embed, dict):
        return [
            FieldError(path, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
        ]
    errors: list[FieldError] = []
    errors += _length((*path, "title"), embed.get("title"), 0, 256)
    errors += _length((*path, "description"), embed.get("description"), 0, 4096)
    errors += _url((*path, "url"), embed.get("url"), allow_attachment=False)
    color = embed.get("color")
    if color is not None:
        errors += _int_range((*path, "color"), color, 0, 0xFFFFFF)
    timestamp = embed.get("timestamp")
    if timestamp is not None:
        try:
            dt.datetime.fromisoformat(str(timestamp))
        except ValueError:
            errors.append(
                FieldError((*path, "timestamp"), "DATE_TYPE_PARSE", "Could not parse date.")
            )
    fields = embed.get("fields")
    errors += _count((*path, "fields"), fields, 25)
    for j, fld in enumerate(fields or []):
        fpath = (*path, "fields", j)
        if not isinstance(fld, dict):
            errors.append(_not_object(fpath))
            continue
        errors += _length((*fpath, "name"), fld.get("name") or None, 1, 256, required=True)
        errors += _length((*fpath, "value"), fld.get("value") or None, 1, 1024, required=True)
    footer = embed.get("footer")
    if isinstance(footer, dict):
        errors += _length((*path, "footer", "text"), footer.get("text"), 0, 2048, required=True)
        errors += _url((*path, "footer", "icon_url"), footer.get("icon_url"))
    author = embed.get("author")
    if isinstance(author, dict):
        errors += _length((*path, "author", "name"), author.get("name"), 0, 256, required=True)
        errors += _url((*path, "author", "url"), author.get("url"), allow_attachment=False)
        errors += _url((*path, "author", "icon_url"), author.get("icon_url"))
    for key in ("image", "thumbnail"):
        media = embed.get(key)
        if isinstance(media, dict):
            errors += _url((*path, key, "url"), media.get("url"))
    return errors


def validate_embeds(embeds: Any) -> list[FieldError]:
    if embeds is None:
        return []
    errors = _count(("embeds",), embeds, MAX_EMBEDS)
    if errors:
        return errors
    total = 0
    for i, embed in enumerate(embeds):
        errors += validate_embed(("embeds", i), embed)
        if isinstance(embed, dict):
            total += embed_text_length(embed)
    if total > MAX_EMBED_TOTAL:
        errors.append(
            FieldError(
                ("embeds",),
                "MAX_EMBED_SIZE_EXCEEDED",
                f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL} (was {total})",
            )
        )
    return errors


def _validate_button(path: Path, button: dict[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    style = button.get("style")
    errors += _int_range((*path, "style"), style, 1, 6)
    if style is None:
        errors.append(_required((*path, "style")))
    errors += _length((*path, "label"), button.get("label"), 0, 80)
    if style == 5:
        if not button.get("url"):
            errors.append(_required((*path, "url")))
        errors += _url((*path, "url"), button.get("url"), allow_attachment=False)
        if "custom_id" in button and button["custom_id"] is not None:
            errors.append(
                FieldError(
                    (*path, "custom_id"),
                    "COMPONENT_CUSTOM_ID_NOT_ALLOWED",
                    "Link buttons cannot have a custom_id",
                )
            )
    elif style == 6:
        if not button.get("sku_id"):
            errors.append(_required((*path, "sku_id")))
    else:
        errors += _length((*path, "custom_id"), button.get("custom_id"), 1, 100, required=True)
        if not button.get("label") and not button.get("emoji"):
            errors.append(
                FieldError(
                    (*path, "label"),
                    "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED",
                    "A label or emoji is required",
                )
            )
    return errors


def _validate_select(path: Path, select: dict[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    errors += _length((*path, "custom_id"), select.get("custom_id"), 1, 100, required=True)
    errors += _length((*path, "placeholder"), select.get("placeholder"), 0, 150)
    errors += _min_max(
        path,
        select,
        ("min_values", "max_values"),
        25,
        "SELECT_COMPONENT_MIN_VALUES_TOO_LARGE",
        default=1,
    )
    if select.get("type") == 3:
        options = select.get("options")
        if not options:
            errors.append(_required((*path, "options")))
            return errors
        errors += _count((*path, "options"), options, 25, 1)
        seen: set[str] = set()
        for k, opt in enumerate(options if isinstance(options, list) else []):
            opath = (*path, "options", k)
            if not isinstance(opt, dict):
                errors.append(_not_object(opath))
                continue
            errors += _length((*opath, "label"), opt.get("label"), 1, 100, required=True)
            errors += _length((*opath, "value"), opt.get("value"), 1, 100, required=True)
            errors += _length((*opath, "description"), opt.get("description"), 0, 100)
            value = opt.get("value")
            if isinstance(value, str):
                if value in seen:
                    errors.append(
                        FieldError(
                            (*opath, "value"),
                            "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED",
                            "Select option values must be unique",
                        )
                    )
                seen.add(value)
        max_values = select.get("max_values", 1)
        if isinstance(max_values, int) and isinstance(options, list) and max_values > len(options):
            errors.append(
                FieldError(
                    (*path, "max_values"),
                    "SELECT_COMPONENT_MAX_VALUES_TOO_LARGE",
                    "max_values must be less than or equal to the number of options",
                )
            )
    return errors


def _validate_interactive(path: Path, comp: dict[str, Any]) -> list[FieldError]:
    if comp.get("type") == 2:
        return _validate_button(path, comp)
    if comp.get("type") in SELECT_TYPES:
        return _validate_select(path, comp)
    return []


def _validate_action_row(path: Path, row: Any) -> list[FieldError]:
    if not isinstance(row, dict) or row.get("type") != 1:
        return [
            FieldError((*path, "type"), "COMPONENT_TYPE_INVALID", "Expected an action row (type 1)")
        ]
    children = row.get("components")
    if not isinstance(children, list) or not children:
        return [
            FieldError(
                (*path, "components"), "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length."
            )
        ]
    errors: list[FieldError] = []
    kinds = [c.get("type") if isinstance(c, dict) else None for c in children]
    # A select fills its row alone; otherwise a row holds up to five buttons.
    holds_select = any(k in SELECT_TYPES for k in kinds)
    if len(children) > (1 if holds_select else 5):
        errors.append(
            FieldError(
                (*path, "components"),
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )
        )
    for j, child in enumerate(children):
        cpath = (*path, "components", j)
        if not isinstance(child, dict) or child.get("type") not in (2, *SELECT_TYPES):
            errors.append(
                FieldError(
                    (*cpath, "type"),
                    "COMPONENT_TYPE_INVALID",
                    "Action rows can hold buttons or one select",
                )
            )
            continue
        errors += _validate_interactive(cpath, child)
    return errors


def _validate_v2_component(path: Path, comp: Any) -> list[FieldError]:
    if not isinstance(comp, dict):
        return [_not_object(path)]
    ctype = comp.get("type")
    errors: list[FieldError] = []
    if ctype == 1:
        return _validate_action_row(path, comp)
    if ctype == 9:  # section
        texts = comp.get("components")
        errors += _count((*path, "components"), texts, 3, 1)
        for j, text in enumerate(texts or []):
            if not isinstance(text, dict) or text.get("type") != 10:
                errors.append(
                    FieldError(
                        (*path, "components", j, "type"),
                        "COMPONENT_TYPE_INVALID",
                        "Sections hold text displays",
                    )
                )
        accessory = comp.get("accessory")
        if not isinstance(accessory, dict) or accessory.get("type") not in (2, 11):
            errors.append(
                FieldError(
                    (*path, "accessory"),
                    "BASE_TYPE_REQUIRED",
                    "A section needs a button or thumbnail accessory",
                )
            )
        elif accessory.get("type") == 2:
            errors += _validate_button((*path, "accessory"), accessory)
    elif ctype == 10:
        errors += _length((*path, "content"), comp.get("content"), 1, 4000, required=True)
    elif ctype == 12:
        errors += _count((*path, "items"), comp.get("items"), 10, 1)
    elif ctype == 13:
        file = comp.get("file")
        if not isinstance(file, dict) or not str(file.get("url", "")).startswith("attachment://"):
            errors.append(
                FieldError(
                    (*path, "file", "url"),
                    "URL_TYPE_INVALID_URL",
                    "File components must reference attachment://",
                )
            )
    elif ctype == 14:
        pass
    elif ctype == 17:
        for j, child in enumerate(comp.get("components") or []):
            if isinstance(child, dict) and child.get("type") == 17:
                errors.append(
                    FieldError(
                        (*path, "components", j, "type"),
                        "COMPONENT_TYPE_INVALID",
                        "Containers cannot be nested",
                    )
                )
            else:
                errors += _validate_v2_component((*path, "components", j), child)
    else:
        errors.append(
            FieldError(
                (*path, "type"),
                "COMPONENT_TYPE_INVALID",
                f"Component type {ctype!r} is not valid here",
            )
        )
    return errors


def _duplicate_custom_ids(path: Path, components: list[Any]) -> list[FieldError]:
    """A custom_id used twice anywhere in one message's or modal's components (at any depth)."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for comp in walk_components(components):
        custom_id = comp.get("custom_id")
        if isinstance(custom_id, str):
            if custom_id in seen:
                errors.append(
                    FieldError(
                        path,
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        f"Component custom id cannot be duplicated: {custom_id!r}",
                    )
                )
            seen.add(custom_id)
    return errors


def validate_components(components: Any, flags: int) -> list[FieldError]:
    if components is None:
        return []
    if not isinstance(components, list):
        return [FieldError(("components",), "BASE_TYPE_ARRAY", "Must be an array.")]
    errors: list[FieldError] = []
    if flags & FLAG_IS_COMPONENTS_V2:
        flat = walk_components(components)
        if len(flat) > 40:
            errors.append(
                FieldError(
                    ("components",),
                    "COMPONENT_MAX_TOTAL_COMPONENTS_EXCEEDED",
                    f"Must be 40 or fewer components in total (was {len(flat)})",
                )
            )
        text = sum(len(c.get("content") or "") for c in flat if c.get("type") == 10)
        if text > 4000:
            errors.append(
                FieldError(
                    ("components",),
                    "COMPONENT_MAX_TEXT_LENGTH_EXCEEDED",
                    f"Text displays total must be 4000 or fewer (was {text})",
                )
            )
        for i, comp in enumerate(components):
            errors += _validate_v2_component(("components", i), comp)
    else:
        errors += _count(("components",), components, 5)
        for i, row in enumerate(components):
            if isinstance(row, dict) and row.get("type") in V2_TOP_LEVEL and row.get("type") != 1:
                errors.append(
                    FieldError(
                        ("components", i, "type"),
                        "COMPONENT_TYPE_INVALID",
                        "This component type requires the IS_COMPONENTS_V2 flag",
                    )
                )
                continue
            errors += _validate_action_row(("components", i), row)
    errors += _duplicate_custom_ids(("components",), components)
    return errors


def validate_allowed_mentions(value: Any) -> list[FieldError]:
    if value is None:
        return []
    if not isinstance(value, dict):
        return [_not_object(("allowed_mentions",))]
    errors: list[FieldError] = []
    parse = value.get("parse") or []
    for k, item in enumerate(parse):
        if item not in ("users", "roles", "everyone"):
            errors.append(
                FieldError(
                    ("allowed_mentions", "parse", k),
                    "BASE_TYPE_CHOICES",
                    "Value must be one of ('roles', 'users', 'everyone').",
                )
            )
    for key in ("users", "roles"):
        ids = value.get(key) or []
        errors += _count(("allowed_mentions", key), ids, 100)
        if ids and key in parse:
            errors.append(
                FieldError(
                    ("allowed_mentions", key),
                    "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                    f'parse:["{key}"] and {key}: [ids] are mutually exclusive.',
                )
            )
    return errors


def validate_message(
    payload: dict[str, Any], *, n_files: int, resulting_flags: int
) -> list[FieldError]:
    """Field limits for create/edit message bodies (channel messages, webhooks, callbacks)."""
    errors: list[FieldError] = []
    content = payload.get("content")
    if content is not None:
        errors += _length(("content",), content, 0, MAX_CONTENT)
    errors += validate_embeds(payload.get("embeds"))
    errors += validate_components(payload.get("components"), resulting_flags)
    errors += validate_allowed_mentions(payload.get("allowed_mentions"))
    attachments = payload.get("attachments")
    errors += _count(("attachments",), attachments, MAX_FILES)
    if n_files > MAX_FILES:
        errors.append(
            FieldError(
                ("files",), "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_FILES} or fewer in length."
            )
        )
    nonce = payload.get("nonce")
    if isinstance(nonce, str):
        errors += _length(("nonce",), nonce, 0, 25)
    errors += _count(("sticker_ids",), payload.get("sticker_ids"), 3)
    flags = payload.get("flags")
    if flags is not None and (isinstance(flags, bool) or not isinstance(flags, int)):
        errors.append(FieldError(("flags",), "NUMBER_TYPE_COERCE", f"Value {flags!r} is not int."))
    if resulting_flags & FLAG_IS_COMPONENTS_V2:
        if payload.get("content"):
            errors.append(
                FieldError(
                    ("content",),
                    "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                    "The 'content' field cannot be used when using MessageFlags.IS_COMPONENTS_V2",
                )
            )
        if payload.get("embeds"):
            errors.append(
                FieldError(
                    ("embeds",),
                    "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                    "The 'embeds' field cannot be used when using MessageFlags.IS_COMPONENTS_V2",
                )
            )
    return errors


# --------------------------------------------------------------------------------------------
# Interaction callbacks: modals and autocomplete
# --------------------------------------------------------------------------------------------


def _validate_text_input(path: Path, comp: dict[str, Any], *, in_label: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    errors += _length((*path, "custom_id"), comp.get("custom_id"), 1, 100, required=True)
    style = comp.get("style", 1)
    if style not in (1, 2):
        errors.append(
            FieldError((*path, "style"), "BASE_TYPE_CHOICES", "Value must be one of (1, 2).")
        )
    if not in_label:
        errors += _length((*path, "label"), comp.get("label"), 1, 45, required=True)
    else:
        errors += _length((*path, "label"), comp.get("label"), 0, 45)
    errors += _min_max(
        path, comp, ("min_length", "max_length"), 4000, "TEXT_INPUT_MIN_LENGTH_TOO_LARGE"
    )
    errors += _length((*path, "value"), comp.get("value"), 0, 4000)
    errors += _length((*path, "placeholder"), comp.get("placeholder"), 0, 100)
    return errors


def validate_modal(data: Any) -> list[FieldError]:
    if not isinstance(data, dict):
        return [_required(("data",))]
    errors: list[FieldError] = []
    errors += _length(("data", "custom_id"), data.get("custom_id"), 1, 100, required=True)
    errors += _length(("data", "title"), data.get("title"), 1, 45, required=True)
    components = data.get("components")
    if not isinstance(components, list) or not components:
        errors.append(
            FieldError(
                ("data", "components"), "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length."
            )
        )
        return errors
    errors += _count(("data", "components"), components, 5)
    for i, comp in enumerate(components):
        path: Path = ("data", "components", i)
        if not isinstance(comp, dict):
            errors.append(_not_object(path))
            continue
        ctype = comp.get("type")
        if ctype == 1:
            children = comp.get("components") or []
            if (
                len(children) != 1
                or not isinstance(children[0], dict)
                or children[0].get("type") != 4
            ):
                errors.append(
                    FieldError(
                        (*path, "components"),
                        "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                        "A modal action row holds exactly one text input",
                    )
                )
                continue
            errors += _validate_text_input((*path, "components", 0), children[0], in_label=False)
        elif ctype == 18:
            errors += _length((*path, "label"), comp.get("label"), 1, 45, required=True)
            errors += _length((*path, "description"), comp.get("description"), 0, 100)
            inner = comp.get("component")
            ipath = (*path, "component")
            if not isinstance(inner, dict):
                errors.append(_required(ipath))
            elif inner.get("type") == 4:
                errors += _validate_text_input(ipath, inner, in_label=True)
            elif inner.get("type") in SELECT_TYPES:
                errors += _validate_select(ipath, inner)
            elif inner.get("type") in (19, 21, 22, 23):
                errors += _length(
                    (*ipath, "custom_id"), inner.get("custom_id"), 1, 100, required=True
                )
            else:
                errors.append(
                    FieldError(
                        (*ipath, "type"),
                        "COMPONENT_TYPE_INVALID",
                        "Labels hold a text input, select, or file upload",
                    )
                )
        elif ctype == 10:
            errors += _length((*path, "content"), comp.get("content"), 1, 4000, required=True)
        else:
            errors.append(
                FieldError(
                    (*path, "type"),
                    "COMPONENT_TYPE_INVALID",
                    f"Component type {ctype!r} is not allowed in modals",
                )
            )
    errors += _duplicate_custom_ids(("data", "components"), components)
    return errors


def validate_autocomplete(data: Any, option_type: int | None) -> list[FieldError]:
    if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
        return [_required(("data", "choices"))]
    choices = data["choices"]
    errors = _count(("data", "choices"), choices, MAX_AUTOCOMPLETE_CHOICES)
    for i, choice in enumerate(choices):
        path: Path = ("data", "choices", i)
        if not isinstance(choice, dict):
            errors.append(_not_object(path))
            continue
        errors += _length((*path, "name"), choice.get("name"), 1, 100, required=True)
        for loc, text in (choice.get("name_localizations") or {}).items():
            errors += _length((*path, "name_localizations", loc), text, 1, 100)
        errors += _choice_value((*path, "value"), choice.get("value"), option_type)
    return errors


def _choice_value(path: Path, value: Any, option_type: int | None) -> list[FieldError]:
    if value is None:
        return [_required(path)]
    if option_type == 3 or (option_type is None and isinstance(value, str)):
        return _length(path, value, 0, 100)
    if option_type == 4:
        if isinstance(value, bool) or not isinstance(value, int):
            return [FieldError(path, "NUMBER_TYPE_COERCE", f"Value {value!r} is not int.")]
        return _int_range(path, value, -(2**53), 2**53)
    if option_type == 10 and (isinstance(value, bool) or not isinstance(value, int | float)):
        return [FieldError(path, "NUMBER_TYPE_COERCE", f"Value {value!r} is not a valid number.")]
    return []


# --------------------------------------------------------------------------------------------
# Application command schemas (bulk overwrite / create)
# --------------------------------------------------------------------------------------------


def _name_char_ok(ch: str) -> bool:
    if ch in "-_'":
        return True
    if unicodedata.category(ch)[0] in "LN":
        return True
    return "\u0900" <= ch <= "\u097f" or "\u0e00" <= ch <= "\u0e7f"  # Devanagari, Thai


def check_chat_input_name(path: Path, name: Any) -> list[FieldError]:
    errors = _length(path, name, 1, 32, required=True)
    if errors:
        return errors
    assert isinstance(name, str)
    if not all(_name_char_ok(ch) for ch in name):
        return [
            FieldError(
                path, "STRING_TYPE_REGEX", f"String value did not match validation regex: {name!r}"
            )
        ]
    if name != name.lower():
        return [
            FieldError(
                path,
                "APPLICATION_COMMAND_INVALID_NAME",
                f"Command name is invalid (must be lowercase): {name!r}",
            )
        ]
    return []


def _name_and_description(path: Path, obj: dict[str, Any]) -> list[FieldError]:
    """A chat-input command's or option's name and description, and their localisations."""
    errors = check_chat_input_name((*path, "name"), obj.get("name"))
    errors += _length((*path, "description"), obj.get("description"), 1, 100, required=True)
    errors += _localizations(
        (*path, "name_localizations"),
        obj.get("name_localizations"),
        lambda p, v: check_chat_input_name(p, v),
    )
    errors += _localizations(
        (*path, "description_localizations"),
        obj.get("description_localizations"),
        lambda p, v: _length(p, v, 1, 100, required=True),
    )
    return errors


def _localizations(path: Path, value: Any, check: Any) -> list[FieldError]:
    if value is None:
        return []
    if not isinstance(value, dict):
        return [_not_object(path)]
    errors: list[FieldError] = []
    for loc, text in value.items():
        if loc not in LOCALES:
            errors.append(FieldError((*path, loc), "LOCALE", f"Invalid locale {loc!r}"))
        else:
            errors += check((*path, loc), text)
    return errors


def _longest(default: Any, localizations: Any) -> int:
    lengths = [len(str(default or ""))]
    if isinstance(localizations, dict):
        lengths += [len(str(v)) for v in localizations.values()]
    return max(lengths)


def command_text_size(obj: dict[str, Any]) -> int:
    """Characters counted against the 8000 limit (names, descriptions, choices; longest locale)."""
    total = _longest(obj.get("name"), obj.get("name_localizations"))
    total += _longest(obj.get("description"), obj.get("description_localizations"))
    for choice in obj.get("choices") or []:
        if isinstance(choice, dict):
            total += _longest(choice.get("name"), choice.get("name_localizations"))
            total += len(str(choice.get("value", "")))
    for opt in obj.get("options") or []:
        if isinstance(opt, dict):
            total += command_text_size(opt)
    return total


def _validate_option(path: Path, opt: Any, depth: int) -> list[FieldError]:
    if not isinstance(opt, dict):
        return [_not_object(path)]
    errors: list[FieldError] = []
    otype = opt.get("type")
    if otype not in range(1, 12):
        errors.append(
            FieldError(
                (*path, "type"), "BASE_TYPE_CHOICES", f"Value must be one of 1..11 (was {otype!r})."
            )
        )
        return errors
    errors += _name_and_description(path, opt)
    if otype in (1, 2):
        if otype == 2 and depth > 0:
            errors.append(
                FieldError(
                    (*path, "type"),
                    "APPLICATION_COMMAND_OPTION_TYPE_INVALID",
                    "Subcommand groups can only be nested in a top-level command",
                )
            )
        if otype == 1 and depth > 1:
            errors.append(
                FieldError(
                    (*path, "type"),
                    "APPLICATION_COMMAND_OPTION_TYPE_INVALID",
                    "Subcommands nest at most command > group > subcommand",
                )
            )
        children = opt.get("options") or []
        if otype == 2:
            for j, child in enumerate(children):
                if not isinstance(child, dict) or child.get("type") != 1:
                    errors.append(
                        FieldError(
                            (*path, "options", j, "type"),
                            "APPLICATION_COMMAND_OPTION_TYPE_INVALID",
                            "Subcommand groups can only contain subcommands",
                        )
                    )
        errors += _validate_options((*path, "options"), children, depth + 1, subcommand=otype == 1)
        return errors
    choices = opt.get("choices")
    if choices is not None:
        if otype not in (3, 4, 10):
            errors.append(
                FieldError(
                    (*path, "choices"),
                    "APPLICATION_COMMAND_OPTION_CHOICES_INVALID",
                    "Choices are only valid for string, integer and number options",
                )
            )
        errors += _count((*path, "choices"), choices, 25)
        if opt.get("autocomplete") and choices:
            errors.append(
                FieldError(
                    (*path, "autocomplete"),
                    "AUTOCOMPLETE_AND_CHOICES",
                    "Autocomplete cannot be set with choices",
                )
            )
        for k, choice in enumerate(choices if isinstance(choices, list) else []):
            cpath = (*path, "choices", k)
            if not isinstance(choice, dict):
                errors.append(_not_object(cpath))
                continue
            errors += _length((*cpath, "name"), choice.get("name"), 1, 100, required=True)
            errors += _localizations(
                (*cpath, "name_localizations"),
                choice.get("name_localizations"),
                lambda p, v: _length(p, v, 1, 100, required=True),
            )
            errors += _choice_value((*cpath, "value"), choice.get("value"), otype)
    if opt.get("autocomplete") and otype not in (3, 4, 10):
        errors.append(
            FieldError(
                (*path, "autocomplete"),
                "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_INVALID",
                "Autocomplete is only valid for string, integer and number options",
            )
        )
    for key in ("min_value", "max_value"):
        if key in opt and opt[key] is not None:
            if otype not in (4, 10):
                errors.append(
                    FieldError(
                        (*path, key),
                        "APPLICATION_COMMAND_OPTION_INVALID",
                        f"{key} is only valid for integer and number options",
                    )
                )
            elif isinstance(opt[key], bool) or not isinstance(opt[key], int | float):
                errors.append(FieldError((*path, key), "NUMBER_TYPE_COERCE", "Must be a number."))
            elif abs(opt[key]) > 2**53:
                errors.append(FieldError((*path, key), "NUMBER_TYPE_MAX", "Must be within ±2^53."))
    lo, hi = opt.get("min_value"), opt.get("max_value")
    if isinstance(lo, int | float) and isinstance(hi, int | float) and lo > hi:
        errors.append(
            FieldError(
                (*path, "min_value"),
                "APPLICATION_COMMAND_OPTION_INVALID",
                "min_value must be less than or equal to max_value",
            )
        )
    for key, (kmin, kmax) in (("min_length", (0, 6000)), ("max_length", (1, 6000))):
        if key in opt and opt[key] is not None:
            if otype != 3:
                errors.append(
                    FieldError(
                        (*path, key),
                        "APPLICATION_COMMAND_OPTION_INVALID",
                        f"{key} is only valid for string options",
                    )
                )
            else:
                errors += _int_range((*path, key), opt[key], kmin, kmax)
    if opt.get("channel_types") is not None and otype != 7:
        errors.append(
            FieldError(
                (*path, "channel_types"),
                "APPLICATION_COMMAND_OPTION_INVALID",
                "channel_types is only valid for channel options",
            )
        )
    return errors


def _validate_options(
    path: Path, options: Any, depth: int, *, subcommand: bool
) -> list[FieldError]:
    if options is None:
        return []
    errors = _count(path, options, 25)
    if errors or not isinstance(options, list):
        return errors
    kinds = {opt.get("type") in (1, 2) for opt in options if isinstance(opt, dict)}
    if len(kinds) > 1:
        errors.append(
            FieldError(
                path,
                "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                "Subcommands and groups cannot be mixed with other options",
            )
        )
    if subcommand and True in kinds:
        errors.append(
            FieldError(
                path,
                "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                "Subcommands cannot contain subcommands or groups",
            )
        )
    names: set[str] = set()
    seen_optional = False
    for j, opt in enumerate(options):
        errors += _validate_option((*path, j), opt, depth)
        if not isinstance(opt, dict):
            continue
        name = opt.get("name")
        if name in names:
            errors.append(
                FieldError(
                    (*path, j, "name"),
                    "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                    f"Option name {name!r} is already used",
                )
            )
        names.add(str(name))
        if opt.get("type") not in (1, 2):
            if opt.get("required"):
                if seen_optional:
                    errors.append(
                        FieldError(
                            (*path, j, "required"),
                            "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                            "Required options must be placed before non-required options",
                        )
                    )
            else:
                seen_optional = True
    return errors


COMMAND_LIMITS = {1: 100, 2: 15, 3: 15, 4: 1}


def validate_command(path: Path, cmd: Any) -> list[FieldError]:
    if not isinstance(cmd, dict):
        return [_not_object(path)]
    errors: list[FieldError] = []
    ctype = cmd.get("type", 1)
    if ctype not in COMMAND_LIMITS:
        return [FieldError((*path, "type"), "BASE_TYPE_CHOICES", f"Invalid command type {ctype!r}")]
    if ctype == 1:
        errors += _name_and_description(path, cmd)
        errors += _validate_options((*path, "options"), cmd.get("options"), 0, subcommand=False)
        size = command_text_size(cmd)
        if size > 8000:
            errors.append(
                FieldError(
                    path,
                    "APPLICATION_COMMAND_TOO_LARGE",
                    f"Command exceeds maximum size (8000), was {size}",
                )
            )
    else:
        errors += _length((*path, "name"), cmd.get("name"), 1, 32, required=True)
        if cmd.get("description"):
            errors.append(
                FieldError(
                    (*path, "description"),
                    "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION",
                    "Context menu commands cannot have a description",
                )
            )
        if cmd.get("options"):
            errors.append(
                FieldError(
                    (*path, "options"),
                    "APPLICATION_COMMAND_CONTEXT_MENU_OPTIONS",
                    "Context menu commands cannot have options",
                )
            )
    perms = cmd.get("default_member_permissions")
    if perms is not None:
        try:
            int(perms)
        except (TypeError, ValueError):
            errors.append(
                FieldError(
                    (*path, "default_member_permissions"),
                    "NUMBER_TYPE_COERCE",
                    f"Value {perms!r} is not a valid permission bitfield.",
                )
            )
    for key, allowed in (("contexts", {0, 1, 2}), ("integration_types", {0, 1})):
        value = cmd.get(key)
        if value is not None and (not isinstance(value, list) or not set(value) <= allowed):
            errors.append(
                FieldError(
                    (*path, key), "BASE_TYPE_CHOICES", f"Values must be in {sorted(allowed)}"
                )
            )
    return errors


def validate_command_list(commands: Any) -> list[FieldError]:
    if not isinstance(commands, list):
        return [FieldError((), "BASE_TYPE_ARRAY", "Must be an array.")]
    errors: list[FieldError] = []
    seen: set[tuple[int, str]] = set()
    per_type: dict[int, int] = {}
    for i, cmd in enumerate(commands):
        errors += validate_command((i,), cmd)
        if not isinstance(cmd, dict):
            continue
        key = (cmd.get("type", 1), str(cmd.get("name")))
        if key in seen:
            errors.append(
                FieldError(
                    (i, "name"),
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    f"Application command names must be unique: {key[1]!r}",
                )
            )
        seen.add(key)
        per_type[key[0]] = per_type.get(key[0], 0) + 1
    for ctype, count in per_type.items():
        limit = COMMAND_LIMITS.get(ctype, 0)
        if count > limit:
            errors.append(
                FieldError(
                    (),
                    "BASE_TYPE_MAX_LENGTH",
                    f"Must be {limit} or fewer commands of type {ctype} (was {count}).",
                )
            )
    return errors
