"""Settings parsing and every configuration error path, through the real entry point."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigurationError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
SECRET_TOKEN = "Mzk0-not-a-real-token-but-secret-9f8e7d"
SECRET_KEY = "sk-test-secret-value-0123456789abcdef"


def run_bot(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m bot`` as a new user would run it, with only ``env`` set."""
    base = {"PATH": os.environ["PATH"], "HOME": str(cwd), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=cwd,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_no_configuration_names_discord_token_and_exits_2(tmp_path: Path) -> None:
    result = run_bot({"DATA_DIR": str(tmp_path / "data")}, tmp_path)
    assert result.returncode == 2
    assert "DISCORD_TOKEN is not set" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_blank_openai_key_is_named_and_secrets_not_printed(tmp_path: Path) -> None:
    result = run_bot(
        {"DISCORD_TOKEN": SECRET_TOKEN, "OPENAI_API_KEY": "   ", "DATA_DIR": str(tmp_path)},
        tmp_path,
    )
    assert result.returncode == 2
    assert "OPENAI_API_KEY is invalid" in result.stderr
    assert SECRET_TOKEN not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1


def test_invalid_value_names_the_variable_without_its_value(tmp_path: Path) -> None:
    result = run_bot(
        {
            "DISCORD_TOKEN": SECRET_TOKEN,
            "OPENAI_API_KEY": SECRET_KEY,
            "DATA_DIR": str(tmp_path),
            "MAX_CONCURRENT_JOBS": "lots",
        },
        tmp_path,
    )
    assert result.returncode == 2
    assert re.search(r"MAX_CONCURRENT_JOBS is invalid", result.stderr)
    assert SECRET_KEY not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_env_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"DISCORD_TOKEN={SECRET_TOKEN}\nOPENAI_API_KEY={SECRET_KEY}\nIMAGES_PER_MINUTE=7\n"
    )
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        settings = Settings(_env_file=".env")  # type: ignore[call-arg]
    finally:
        os.chdir(old)
    assert settings.images_per_minute == 7
    assert settings.discord_token.get_secret_value() == SECRET_TOKEN
    assert SECRET_TOKEN not in repr(settings) and SECRET_KEY not in str(settings)


def test_unwritable_data_dir_is_a_configuration_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigurationError) as info:
        load_settings(
            discord_token=SECRET_TOKEN, openai_api_key=SECRET_KEY, data_dir=blocker / "sub"
        )
    assert info.value.lines[0].startswith("DATA_DIR")


def test_unknown_timezone_and_bad_price_table_are_rejected() -> None:
    with pytest.raises(ConfigurationError) as info:
        load_settings(
            discord_token=SECRET_TOKEN,
            openai_api_key=SECRET_KEY,
            quota_timezone="Mars/Olympus",
            price_table={"m": {"text_input": -1, "image_input": 1, "image_output": 1}},
        )
    text = "\n".join(info.value.lines)
    assert "QUOTA_TIMEZONE" in text and "PRICE_TABLE" in text


def test_every_setting_is_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    example = (ROOT / ".env.example").read_text()
    for name in Settings.model_fields:
        variable = name.upper()
        assert f"| `{variable}` |" in readme, f"{variable} missing from README's table"
        assert re.search(rf"^{variable}=", example, re.M), f"{variable} missing from .env.example"
