"""Modals are not persistent: a dismissed one is forgotten, not kept for the process's life."""

from __future__ import annotations

from typing import Any

import pytest

from bot.images.prompts import CharacterSheet
from bot.jobs.submit import CreateRequest
from cogs.character import modals


async def test_the_create_modal_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(modals, "tr", lambda _interaction, key, **_values: key)
    monkeypatch.setattr(modals, "tr_plain", lambda _interaction, key, **_values: key)
    interaction: Any = object()
    modal = modals.CreateModal(interaction, CreateRequest(CharacterSheet("Aiko")), None)
    # discord.py's Modal keeps waiting forever by default (timeout None).
    assert modal.timeout is not None and modal.timeout <= 15 * 60
