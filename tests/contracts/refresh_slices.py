"""Cut the slices of the official OpenAPI specs that the contract checks need.

Run from the project root with the folder that holds the full specifications
(``discord-openapi.json`` and ``openai-openapi.json``, both MIT, licences beside them)::

    .venv/bin/python -m tests.contracts.refresh_slices ../shared/specs

Each slice keeps the operations the bot (or a fake) uses, every component those operations
reference (transitively), and the snapshot's ``info``. ``SOURCES`` below records where the
snapshots came from; update it with the specs.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from tests.fakes.discord.routes import ROUTES

HERE = Path(__file__).resolve().parent / "specs"
SOURCES = {
    "discord": "discord/discord-api-spec specs/openapi.json, commit 74fda0f (2026-07-18)",
    "openai": "openai/openai-openapi openapi.json, commit f85dbe2 (2026-08-21)",
}
OPENAI_PATHS = ("/images/generations", "/images/edits", "/moderations")
# Schemas no operation of the slice references but the fakes' answers must follow: the
# error bodies both APIs send (operations document only their successes).
EXTRA_SCHEMAS = {"discord": ("ErrorResponse",), "openai": ("ErrorResponse",)}
_SAMPLE = {"interaction_token": "tok", "webhook_token": "tok", "emoji_name": "name"}


def _sample_path(template: str) -> str:
    """A concrete path for a spec template: ids become digits, tokens a word."""
    return re.sub(r"\{(\w+)\}", lambda m: _SAMPLE.get(m.group(1), "123"), template)


def discord_paths(spec: dict[str, Any]) -> list[str]:
    """Spec paths that one of the fake Discord's routes serves."""
    routes = [re.compile(pattern) for _m, pattern, _h, _a in ROUTES]
    return [p for p in spec["paths"] if any(r.fullmatch(_sample_path(p)) for r in routes)]


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            found.add(ref)
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def _resolve(spec: dict[str, Any], ref: str) -> Any:
    node: Any = spec
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def cut(
    spec: dict[str, Any], paths: list[str], source: str, extra: tuple[str, ...] = ()
) -> dict[str, Any]:
    sliced: dict[str, Any] = {
        "openapi": spec["openapi"],
        "info": {**spec["info"], "x-slice-of": source},
        "paths": {p: spec["paths"][p] for p in paths},
        "components": {},
    }
    pending = _refs(sliced["paths"]) | {f"#/components/schemas/{name}" for name in extra}
    done: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in done:
            continue
        done.add(ref)
        parts = ref[2:].split("/")
        target = _resolve(spec, ref)
        bucket = sliced["components"].setdefault(parts[1], {})
        bucket[parts[2]] = spec["components"][parts[1]][parts[2]]
        pending |= _refs(target) - done
    return sliced


def main(folder: str) -> None:
    source = Path(folder)
    discord = json.loads((source / "discord-openapi.json").read_text("utf-8"))
    openai = json.loads((source / "openai-openapi.json").read_text("utf-8"))
    slices = {
        "discord": cut(
            discord, discord_paths(discord), SOURCES["discord"], EXTRA_SCHEMAS["discord"]
        ),
        "openai": cut(openai, list(OPENAI_PATHS), SOURCES["openai"], EXTRA_SCHEMAS["openai"]),
    }
    for name, data in slices.items():
        out = HERE / f"{name}-slice.json"
        out.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", "utf-8")
        print(f"{out}: {len(data['paths'])} paths, {out.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/specs")
