"""Settings: the only place the bot reads its configuration from.

Everything comes from environment variables (or a ``.env`` file in the working directory).
The object is built once in ``bot.main`` and passed down; nothing imports it as a global.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.images.models import ModelPrice

__all__ = ["ConfigurationError", "Settings", "load_settings", "make_data_dir_private"]

# What a missing or bad variable should tell a server owner, keyed by variable name.
_HINTS: dict[str, str] = {
    "DISCORD_TOKEN": (
        "create an application at https://discord.com/developers/applications, add a bot, "
        "copy its token and put DISCORD_TOKEN=<token> in the environment or in .env"
    ),
    "OPENAI_API_KEY": (
        "create a key at https://platform.openai.com/api-keys and put "
        "OPENAI_API_KEY=<key> in the environment or in .env"
    ),
    "DATA_DIR": "point DATA_DIR at a folder the bot may write to",
    "DATABASE_URL": (
        "set DATABASE_URL=postgresql://user:password@host:5432/dbname, or unset it for SQLite"
    ),
    "SHARD_IDS": (
        "list the shards this process runs, e.g. SHARD_IDS=0,1, each below SHARD_COUNT (which"
        " must be set with it); several processes need DATABASE_URL=postgresql://…"
    ),
}


class ConfigurationError(Exception):
    """A configuration problem explained in one plain line per problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class Settings(BaseSettings):
    """Every setting the bot understands. ``.env.example`` lists each with a comment."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        hide_input_in_errors=True,
    )

    # --- Secrets -------------------------------------------------------------------------
    discord_token: SecretStr
    openai_api_key: SecretStr

    # PostgreSQL for a bot that outgrows one process (postgresql://user:password@host/db).
    # Unset: SQLite at DATA_DIR/bot.sqlite3. A secret: it may carry a password.
    database_url: SecretStr | None = None

    # --- Where things live -----------------------------------------------------------------
    data_dir: Path = Path("./data")
    # How long a write waits for SQLite's lock (a backup, another program) before it counts
    # as a storage fault the bot waits out and tries again.
    sqlite_busy_timeout_seconds: float = Field(default=5.0, ge=0.1, le=600)
    openai_base_url: str | None = None
    discord_api_base: str | None = None
    dev_guild_id: int | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Every SQL statement with its parameters (members' prompts) at DEBUG; off by default.
    log_sql: bool = False
    # "json": one JSON object per line (job id, guild id, event) for log collectors.
    log_format: Literal["text", "json"] = "text"

    # --- Discord's gateway -----------------------------------------------------------------
    # Shards this process runs, numbered 0..N-1 (Discord requires sharding past 2,500
    # servers). Unset: as many as Discord recommends for the bot (GET /gateway/bot).
    shard_count: int | None = Field(default=None, ge=1, le=10_000)
    # Several processes, each running some of SHARD_COUNT's shards against one PostgreSQL
    # database (e.g. SHARD_IDS=0,1 here and 2,3 there). Unset: this process runs them all.
    shard_ids: Annotated[list[int] | None, NoDecode] = None

    # --- Several processes sharing one queue (PostgreSQL) ----------------------------------
    # With SHARD_IDS: a running job is held by its process this long after it last said it lives
    # (every quarter of it); then another process takes the job over and finishes it.
    job_lease_seconds: float = Field(default=60.0, ge=1, le=3600)
    # How often a process looks for jobs that other processes took in (PostgreSQL only: one
    # SQLite database has one process, which knows every job it queued).
    queue_poll_seconds: float = Field(default=2.0, ge=0.1, le=600)

    # --- Operating it --------------------------------------------------------------------
    # Prometheus metrics: off unless a port is set; served on loopback unless told otherwise.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"
    # How often the heartbeat file is written; `python -m bot healthcheck` calls the bot
    # unhealthy when it is three of these old.
    heartbeat_seconds: float = Field(default=15.0, ge=0.2, le=300)

    # --- Models and picture defaults -------------------------------------------------------
    # Flare for everyday generation, Sunburst where fidelity to a reference matters (API facts §1).
    image_model: str = "gpt-image-2.5-flare"
    vary_model: str = "gpt-image-2.5-sunburst"
    moderation_model: str = "omni-moderation-latest"
    image_quality: Literal["low", "medium", "high", "auto"] = "medium"
    output_format: Literal["png", "webp"] = "png"
    # Streamed previews cost extra output tokens; one preview is enough to show progress.
    partial_images: int = Field(default=1, ge=0, le=3)
    openai_timeout_seconds: float = Field(default=180.0, gt=0)

    # --- The job queue ---------------------------------------------------------------------
    max_concurrent_jobs: int = Field(default=2, ge=1, le=64)
    images_per_minute: int = Field(default=10, ge=1, le=10_000)
    max_attempts: int = Field(default=3, ge=1, le=10)
    retry_base_seconds: float = Field(default=2.0, ge=0)
    member_pending_cap: int = Field(default=4, ge=1, le=100)
    guild_pending_cap: int = Field(default=50, ge=1, le=10_000)
    progress_edit_seconds: float = Field(default=1.5, ge=0.2)
    shutdown_grace_seconds: float = Field(default=20.0, ge=0)

    # --- Quotas and cost -------------------------------------------------------------------
    default_daily_quota: int = Field(default=25, ge=0, le=100_000)
    quota_timezone: str = "UTC"
    bot_owner_id: int | None = None
    owner_exempt_from_quota: bool = False
    # JSON: {"model": {"text_input": $/1M, "image_input": $/1M, "image_output": $/1M}}.
    # Empty means costs are shown as unknown rather than guessed.
    price_table: Annotated[dict[str, ModelPrice], NoDecode] = Field(default_factory=dict)

    @field_validator("discord_token", "openai_api_key")
    @classmethod
    def _not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("is empty")
        return value

    @field_validator("database_url")
    @classmethod
    def _postgresql_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        scheme = value.get_secret_value().split("://", 1)[0].lower()
        if scheme not in ("postgresql", "postgres"):
            # Never echo the value: it may carry a password.
            raise ValueError("must start with postgresql:// (or be unset for SQLite)")
        return value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _parse_shard_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.replace(" ", ",").split(",")]
            return [int(part) for part in parts if part] or None
        return value

    @field_validator("shard_ids")
    @classmethod
    def _shards_in_range(cls, value: list[int] | None, info: ValidationInfo) -> list[int] | None:
        if value is None:
            return None
        count = info.data.get("shard_count")  # validated first: declared before
        if count is None:
            raise ValueError("needs SHARD_COUNT, how many shards all processes run together")
        if any(not 0 <= i < count for i in value) or len(set(value)) != len(value):
            raise ValueError(f"must be distinct shard numbers from 0 to {count - 1}")
        if info.data.get("database_url") is None:
            # The other shards' processes must share this one's queue: one SQLite file
            # belongs to one process.
            raise ValueError("needs DATABASE_URL: processes share one PostgreSQL database")
        return value

    @field_validator("price_table", mode="before")
    @classmethod
    def _parse_price_table(cls, value: object) -> object:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value

    @field_validator("quota_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def database_path(self) -> Path:
        return self.data_dir / "bot.sqlite3"

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

    @property
    def shares_queue(self) -> bool:
        """Whether other processes may share this one's database, queue and DATA_DIR: this
        process runs only some of the shards (which needs PostgreSQL)."""
        return self.shard_ids is not None

    @property
    def worker_name(self) -> str:
        """This process's name among those sharing the database: its shards', so a restart
        of the same process takes back at once the jobs its previous run held."""
        if self.shard_ids is None:
            return "main"
        return "shards-" + "-".join(str(i) for i in sorted(self.shard_ids))

    @property
    def heartbeat_path(self) -> Path:
        # One heartbeat per process: several may share DATA_DIR (a shared volume).
        name = "heartbeat" if self.shard_ids is None else f"heartbeat-{self.worker_name}"
        return self.data_dir / f"{name}.json"

    def secrets(self) -> list[str]:
        """The secret values, so logging can scrub them wherever they might appear."""
        secrets = [self.discord_token.get_secret_value(), self.openai_api_key.get_secret_value()]
        if self.database_url is not None:
            secrets.append(self.database_url.get_secret_value())
        return secrets


def _describe(error: dict[str, object]) -> str:
    location = error.get("loc") or ("?",)
    name = str(location[0]).upper() if isinstance(location, tuple) else str(location).upper()
    kind = str(error.get("type", ""))
    # The message never includes the value (hide_input_in_errors), so secrets stay out.
    problem = "is not set" if kind == "missing" else f"is invalid ({error.get('msg', 'bad value')})"
    hint = _HINTS.get(name)
    return f"{name} {problem}: {hint}" if hint else f"{name} {problem}."


def load_settings(**overrides: object) -> Settings:
    """Build settings or raise :class:`ConfigurationError` with one line per problem."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigurationError([_describe(dict(e)) for e in exc.errors()]) from None
    _check_data_dir(settings.data_dir)
    return settings


def _check_data_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigurationError(
            [f"DATA_DIR {str(path)!r} is not writable ({exc.strerror}): {_HINTS['DATA_DIR']}."]
        ) from None


def make_data_dir_private(path: Path) -> None:
    """Keep ``DATA_DIR`` readable by the bot's own user only, from now on and backwards.

    The database holds members' prompts and live interaction tokens, and the pictures are
    theirs: outside Docker the default umask (022) would let every local user read them.
    The umask covers what the bot creates from here on; files made by an older version
    (or before this call) are tightened once at start.
    """
    os.umask(0o077)
    for root, dirs, files in os.walk(path):
        _tighten(Path(root), 0o700)
        for name in dirs:
            _tighten(Path(root) / name, 0o700)
        for name in files:
            _tighten(Path(root) / name, 0o600)


def _tighten(path: Path, mode: int) -> None:
    try:
        current = path.lstat()
        if not stat.S_ISLNK(current.st_mode) and stat.S_IMODE(current.st_mode) & 0o077:
            path.chmod(stat.S_IMODE(current.st_mode) & mode)
    except OSError:  # vanished, or not ours (a mounted volume): nothing we can change
        pass
