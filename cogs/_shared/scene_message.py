"""What a posted scene looks like: the pictures as any result, an embed naming every
character and its creator, and the scene's buttons (cogs/_shared/scene_buttons.py).

Creators are named by display name, never pinged: the names are plain text (escaped, like
all member text), and a name Discord cannot tell us falls back to a mention, which in an
embed never notifies anyone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.i18n import Catalog, Markdown, escape_member_text
from bot.records import Job, SceneJobRequest, StoredImage
from cogs._shared.members import guild_display_name
from cogs._shared.picture_message import PictureMessage, build_picture_message, truncate
from cogs._shared.scene_buttons import scene_view

if TYPE_CHECKING:
    from cogs._shared.context import ServicedBot

__all__ = ["build_scene_message", "scene_description"]

# Each line about a character stays short, whatever its name: four of them, the setting
# and the picture facts fit an embed description (4,096) and the 6,000 of a whole message.
_NAME_LIMIT = 80
_CREATOR_LIMIT = 40


def scene_description(
    catalog: Catalog,
    locale: str,
    *,
    setting: str,
    cast: list[tuple[str, str]],
    facts: list[Markdown],
) -> Markdown:
    """The first embed's text: the setting, each character with its creator, the facts.

    ``cast``: (character name, creator's display name or mention) in prompt order.
    """
    lines: list[Markdown] = [
        catalog.t(locale, "scene.embed.setting", setting=truncate(setting, 600))
    ]
    lines.append(catalog.t(locale, "scene.embed.cast", count=len(cast)))
    for name, creator in cast:
        lines.append(
            catalog.t(
                locale,
                "scene.embed.member",
                name=truncate(name, _NAME_LIMIT),
                creator=creator,
            )
        )
    lines += facts
    return Markdown(truncate("\n".join(lines), 4096))


async def _creator(bot: ServicedBot, guild_id: int, user_id: int) -> str:
    guild = bot.get_guild(guild_id)
    name = await guild_display_name(guild, user_id) if guild is not None else ""
    return name[:_CREATOR_LIMIT] if name else Markdown(f"<@{user_id}>")


async def build_scene_message(
    bot: ServicedBot, job: Job, images: list[StoredImage], *, file_limit: int
) -> PictureMessage:
    """The post of a finished scene job: built on the usual picture message (files within
    the upload limits, one embed per picture), with the scene's own text and buttons."""
    services = bot.services
    request = job.request
    assert isinstance(request, SceneJobRequest)
    members = await services.scenes.members(images[0].scene_id or 0)
    lead = members[0].character
    built = await build_picture_message(
        catalog=services.catalog,
        store=services.store,
        locale=job.locale,
        character=lead,
        images=images,
        requester_id=job.user_id,
        style_key=request.style or lead.style,
        size_key=request.size_key or "landscape",
        file_limit=file_limit,
    )
    cast = [
        (m.character.name, await _creator(bot, job.guild_id, m.character.owner_id)) for m in members
    ]
    catalog, locale = services.catalog, job.locale
    facts = [
        catalog.t(
            locale, "picture.style", style=catalog.t(locale, f"style.{request.style or 'cel'}")
        ),
        catalog.t(
            locale,
            "picture.size",
            size=catalog.t(locale, f"size.{request.size_key or 'landscape'}"),
        ),
        catalog.t(
            locale, "scene.embed.made_by", user=await _creator(bot, job.guild_id, job.user_id)
        ),
    ]
    if request.base_image_id:
        facts.append(catalog.t(locale, "scene.embed.edit_of", id=request.base_image_id))
    first = built.embeds[0]
    names = " · ".join(m.character.name for m in members)
    first.title = truncate(escape_member_text(truncate(names, 240)), 256)
    first.description = scene_description(
        catalog, locale, setting=request.setting, cast=cast, facts=facts
    )
    built.view = scene_view(catalog, locale, images)
    return built
