"""Picture files under DATA_DIR/images, written atomically (temp file + rename)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["ImageStore"]

_EXTENSIONS = {"image/png": "png", "image/webp": "webp", "image/jpeg": "jpg"}


class ImageStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def save(self, guild_id: int, data: bytes, mime: str, *, kind: str = "img") -> str:
        """Write ``data`` and return its path relative to the store's root."""
        folder = self.root / str(guild_id)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{kind}-{secrets.token_hex(8)}.{_EXTENSIONS.get(mime, 'bin')}"
        target = folder / name
        temp = folder / f".{name}.tmp"
        with open(temp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # rename is atomic: a crash leaves either no file or the whole file, never half.
        os.replace(temp, target)
        return f"{guild_id}/{name}"

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
