"""docker-compose.yml runs several processes the way the bot requires (issue 25): the shards
split between the bot services exactly once, one database and one picture volume for all,
and every service's settings accepted by the bot itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def _bots() -> dict[str, dict[str, Any]]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    return {name: s for name, s in compose["services"].items() if s.get("build") == "."}


def _settings(service: dict[str, Any], tmp_path: Path) -> Settings:
    # What .env would add (secrets); ${POSTGRES_PASSWORD} as compose would fill it in.
    env = {
        k: str(v).replace("${POSTGRES_PASSWORD}", "secret")
        for k, v in service["environment"].items()
    }
    return Settings(
        discord_token="token",  # type: ignore[arg-type]
        openai_api_key="key",  # type: ignore[arg-type]
        data_dir=tmp_path,
        _env_file=None,  # type: ignore[call-arg]
        **{k.lower(): v for k, v in env.items()},
    )


def test_the_bot_services_split_the_shards_once_over_one_database_and_volume(
    tmp_path: Path,
) -> None:
    bots = _bots()
    assert len(bots) >= 2
    settings = [_settings(service, tmp_path) for service in bots.values()]
    counts = {s.shard_count for s in settings}
    assert len(counts) == 1
    (count,) = counts
    shards = sorted(i for s in settings for i in s.shard_ids or [])
    assert shards == list(range(count or 0))  # every shard, once
    assert len({s.database_url.get_secret_value() for s in settings if s.database_url}) == 1
    assert len({s.worker_name for s in settings}) == len(settings)
    volumes = {tuple(service["volumes"]) for service in bots.values()}
    assert len(volumes) == 1 and any(v.endswith(":/data") for v in volumes.pop())
