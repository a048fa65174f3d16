"""Requests held to the official API contracts (OpenAPI 3.1 slices in ``specs/``).

Both fakes call :meth:`Contract.check_request` for every request the bot sends them, before
they answer it, and keep what it finds in ``contract_violations``; the end-to-end fixtures
fail the test that caused one. The fakes' own tests use :meth:`Contract.check_response` on
what the fakes answer.

What is checked: the method and path against the spec's path templates (a literal segment
beats a parameter, so ``@original`` is not a message id), path parameters and query
parameters against their schemas (unknown query parameters too), and the body with
JSON Schema against the operation's request schema: the JSON body, Discord's multipart
``payload_json``, or OpenAI's multipart form fields (strings turned into the numbers and
booleans the schema declares, as the server does, and file parts counted as present).

Known lag between the spec snapshots and the live services is allowed explicitly, one
commented :class:`Allowance` per fact in ``ALLOWANCES`` (see ``../shared/specs/README.md``
in the workspace that supplied the snapshots); nothing else is skipped.

Every check runs on two validators of the same schema (:class:`SchemaCheck`): ``jsonschema-rs``
(compiled, Rust) says whether the instance is valid, in microseconds; only when it is not does
``jsonschema`` (pure Python) list what is wrong, with the messages and JSON paths the
allowances match. A message with buttons took the Python validator 5 to 85 ms to pass (its
``oneOf`` over every component kind), which the fake Discord spent on every post: time the
benchmarks counted as the bot's and the whole suite paid.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import jsonschema_rs
from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = [
    "ALLOWANCES",
    "Allowance",
    "Contract",
    "SchemaCheck",
    "Violation",
    "contract",
    "json_pointer",
]

Api = Literal["discord", "openai"]
SPECS = Path(__file__).resolve().parent / "specs"


@dataclass(frozen=True, slots=True)
class Violation:
    api: str
    method: str
    path: str
    template: str | None
    where: str  # a JSON path into the body ($...), "path", "query" or "route"
    message: str

    def __str__(self) -> str:
        route = self.template or "(no such route)"
        message = self.message if len(self.message) <= 300 else self.message[:297] + "..."
        return f"{self.api} {self.method} {self.path} [{route}] at {self.where}: {message}"


@dataclass(frozen=True, slots=True)
class Allowance:
    """One known difference between a spec snapshot and the live service."""

    api: str
    method: str
    template: str  # the spec's path template, or "*"
    where: str  # a regular expression matched against Violation.where
    message: str  # a regular expression searched in Violation.message
    reason: str
    # Changes a request body (in place) into what the spec wants, undoing exactly this
    # difference and nothing more: a body the fast check passes once mended has no fault
    # but allowed ones. Narrower than ``where`` and ``message`` is safe (such a body is
    # checked in full); wider would hide a violation.
    mend: Callable[[Any], None] | None = None

    def covers(self, violation: Violation) -> bool:
        return (
            self.api == violation.api
            and self.method in ("*", violation.method)
            and self.template in ("*", violation.template)
            and re.fullmatch(self.where, violation.where) is not None
            and re.search(self.message, violation.message) is not None
        )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _snowflakes_as_strings(body: Any) -> None:
    if not isinstance(body, dict):
        return
    for attachment in _list(body.get("attachments")):
        if isinstance(attachment, dict):
            attachment.update(_int_as_string(attachment, "id"))
    body.update(_int_as_string(body, "recipient_id"))


def _int_as_string(holder: dict[str, Any], key: str) -> dict[str, Any]:
    value = holder.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return {key: str(value)}
    return {}


def _drop_keys(body: Any, keys: set[str], *, embeds: bool = False) -> None:
    if not isinstance(body, dict):
        return
    for key in keys:
        body.pop(key, None)
    for embed in _list(body.get("embeds")) if embeds else []:
        if isinstance(embed, dict):
            for key in keys:
                embed.pop(key, None)


def _drop_command_nsfw(body: Any) -> None:
    for command in _list(body):
        _drop_keys(command, {"nsfw"})


ALLOWANCES: tuple[Allowance, ...] = (
    # discord.py sends some snowflakes as integers where the spec's SnowflakeType is a string
    # (attachment ids: spec README, "Known lag"; a DM's recipient_id likewise). Discord
    # accepts both forms.
    Allowance(
        "discord",
        "*",
        "*",
        r"\$\.attachments\[\d+\]\.id|\$\.recipient_id",
        r"is not of type 'string'|is not valid under any of the given schemas",
        "discord.py sends these snowflakes as integers",
        mend=_snowflakes_as_strings,
    ),
    # discord.py adds tts and embeds[].flags to message edits; Discord ignores them.
    Allowance(
        "discord",
        "PATCH",
        "*",
        r"\$(\.embeds\[\d+\])?",
        r"'(tts|flags)' was unexpected|Additional properties are not allowed \('(tts|flags)'",
        "discord.py adds tts and embeds[].flags to edits (ignored by Discord)",
        mend=functools.partial(_drop_keys, keys={"tts", "flags"}, embeds=True),
    ),
    # `nsfw` on application commands is in the response schema only (spec README).
    Allowance(
        "discord",
        "PUT",
        "*",
        r"\$\[\d+\]",
        r"'nsfw' was unexpected|Additional properties are not allowed \('nsfw'",
        "nsfw on application commands is missing from the request schema",
        mend=_drop_command_nsfw,
    ),
    # The current openai client sends safety_identifier (images) and complexity (edits),
    # which the snapshot lacks (spec README); the fake checks their values itself.
    Allowance(
        "openai",
        "POST",
        "*",
        r"\$",
        r"'(safety_identifier|complexity)' was unexpected"
        r"|Additional properties are not allowed \('(safety_identifier|complexity)'",
        "safety_identifier and complexity exist in the current client, not in the snapshot",
        mend=functools.partial(_drop_keys, keys={"safety_identifier", "complexity"}),
    ),
)


def json_pointer(*parts: str) -> str:
    """The JSON Pointer (RFC 6901) of a place in a spec, from its keys."""
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class SchemaCheck:
    """One schema of a spec, checked fast and explained exactly (module docstring)."""

    def __init__(self, spec: dict[str, Any], pointer: str, explain: Draft202012Validator) -> None:
        # The whole spec as the root, so its #/components/... references resolve; the keys
        # an OpenAPI document has besides are not JSON Schema keywords and are ignored.
        fragment = quote(pointer, safe="/~@:")  # "{" and "}" of path templates are not URI
        self._fast = jsonschema_rs.Draft202012Validator({**spec, "$ref": f"#/{fragment}"})
        self._explain = explain

    def iter_errors(
        self, instance: Any, *, passes_if_valid: Any = None
    ) -> Iterator[ValidationError]:
        """What in ``instance`` the schema does not allow; nothing at all if the fast check
        passes it, or passes ``passes_if_valid`` (the instance with allowed faults mended)."""
        if self._fast.is_valid(instance if passes_if_valid is None else passes_if_valid):
            return iter(())
        return self._explain.iter_errors(instance)


class Contract:
    def __init__(self, api: Api, allowances: tuple[Allowance, ...] = ALLOWANCES) -> None:
        self.api = api
        self.spec: dict[str, Any] = json.loads((SPECS / f"{api}-slice.json").read_text("utf-8"))
        self.base = f"urn:{api}-slice"
        self.registry: Registry[Any] = Registry().with_resource(
            self.base, Resource.from_contents(self.spec, default_specification=DRAFT202012)
        )
        self.allowances = tuple(a for a in allowances if a.api == api)
        routes = []
        for template in self.spec["paths"]:
            pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
            routes.append((template.count("{"), template, re.compile(pattern)))
        # Fewest parameters first: a literal segment ("@original") wins over "{message_id}".
        self.routes = sorted(routes)
        # One validator per schema, kept: it remembers the $refs it resolved, and building
        # one per request made a message check cost about 50 ms.
        self._validators: dict[tuple[str, ...], SchemaCheck] = {}

    # --- lookups ---------------------------------------------------------------------------

    def route(self, method: str, path: str) -> tuple[str, dict[str, str], dict[str, Any]] | None:
        for _params, template, pattern in self.routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            operation = self.spec["paths"][template].get(method.lower())
            if operation is not None:
                return template, match.groupdict(), operation
        return None

    def validator(self, *pointer: str) -> SchemaCheck:
        validator = self._validators.get(pointer)
        if validator is None:
            explain = Draft202012Validator(
                {"$ref": f"{self.base}#/{json_pointer(*pointer)}"}, registry=self.registry
            )
            validator = SchemaCheck(self.spec, json_pointer(*pointer), explain)
            self._validators[pointer] = validator
        return validator

    def _deref(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            node = self.registry.resolver(self.base).lookup(node["$ref"]).contents
        return node

    def _locate(self, *pointer: str) -> tuple[tuple[str, ...], Any]:
        """Follow ``$ref``s from a place in the slice: (where it ends, what is there)."""
        node: Any = self.spec
        for part in pointer:
            node = node[int(part)] if isinstance(node, list) else node[part]
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            pointer = tuple(
                p.replace("~1", "/").replace("~0", "~") for p in node["$ref"][2:].split("/")
            )
            node = self.spec
            for part in pointer:
                node = node[part]
        return tuple(pointer), node

    def _parameters(
        self, template: str, method: str
    ) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
        """(where its schema is, the parameter) for every parameter of an operation."""
        found = []
        for owner in (("paths", template), ("paths", template, method)):
            _, container = self._locate(*owner)
            for index in range(len(container.get("parameters", []))):
                found.append(self._locate(*owner, "parameters", str(index)))
        return found

    # --- checks ----------------------------------------------------------------------------

    def check_request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: Any = None,
        form: bool = False,
        files: tuple[str, ...] = (),
    ) -> list[Violation]:
        """What in this request the spec does not allow (allowances applied).

        ``form``: ``body`` holds multipart form fields as strings; ``files`` names the file
        fields that were sent.
        """
        method = method.upper()
        found = self.route(method, path)
        if found is None:
            return [Violation(self.api, method, path, None, "route", "no such operation")]
        template, path_params, operation = found
        problems: list[Violation] = []

        def add(where: str, message: str) -> None:
            problems.append(Violation(self.api, method, path, template, where, message))

        declared = self._parameters(template, method.lower())

        def parameter(kind: str, name: str) -> tuple[str, ...] | None:
            for where, spec in declared:
                if spec.get("in") == kind and spec.get("name") == name and "schema" in spec:
                    return (*where, "schema")
            return None

        for name, value in path_params.items():
            pointer = parameter("path", name)
            if pointer is not None:
                for error in self.validator(*pointer).iter_errors(value):
                    add("path", f"{name}: {error.message}")
        for name, value in (query or {}).items():
            pointer = parameter("query", name)
            if pointer is None:
                add("query", f"unknown query parameter {name!r}")
                continue
            typed = _coerce(value, self._types(self._locate(*pointer)[1]))
            for error in self.validator(*pointer).iter_errors(typed):
                add("query", f"{name}: {error.message}")

        content = operation.get("requestBody", {}).get("content", {})
        if body is None and not files:
            if operation.get("requestBody", {}).get("required") and method != "GET":
                add("$", "a body is required")
        else:
            kind = "multipart/form-data" if form else "application/json"
            if kind not in content and "application/json" in content:
                kind = "application/json"  # Discord: payload_json holds the JSON body
            if kind not in content:
                add("$", f"this operation takes no {kind} body")
            else:
                pointer = ("paths", template, method.lower(), "requestBody", "content", kind)
                if form:
                    body = self._form(dict(body or {}), files, content[kind]["schema"])
                validator = self.validator(*pointer, "schema")
                mended = self._mended(method, template, body)
                for error in validator.iter_errors(body, passes_if_valid=mended):
                    add(error.json_path, error.message)
        return [v for v in problems if not any(a.covers(v) for a in self.allowances)]

    def _mended(self, method: str, template: str, body: Any) -> Any:
        """A copy of ``body`` with every difference an allowance of this route names undone."""
        mends = [
            a.mend
            for a in self.allowances
            if a.mend is not None and a.method in ("*", method) and a.template in ("*", template)
        ]
        if not mends:
            return body
        mended = copy.deepcopy(body)
        for mend in mends:
            mend(mended)
        return mended

    def check_schema(self, name: str, body: Any, *, where: str = "") -> list[Violation]:
        """What in ``body`` the named component schema (``ErrorResponse``...) does not allow."""
        validator = self.validator("components", "schemas", name)
        return [
            Violation(self.api, "-", where, name, e.json_path, e.message)
            for e in validator.iter_errors(body)
        ]

    def check_response(
        self,
        method: str,
        path: str,
        status: int,
        body: Any,
        *,
        content: str = "application/json",
    ) -> list[Violation]:
        """What in a response the spec's schema for that status and content does not allow."""
        method = method.upper()
        found = self.route(method, path)
        if found is None:
            return [Violation(self.api, method, path, None, "route", "no such operation")]
        template, _params, operation = found
        responses = operation.get("responses", {})
        key = str(status) if str(status) in responses else f"{str(status)[0]}XX"
        if key not in responses:
            key = "default"
        if key not in responses:
            return [Violation(self.api, method, path, template, "status", f"undocumented {status}")]
        where, response = self._locate("paths", template, method.lower(), "responses", key)
        if "schema" not in response.get("content", {}).get(content, {}):
            return []
        validator = self.validator(*where, "content", content, "schema")
        problems = [
            Violation(self.api, method, path, template, e.json_path, e.message)
            for e in validator.iter_errors(body)
        ]
        return [v for v in problems if not any(a.covers(v) for a in self.allowances)]

    # --- multipart forms -------------------------------------------------------------------

    def _types(self, schema: Any) -> set[str]:
        schema = self._deref(schema)
        if not isinstance(schema, dict):
            return set()
        types = schema.get("type", [])
        found = {types} if isinstance(types, str) else set(types)
        for key in ("anyOf", "oneOf", "allOf"):
            for option in schema.get(key, []):
                found |= self._types(option)
        return found

    def _properties(self, schema: Any) -> dict[str, Any]:
        schema = self._deref(schema)
        props = dict(schema.get("properties", {}))
        for option in schema.get("allOf", []):
            props.update(self._properties(option))
        return props

    def _form(self, fields: dict[str, Any], files: tuple[str, ...], schema: Any) -> dict[str, Any]:
        """Form fields as the server reads them: typed by the schema, files present."""
        props = self._properties(schema)
        out: dict[str, Any] = {}
        for name, value in fields.items():
            key = name.removesuffix("[]")
            types = self._types(props.get(key, {}))
            if isinstance(value, list):
                out[key] = [_coerce(v, types) for v in value]
            else:
                out[key] = _coerce(value, types)
        for name in files:
            key = name.removesuffix("[]")
            if name.endswith("[]"):
                out.setdefault(key, []).append("<binary>")
            else:
                out[key] = "<binary>"
        return out


def _coerce(value: Any, types: set[str]) -> Any:
    """A form or query string as the type the schema declares, where it parses as one."""
    if not isinstance(value, str) or "string" in types:
        return value
    # Discord's "Boolean Query Strings": True/true/1 and False/false/0 are accepted.
    if "boolean" in types and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    if types & {"integer", "number"}:
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return value
    return value


@cache
def contract(api: Api) -> Contract:
    """One loaded contract per API for the whole test session (the slices are read once)."""
    return Contract(api)
