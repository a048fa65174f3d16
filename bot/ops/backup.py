"""``python -m bot backup DEST`` and ``python -m bot restore SRC``.

A backup is the database (copied with SQLite's online backup API, consistent while the bot
runs and writes) and the pictures, either as a folder (``DEST`` without an archive suffix)
that a second backup updates in place, copying only changed files, so ``rsync`` moves little
from one night to the next; or as one archive (``DEST`` ending in ``.tar.gz`` or ``.tgz``).

The database is copied first, then the pictures: a picture made in between is in the copy
without a row (an orphan the retention sweep removes), and every picture the copied database
names is there unless it was deleted meanwhile.

A restore goes into an empty ``DATA_DIR`` only, so it can never mix two bots' data.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import tempfile
import time
from pathlib import Path

from bot.storage.backup import check_database, snapshot_database

__all__ = ["BackupError", "backup", "is_archive", "restore"]

DATABASE = "bot.sqlite3"
IMAGES = "images"
MANIFEST = "backup.json"
_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")


class BackupError(Exception):
    """A backup or restore that cannot be done, said in one plain line."""


def is_archive(path: Path) -> bool:
    return path.name.endswith(_ARCHIVE_SUFFIXES)


def backup(data_dir: Path, dest: Path) -> int:
    """Back ``data_dir`` up to ``dest``; return how many picture files the backup holds."""
    database = data_dir / DATABASE
    if not database.is_file():
        raise BackupError(f"no database at {database}: is DATA_DIR right?")
    if is_archive(dest):
        dest.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
            files = _backup_folder(data_dir, Path(tmp) / "backup")
            partial = dest.with_name(f".{dest.name}.tmp")
            with tarfile.open(partial, "w:gz") as archive:
                for entry in sorted((Path(tmp) / "backup").iterdir()):
                    archive.add(entry, arcname=entry.name)
            os.replace(partial, dest)
        return files
    return _backup_folder(data_dir, dest)


def _backup_folder(data_dir: Path, dest: Path) -> int:
    dest.mkdir(parents=True, exist_ok=True)
    partial = dest / f".{DATABASE}.tmp"
    snapshot_database(data_dir / DATABASE, partial)
    os.replace(partial, dest / DATABASE)
    files = _mirror(data_dir / IMAGES, dest / IMAGES)
    manifest = {"made_at": time.time(), "pictures_files": files, "database": DATABASE}
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2), "utf-8")
    return files


def _mirror(source: Path, target: Path) -> int:
    """Make ``target`` a copy of ``source``: changed files copied, vanished ones removed."""
    target.mkdir(parents=True, exist_ok=True)
    kept: set[Path] = set()
    for path in sorted(source.rglob("*")) if source.is_dir() else []:
        relative = path.relative_to(source)
        if path.name.startswith(".") or not path.is_file():
            continue  # half-written temp files are never part of a backup
        copy = target / relative
        kept.add(copy)
        try:
            stat = path.stat()
            if copy.is_file():
                old = copy.stat()
                if old.st_size == stat.st_size and int(old.st_mtime) == int(stat.st_mtime):
                    continue
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
        except FileNotFoundError:
            kept.discard(copy)  # deleted while the backup ran
    for path in sorted(target.rglob("*"), reverse=True):
        if path.is_file() and path not in kept:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return len(kept)


def restore(source: Path, data_dir: Path) -> int:
    """Put the backup at ``source`` into the empty ``data_dir``; return its picture files."""
    if data_dir.exists() and any(data_dir.iterdir()):
        raise BackupError(
            f"DATA_DIR {data_dir} is not empty: restore only into an empty folder "
            "(stop the bot, move the old DATA_DIR away, then restore)."
        )
    if not source.exists():
        raise BackupError(f"no backup at {source}")
    data_dir.mkdir(parents=True, exist_ok=True)
    if is_archive(source):
        with tempfile.TemporaryDirectory(dir=data_dir.parent) as tmp:
            with tarfile.open(source, "r:gz") as archive:
                # "data": no absolute paths, no links out, no device files (PEP 706).
                archive.extractall(tmp, filter="data")
            return _restore_folder(Path(tmp), data_dir)
    return _restore_folder(source, data_dir)


def _restore_folder(source: Path, data_dir: Path) -> int:
    database = source / DATABASE
    if not database.is_file():
        raise BackupError(f"{source} holds no {DATABASE}: is it a backup?")
    trouble = check_database(database)
    if trouble:
        raise BackupError(f"the backup's database is damaged ({trouble})")
    shutil.copy2(database, data_dir / DATABASE)
    return _mirror(source / IMAGES, data_dir / IMAGES)
