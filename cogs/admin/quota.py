"""/quota (every member: what's left) and /quota-admin (admins: set and clear limits).

Two top-level commands because Discord hides commands per top-level command only: members
must see /quota, and /quota-admin must be hidden from them.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.errors import NotAllowed, NotFound, UserInputError
from bot.quota_status import LIMIT_RANGES
from bot.records import QuotaLimit, Scope
from cogs._shared.context import is_admin, services, tr
from cogs._shared.options import Option, command, group, options, subcommand
from cogs._shared.reply import reply
from cogs.admin.checks import AcknowledgeFirst, admin_only, guild_member, guild_role, require_admin
from cogs.admin.quota_views import describe_limit, limits_embed, status_embed

if TYPE_CHECKING:
    from cogs._shared.context import ServicedBot

__all__ = ["QuotaAdminCog", "QuotaCog"]

# Discord's client offers only the ranges the quota service accepts (a patched client's
# other values are refused there): one table of them, bot/quota_status.py.
_MEMBER, _SERVER = LIMIT_RANGES["member"], LIMIT_RANGES["server"]
PerDay = app_commands.Range[int, _MEMBER["daily_limit"][0], _MEMBER["daily_limit"][1]]
PerHour = app_commands.Range[int, _MEMBER["hourly_limit"][0], _MEMBER["hourly_limit"][1]]
Pending = app_commands.Range[int, _MEMBER["pending_cap"][0], _MEMBER["pending_cap"][1]]
ServerPerDay = app_commands.Range[int, _SERVER["daily_limit"][0], _SERVER["daily_limit"][1]]
ServerPending = app_commands.Range[int, _SERVER["pending_cap"][0], _SERVER["pending_cap"][1]]
Dollars = app_commands.Range[float, _SERVER["daily_usd"][0], _SERVER["daily_usd"][1]]


# The options every "set" subcommand shares, declared once.
LIMIT_OPTIONS = {
    "per_day": Option("per-day", "Pictures per day (0 = none)", key="admin.per_day"),
    "per_hour": Option(
        "per-hour", "Pictures per hour (leave empty for no hourly limit)", key="admin.per_hour"
    ),
    "pending": Option(
        "pending",
        "Pictures that may wait in the queue at once (empty = the default)",
        key="admin.pending",
    ),
}


# This file's slash-command options, each declared once (cogs/_shared/options.py).
MEMBER = Option("member", "The member", key="admin.member")
MEMBER_SHOW = Option(
    "member", "Admins only: whose quota to see", key="admin.member_show", name_key="admin.member"
)
ROLE = Option("role", "The role (@everyone = every member)", key="admin.role")
SERVER_PENDING = Option(
    "pending",
    "Jobs the whole server may have waiting (empty = the default)",
    key="admin.server_pending",
    name_key="admin.pending",
)
SERVER_PER_DAY = Option(
    "per-day",
    "Pictures per day for the whole server (empty = no cap)",
    key="admin.server_per_day",
    name_key="admin.per_day",
)
USD_PER_DAY = Option(
    "usd-per-day", "Estimated US dollars per day (needs PRICE_TABLE)", key="admin.usd_per_day"
)
USD_PER_MONTH = Option(
    "usd-per-month", "Estimated US dollars per month (needs PRICE_TABLE)", key="admin.usd_per_month"
)


@app_commands.guild_only()
class QuotaCog(
    commands.GroupCog,
    group_name=_("quota", key="cmd.quota.name"),
    group_description=_(
        "Your picture quota: what's left and when it resets", key="cmd.quota.description"
    ),
):
    def __init__(self, bot: ServicedBot) -> None:
        self.bot = bot
        super().__init__()

    @command("show", "How many pictures you have left, and when they reset", key="quota.show")
    @options(member=MEMBER_SHOW)
    async def show(
        self,
        interaction: discord.Interaction,
        member: discord.Member | discord.User | None = None,
    ) -> None:
        admin = is_admin(interaction)
        target = interaction.user if member is None else member
        if target.id != interaction.user.id and not admin:
            raise NotAllowed("error.quota_show_others")
        subject = guild_member(interaction, target)
        svc = services(interaction)
        role_ids = [role.id for role in subject.roles]
        status = await svc.quotas.status(
            interaction.guild_id or 0, subject.id, role_ids, time.time()
        )
        embed = status_embed(interaction, subject, status, show_costs=admin)
        await reply(interaction, embed=embed, ephemeral=True)


@admin_only
class QuotaAdminCog(
    AcknowledgeFirst,
    commands.GroupCog,
    group_name=_("quota-admin", key="cmd.quota_admin.name"),
    group_description=_(
        "Admins: picture limits for members, roles and the whole server",
        key="cmd.quota_admin.description",
    ),
):
    set_group = group("set", "Set a picture limit", key="quota_admin.set")
    clear_group = group(
        "clear", "Remove a picture limit (back to the default)", key="quota_admin.clear"
    )

    def __init__(self, bot: ServicedBot) -> None:
        self.bot = bot
        super().__init__()

    # --- set -----------------------------------------------------------------------------

    @subcommand(
        set_group,
        "member",
        "Limit one member (this beats their roles)",
        key="quota_admin.set_member",
    )
    @options(member=MEMBER, **LIMIT_OPTIONS)
    async def set_member(
        self,
        interaction: discord.Interaction,
        member: discord.Member | discord.User,
        per_day: PerDay,
        per_hour: PerHour | None = None,
        pending: Pending | None = None,
    ) -> None:
        require_admin(interaction)
        target = guild_member(interaction, member)
        await self._set_member_or_role(interaction, "member", target, per_day, per_hour, pending)

    @subcommand(
        set_group,
        "role",
        "Limit everyone with a role (a member gets their most generous role)",
        key="quota_admin.set_role",
    )
    @options(role=ROLE, **LIMIT_OPTIONS)
    async def set_role(
        self,
        interaction: discord.Interaction,
        role: discord.Role,
        per_day: PerDay,
        per_hour: PerHour | None = None,
        pending: Pending | None = None,
    ) -> None:
        require_admin(interaction)
        target = guild_role(interaction, role)
        await self._set_member_or_role(interaction, "role", target, per_day, per_hour, pending)

    @subcommand(
        set_group,
        "server",
        "Cap the whole server: pictures a day, and estimated dollars",
        key="quota_admin.set_server",
    )
    @options(
        per_day=SERVER_PER_DAY,
        pending=SERVER_PENDING,
        usd_per_day=USD_PER_DAY,
        usd_per_month=USD_PER_MONTH,
    )
    async def set_server(
        self,
        interaction: discord.Interaction,
        per_day: ServerPerDay | None = None,
        pending: ServerPending | None = None,
        usd_per_day: Dollars | None = None,
        usd_per_month: Dollars | None = None,
    ) -> None:
        require_admin(interaction)
        if per_day is None and pending is None and usd_per_day is None and usd_per_month is None:
            raise UserInputError("error.server_limit_empty")
        row = QuotaLimit(
            interaction.guild_id or 0,
            "server",
            0,
            per_day,
            None,
            pending,
            daily_usd=usd_per_day,
            monthly_usd=usd_per_month,
        )
        await self._set(interaction, row, tr(interaction, "quota.the_server"))

    async def _set_member_or_role(
        self,
        interaction: discord.Interaction,
        scope: Scope,
        target: discord.Member | discord.Role,
        per_day: int,
        per_hour: int | None,
        pending: int | None,
    ) -> None:
        """The member and role ``set`` subcommands once their target is checked: the same
        three limits, mentioned in the answer."""
        row = QuotaLimit(interaction.guild_id or 0, scope, target.id, per_day, per_hour, pending)
        await self._set(interaction, row, target.mention)

    async def _set(self, interaction: discord.Interaction, row: QuotaLimit, target: str) -> None:
        saved = await services(interaction).quotas.set_limit(row, updated_by=interaction.user.id)
        lines = [
            tr(interaction, "quota.saved", target=target, limit=describe_limit(interaction, row))
        ]
        if row.scope == "role":
            lines.append(tr(interaction, "quota.saved_role_hint"))
        if saved.replaced is not None:
            before = describe_limit(interaction, saved.replaced)
            lines.append(tr(interaction, "quota.saved_replaced", before=before))
        if saved.unpriced_budget:
            lines.append(tr(interaction, "quota.saved_no_prices"))
        if saved.unpriced_models:
            models = ", ".join(saved.unpriced_models)
            lines.append(tr(interaction, "quota.saved_unpriced_models", models=models))
        await reply(interaction, content="\n".join(lines), ephemeral=True)

    # --- clear ---------------------------------------------------------------------------

    @subcommand(
        clear_group,
        "member",
        "Remove a member's own limit (their roles or the default apply again)",
        key="quota_admin.clear_member",
    )
    @options(member=MEMBER)
    async def clear_member(
        self, interaction: discord.Interaction, member: discord.Member | discord.User
    ) -> None:
        require_admin(interaction)
        # A member who left may still have a limit: clearing it needs only the id.
        await self._clear(interaction, "member", member.id, f"<@{member.id}>")

    @subcommand(clear_group, "role", "Remove a role's limit", key="quota_admin.clear_role")
    @options(role=ROLE)
    async def clear_role(self, interaction: discord.Interaction, role: discord.Role) -> None:
        require_admin(interaction)
        target = guild_role(interaction, role)
        await self._clear(interaction, "role", target.id, target.mention)

    @subcommand(
        clear_group,
        "server",
        "Remove the server's caps and dollar budgets",
        key="quota_admin.clear_server",
    )
    async def clear_server(self, interaction: discord.Interaction) -> None:
        require_admin(interaction)
        await self._clear(interaction, "server", 0, tr(interaction, "quota.the_server"))

    async def _clear(
        self, interaction: discord.Interaction, scope: Scope, target_id: int, target: str
    ) -> None:
        guild_id = interaction.guild_id or 0
        if not await services(interaction).quotas.clear_limit(guild_id, scope, target_id):
            raise NotFound("error.quota_not_set", target=target)
        await reply(
            interaction, content=tr(interaction, "quota.cleared", target=target), ephemeral=True
        )

    # --- list ----------------------------------------------------------------------------

    @command("list", "Every picture limit set in this server", key="quota_admin.list")
    async def list_limits(self, interaction: discord.Interaction) -> None:
        require_admin(interaction)
        rows = await services(interaction).quotas.limits(interaction.guild_id or 0)
        await reply(interaction, embed=limits_embed(interaction, rows), ephemeral=True)
