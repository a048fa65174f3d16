"""The data-access layer: the only package that holds SQL."""

from __future__ import annotations

from pathlib import Path

from bot.storage.characters import CharacterRepository
from bot.storage.database import STORAGE_ERRORS, Database
from bot.storage.gallery import GalleryRepository
from bot.storage.guilds import GuildRepository
from bot.storage.images import ImageRepository, NewImage
from bot.storage.jobs import JobRepository, Limits, NewJob
from bot.storage.meta import MetaRepository
from bot.storage.operations import OperationsRepository
from bot.storage.quotas import QuotaRepository
from bot.storage.scenes import SceneRepository

__all__ = [
    "STORAGE_ERRORS",
    "Database",
    "Limits",
    "NewImage",
    "NewJob",
    "Storage",
]


class Storage:
    """The database and one repository per kind of record."""

    def __init__(self, path: Path) -> None:
        self.db = Database(path)
        self.characters = CharacterRepository(self.db)
        self.jobs = JobRepository(self.db)
        self.images = ImageRepository(self.db)
        self.guilds = GuildRepository(self.db)
        self.meta = MetaRepository(self.db)
        self.quotas = QuotaRepository(self.db)
        self.gallery = GalleryRepository(self.db)
        self.operations = OperationsRepository(self.db)
        self.scenes = SceneRepository(self.db)

    async def open(self) -> None:
        await self.db.open()

    async def close(self) -> None:
        await self.db.close()
