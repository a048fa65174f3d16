"""Admin controls over cost: /quota, /quota-admin, /config, /usage and /status.

The allowed channels these set are enforced by the command tree (cogs/_shared/tree.py); the
quota service's budget alerts reach admins through the sink bot/app.py gives it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.admin.config import ConfigCog
from cogs.admin.quota import QuotaAdminCog, QuotaCog
from cogs.admin.status import StatusCog
from cogs.admin.usage import UsageCog

if TYPE_CHECKING:
    from cogs._shared.context import ServicedBot


async def setup(bot: ServicedBot) -> None:
    await bot.add_cog(QuotaCog(bot))
    await bot.add_cog(QuotaAdminCog(bot))
    await bot.add_cog(ConfigCog(bot))
    await bot.add_cog(UsageCog(bot))
    await bot.add_cog(StatusCog(bot))
