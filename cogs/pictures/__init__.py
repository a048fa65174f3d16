"""Posted pictures: their buttons, persistent across restarts.

The queue's delivery (cogs/pictures/delivery.py) is given to the queue by bot/app.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs._shared.picture_buttons import DYNAMIC_ITEMS

if TYPE_CHECKING:
    from bot.app import CharacterBot


async def setup(bot: CharacterBot) -> None:
    bot.add_dynamic_items(*DYNAMIC_ITEMS)


async def teardown(bot: CharacterBot) -> None:
    bot.remove_dynamic_items(*DYNAMIC_ITEMS)
