"""Picture files under DATA_DIR/images, written atomically (temp file + rename).

Also the notes that keep a paid-for answer across a crash: once OpenAI has answered, the
pictures are written and a small note (``answers/<job id>.json``) names them, before the
database records them. A restart that finds a note records the pictures instead of paying
for them again (see ``JobQueue.start``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import time
from pathlib import Path
from typing import Any

__all__ = ["ImageStore"]

log = logging.getLogger(__name__)

_EXTENSIONS = {"image/png": "png", "image/webp": "webp", "image/jpeg": "jpg"}
_ANSWERS = "answers"


class ImageStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def save(self, guild_id: int, data: bytes, mime: str, *, kind: str = "img") -> str:
        """Write ``data`` and return its path relative to the store's root."""
        folder = self.root / str(guild_id)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{kind}-{secrets.token_hex(8)}.{_EXTENSIONS.get(mime, 'bin')}"
        self._write(folder / name, data)
        return f"{guild_id}/{name}"

    @staticmethod
    def _write(target: Path, data: bytes) -> None:
        temp = target.with_name(f".{target.name}.tmp")
        try:
            with open(temp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            # rename is atomic: a crash leaves either no file or the whole file, never half.
            os.replace(temp, target)
        except BaseException:
            # A full or read-only disk: the half-written temp file must not stay behind.
            with contextlib.suppress(OSError):
                temp.unlink(missing_ok=True)
            raise

    def read(self, relative: str) -> bytes:
        return self.path(relative).read_bytes()

    def path(self, relative: str) -> Path:
        resolved = (self.root / relative).resolve()
        if not resolved.is_relative_to(self.root.resolve()):
            raise ValueError("path escapes the image store")
        return resolved

    def delete(self, relatives: list[str]) -> None:
        for relative in relatives:
            try:
                self.path(relative).unlink(missing_ok=True)
            except (OSError, ValueError):
                continue

    def clean_temporary(self, older_than: float = 0.0) -> int:
        """At start: remove temp files a crash (or a full disk) left; return how many.
        With ``older_than`` (seconds), only those: another process sharing the folder may
        be writing a younger one right now."""
        removed = 0
        cutoff = time.time() - older_than
        for temp in self.root.rglob(".*.tmp"):
            try:
                if older_than and temp.stat().st_mtime > cutoff:
                    continue
                temp.unlink()
                removed += 1
            except OSError:
                log.warning("Could not remove the stale temp file %s", temp.name)
        return removed

    # --- answers kept across a crash ----------------------------------------------------

    def keep_answer(self, job_id: int, note: dict[str, Any]) -> None:
        """Note which files hold job ``job_id``'s paid-for pictures, before recording them."""
        folder = self.root / _ANSWERS
        folder.mkdir(parents=True, exist_ok=True)
        self._write(folder / f"{job_id}.json", json.dumps(note).encode())

    def kept_answers(self) -> dict[int, dict[str, Any]]:
        """Every note left by a process that stopped between an answer and its record."""
        notes: dict[int, dict[str, Any]] = {}
        folder = self.root / _ANSWERS
        if not folder.is_dir():
            return notes
        for path in folder.glob("*.json"):
            try:
                notes[int(path.stem)] = json.loads(path.read_text("utf-8"))
            except (OSError, ValueError):
                log.warning("Unreadable answer note %s", path.name)
        return notes

    def forget_answer(self, job_id: int) -> None:
        """The answer is recorded (or dropped): its note has done its job."""
        with contextlib.suppress(OSError):
            (self.root / _ANSWERS / f"{job_id}.json").unlink(missing_ok=True)
