"""Posted pictures: their buttons, persistent across restarts.

The queue's delivery (cogs/pictures/delivery.py) is given to the queue by bot/app.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs._shared.picture_buttons import DYNAMIC_ITEMS
from cogs._shared.scene_buttons import SCENE_ITEMS

if TYPE_CHECKING:
    from cogs._shared.context import ServicedBot


async def setup(bot: ServicedBot) -> None:
    bot.add_dynamic_items(*DYNAMIC_ITEMS, *SCENE_ITEMS)


async def teardown(bot: ServicedBot) -> None:
    bot.remove_dynamic_items(*DYNAMIC_ITEMS, *SCENE_ITEMS)
