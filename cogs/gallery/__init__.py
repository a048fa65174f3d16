"""/gallery, its persistent page buttons and menus, and favorites by reaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.gallery.cog import GalleryCog
from cogs.gallery.reactions import FavoriteReactions
from cogs.gallery.views import DYNAMIC_ITEMS

if TYPE_CHECKING:
    from cogs._shared.context import ServicedBot


async def setup(bot: ServicedBot) -> None:
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    await bot.add_cog(GalleryCog(bot))
    await bot.add_cog(FavoriteReactions(bot))


async def teardown(bot: ServicedBot) -> None:
    bot.remove_dynamic_items(*DYNAMIC_ITEMS)
