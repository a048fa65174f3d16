"""scripts/readme_images.py still runs, and the README's pictures stay small (issue 21, item 5)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent.parent
SCRIPT = ROOT / "scripts" / "readme_images.py"
BUDGET = 1_000_000  # bytes, every picture together
EXPECTED = {"result.webp", "gallery.webp", "card.webp", "usage.webp"}


def sizes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in folder.iterdir() if p.is_file()}


def test_the_script_regenerates_every_picture_within_the_budget(tmp_path: Path) -> None:
    # Run as the README says, in a process of its own: the script must import on its own.
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--output-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    made = sizes(tmp_path)
    assert set(made) == EXPECTED
    assert sum(made.values()) < BUDGET
    for name in made:
        with Image.open(tmp_path / name) as picture:
            assert picture.format == "WEBP"
            assert max(picture.size) >= 500  # readable in the README, not a thumbnail


def test_the_readme_shows_the_committed_pictures() -> None:
    committed = sizes(ROOT / "docs" / "images")
    assert set(committed) == EXPECTED
    assert sum(committed.values()) < BUDGET
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "## What it looks like" in readme
    shown = set(re.findall(r"docs/images/([\w.-]+)", readme))
    assert shown == EXPECTED
