"""The data-access layer: the only package that holds SQL.

Two databases, one interface. SQLite under DATA_DIR is the default; ``DATABASE_URL`` set to
``postgresql://…`` puts everything in PostgreSQL (through asyncpg) for bots that outgrow one
process.

Why a thin dialect layer of our own and not SQLAlchemy 2 Core. The repositories hold about
160 hand-written statements, nearly all already portable SQL: plain SELECT/INSERT/UPDATE/
DELETE, ``ON CONFLICT … DO UPDATE`` upserts (both dialects speak them), a recursive CTE,
keyset pagination with row-value-free comparisons. What differs is small and mechanical:
``?`` against ``$n`` placeholders, ``lastrowid`` against ``RETURNING id``, ``INSERT OR
IGNORE``, ``LIKE``'s case rule, one float-to-integer cast, PRAGMAs and migrations. Rewriting
160 reviewed statements into Core expressions would churn every repository (and every line
the gallery's keyset and the money properties were proven on) for no behaviour gain, add a
large dependency and a second way to write queries, and still leave the migrations (0011's
triggers) dialect-specific. So: the repositories keep one portable text per statement;
``postgres.translate`` makes PostgreSQL's text from it; the few constructs with no portable
spelling (scalar MIN/MAX, JSON functions, ``COLLATE NOCASE``) were rewritten portably
(CASE, JSON built in Python, ``lower()``). Each dialect has its own numbered migrations
(``migrations/`` for SQLite, frozen once applied; ``migrations_pg/`` for PostgreSQL), kept
in step by tests/unit/test_migrations_in_step.py. Every storage test runs on both.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from bot.storage.characters import CharacterRepository, NewCharacter
from bot.storage.database import STORAGE_ERRORS, Database, SqliteDatabase
from bot.storage.gallery import GalleryRepository
from bot.storage.guilds import GuildRepository
from bot.storage.images import ImageRepository, NewImage
from bot.storage.jobs import JobRepository, NewJob
from bot.storage.leases import LeaseRepository, WorkerLease
from bot.storage.meta import MetaRepository
from bot.storage.operations import OperationsRepository
from bot.storage.postgres import PostgresDatabase
from bot.storage.quotas import QuotaRepository
from bot.storage.removal import DeletionRepository
from bot.storage.room import USD_ROUNDING, Limits, SharedLimits
from bot.storage.scenes import SceneRepository
from bot.storage.takedowns import TakedownRepository

__all__ = [
    "STORAGE_ERRORS",
    "USD_ROUNDING",
    "Database",
    "Limits",
    "NewCharacter",
    "NewImage",
    "NewJob",
    "SharedLimits",
    "Storage",
]


class Storage:
    """The database and one repository per kind of record."""

    def __init__(
        self,
        path: Path,
        database_url: SecretStr | str | None = None,
        *,
        worker: str = "main",
        lease_seconds: float = 60.0,
        busy_timeout_seconds: float = 5.0,
    ) -> None:
        """SQLite at ``path``, or PostgreSQL at ``database_url`` when one is given.
        ``worker`` names this process among those sharing the database (see LeaseRepository);
        ``busy_timeout_seconds``: how long a SQLite write waits for the lock."""
        if isinstance(database_url, SecretStr):
            database_url = database_url.get_secret_value()
        # A process frozen inside a write for longer than a lease (it has lost its jobs by
        # then) holds the other processes' writes up no longer (see PostgresDatabase).
        self.db: Database = (
            PostgresDatabase(database_url, stalled_after=lease_seconds)
            if database_url
            else SqliteDatabase(path, busy_timeout_seconds)
        )
        self.characters = CharacterRepository(self.db)
        held_as = WorkerLease(worker, lease_seconds)
        self.jobs = JobRepository(self.db, held_as)
        self.leases = LeaseRepository(self.db, held_as)
        self.images = ImageRepository(self.db, held_as)
        self.guilds = GuildRepository(self.db)
        self.meta = MetaRepository(self.db)
        self.quotas = QuotaRepository(self.db)
        self.gallery = GalleryRepository(self.db)
        self.operations = OperationsRepository(self.db)
        self.scenes = SceneRepository(self.db)
        self.takedowns = TakedownRepository(self.db)
        self.deletions = DeletionRepository(self.db)

    async def open(self) -> None:
        await self.db.open()

    async def close(self) -> None:
        await self.db.close()
