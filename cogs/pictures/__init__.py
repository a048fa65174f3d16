"""Posted pictures: their buttons (persistent across restarts) and the queue's delivery."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.pictures.buttons import DYNAMIC_ITEMS
from cogs.pictures.delivery import DiscordDelivery

if TYPE_CHECKING:
    from bot.app import CharacterBot


async def setup(bot: CharacterBot) -> None:
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    bot.services.queue.observer = DiscordDelivery(bot)


async def teardown(bot: CharacterBot) -> None:
    bot.remove_dynamic_items(*DYNAMIC_ITEMS)
    bot.services.queue.observer = None
