"""The gallery message: contact sheet, embed, page buttons and the two menus.

Every component is a ``DynamicItem`` whose custom_id carries the page state, so the
buttons keep working after a restart. A page belongs to the member who opened it;
anyone else pressing is told to run /gallery themselves.

custom_ids (all under 100 characters):

* the page buttons: see ``cogs/_shared/gallery_nav.py`` (character cards use them too).
* ``gal:o:<owner>`` the "open a picture" menu (values are picture ids).
* ``gal:c:<owner>:<sort>:<scope>:<member or 0>`` the character menu (values are ids).
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from typing import Any

import discord

from bot.gallery import GalleryPage, GalleryRequest, Scope
from bot.i18n import Markdown, escape_member_text
from bot.records import GallerySort, Keyset
from cogs._shared.components import for_owner_only
from cogs._shared.context import is_admin, locale_of, services, tr, tr_plain
from cogs._shared.gallery_nav import (
    GALLERY_COLOUR,
    SCOPE_CODES,
    SCOPES,
    SORT_CODES,
    SORTS,
    GalleryNavButton,
    lineage_lines,
    requested_page,
)
from cogs._shared.members import display_name
from cogs._shared.picture_message import build_picture_message, truncate
from cogs._shared.scene_buttons import scene_view

__all__ = [
    "DYNAMIC_ITEMS",
    "GalleryCharacterSelect",
    "GalleryNavButton",
    "GalleryOpenSelect",
    "show_page",
]

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- components


class GalleryOpenSelect(
    discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"gal:o:(?P<owner>\d+)"
):
    """Posts the chosen picture full size, with its embed and buttons."""

    def __init__(self, owner_id: int, options: list[discord.SelectOption] | None = None) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=f"gal:o:{owner_id}",
                options=options or [discord.SelectOption(label="-", value="0")],
                row=1,
            )
        )
        self.owner_id = owner_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> GalleryOpenSelect:
        return cls(int(match["owner"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await for_owner_only(
            interaction, self.owner_id, lambda: open_picture(interaction, int(self.item.values[0]))
        )


class GalleryCharacterSelect(
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=r"gal:c:(?P<owner>\d+):(?P<sort>[nf]):(?P<scope>[ms]):(?P<member>\d+)",
):
    """Filters the gallery to one character: its pictures and its lineage."""

    def __init__(
        self,
        owner_id: int,
        sort: GallerySort,
        scope: Scope,
        member_id: int,
        options: list[discord.SelectOption] | None = None,
    ) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=(f"gal:c:{owner_id}:{SORT_CODES[sort]}:{SCOPE_CODES[scope]}:{member_id}"),
                options=options or [discord.SelectOption(label="-", value="0")],
                row=2,
            )
        )
        self.owner_id = owner_id
        self.sort = sort
        self.scope = scope
        self.member_id = member_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> GalleryCharacterSelect:
        return cls(
            int(match["owner"]),
            SORTS[match["sort"]],
            SCOPES[match["scope"]],
            int(match["member"]),
        )

    async def callback(self, interaction: discord.Interaction) -> None:
        await for_owner_only(interaction, self.owner_id, lambda: self._filter(interaction))

    async def _filter(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        request = requested_page(
            interaction,
            self,
            # Not "or None": a forged "0" must be refused, not show every picture.
            character_id=int(self.item.values[0]),
        )
        await show_page(interaction, request)


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    GalleryNavButton,
    GalleryOpenSelect,
    GalleryCharacterSelect,
)


# --------------------------------------------------------------------------- rendering


async def show_page(interaction: discord.Interaction, request: GalleryRequest) -> None:
    """Render ``request`` into the interaction's message (after a defer)."""

    async def name_of(user_id: int) -> str:
        return await display_name(interaction, user_id)

    page = await services(interaction).gallery.show(
        request,
        locale_of(interaction),
        name_of=name_of,
        guild_name=interaction.guild.name if interaction.guild is not None else "",
        is_admin=is_admin(interaction),
    )
    embed, file, view = gallery_message(interaction, page)
    await interaction.edit_original_response(embed=embed, attachments=[file], view=view)


def gallery_message(
    interaction: discord.Interaction, page: GalleryPage
) -> tuple[discord.Embed, discord.File, discord.ui.View]:
    request = page.request
    filename = f"gallery-{request.page + 1}.jpg"
    embed = discord.Embed(
        title=truncate(escape_member_text(page.title), 256), colour=GALLERY_COLOUR
    )
    embed.set_image(url=f"attachment://{filename}")
    lines = []
    if page.character is not None:
        lines.append(tr(interaction, "gallery.embed.owner", user=f"<@{page.character.owner_id}>"))
        if page.lineage is not None:
            lines.extend(lineage_lines(interaction, page.lineage))
    elif request.owner_filter is not None:
        lines.append(tr(interaction, "gallery.embed.member", user=f"<@{request.owner_filter}>"))
    if page.entries:
        lines.append(tr(interaction, "gallery.embed.hint", emoji=Markdown(page.favorite_emoji)))
    embed.description = truncate("\n".join(lines), 4096) or None
    embed.set_footer(text=truncate(page.subtitle, 2048))
    file = discord.File(io.BytesIO(page.sheet), filename=filename)
    return embed, file, gallery_view(interaction, page)


def gallery_view(interaction: discord.Interaction, page: GalleryPage) -> discord.ui.View:
    request = page.request
    owner = request.viewer_id
    member = request.member_id or 0
    character = request.character_id or 0
    view = discord.ui.View(timeout=None)

    def nav(tag: str, target: int, cursor: Keyset | None = None, **kwargs: Any) -> GalleryNavButton:
        sort = kwargs.pop("sort", request.sort)
        char = kwargs.pop("character", character)
        return GalleryNavButton(
            tag, owner, target, sort, request.scope, member, char, cursor, **kwargs
        )

    for button in _page_buttons(interaction, page, nav):
        view.add_item(button)
    if page.entries:
        opener = GalleryOpenSelect(owner, _picture_options(interaction, page))
        opener.item.placeholder = truncate(tr(interaction, "gallery.select.open"), 150)
        view.add_item(opener)

    character_options = _character_options(interaction, page)
    if character_options:
        chooser = GalleryCharacterSelect(
            owner, request.sort, request.scope, member, character_options
        )
        key = "gallery.select.lineage" if request.character_id else "gallery.select.character"
        chooser.item.placeholder = truncate(tr(interaction, key), 150)
        view.add_item(chooser)
    return view


Nav = Callable[..., GalleryNavButton]


def _page_buttons(
    interaction: discord.Interaction, page: GalleryPage, nav: Nav
) -> list[GalleryNavButton]:
    """◀ ▶, the other order, and "all characters" when the page shows one character."""
    request = page.request
    first = Keyset.of(page.entries[0].image) if page.entries else None
    last = Keyset.of(page.entries[-1].image) if page.entries else None
    other: GallerySort = "favorites" if request.sort == "newest" else "newest"
    buttons = [
        nav(
            "p",
            max(0, request.page - 1),
            first,
            emoji="◀️",
            label=tr(interaction, "gallery.button.previous"),
            disabled=not page.has_previous,
        ),
        nav(
            "n",
            request.page + 1,
            last,
            emoji="▶️",
            label=tr(interaction, "gallery.button.next"),
            disabled=not page.has_next,
        ),
        nav(
            "s",
            0,
            sort=other,
            emoji="⭐" if other == "favorites" else "🕒",
            label=tr(interaction, f"gallery.button.sort_{other}"),
        ),
    ]
    if request.character_id is not None:
        buttons.append(
            nav("a", 0, character=0, emoji="🖼️", label=tr(interaction, "gallery.button.all"))
        )
    return buttons


def _picture_options(
    interaction: discord.Interaction, page: GalleryPage
) -> list[discord.SelectOption]:
    """One option per picture on the page, numbered as on the sheet."""
    return [
        discord.SelectOption(
            label=truncate(
                tr_plain(
                    interaction,
                    "gallery.option.picture",
                    number=page.number_of(index),
                    name=page.labels[index],
                ),
                100,
            ),
            value=str(entry.image.id),
            description=truncate(
                tr(
                    interaction,
                    "gallery.option.picture_detail",
                    id=entry.image.id,
                    stars=entry.image.favorite_count,
                ),
                100,
            ),
        )
        for index, entry in enumerate(page.entries)
    ]


def _character_options(
    interaction: discord.Interaction, page: GalleryPage
) -> list[discord.SelectOption]:
    """The characters on this page; or, when showing one, its ancestors and forks."""
    options: list[discord.SelectOption] = []
    if page.character is not None:
        lineage = page.lineage
        related = [
            *(("gallery.option.ancestor", c) for c in (lineage.ancestors if lineage else [])),
            *(("gallery.option.fork", c) for c in (lineage.forks if lineage else [])),
        ]
        for key, c in related[:25]:
            options.append(
                discord.SelectOption(
                    label=truncate(tr_plain(interaction, key, name=c.name), 100),
                    value=str(c.id),
                    description=truncate(
                        tr(interaction, "gallery.option.character_detail", id=c.id), 100
                    ),
                )
            )
        return options
    seen: set[int] = set()
    for entry in page.entries:
        cid = entry.image.character_id
        if cid in seen:
            continue
        seen.add(cid)
        options.append(
            discord.SelectOption(
                label=truncate(entry.character_name, 100),
                value=str(cid),
                description=truncate(
                    tr(interaction, "gallery.option.character_detail", id=cid), 100
                ),
            )
        )
    return options[:25]


# --------------------------------------------------------------------------- opening


async def open_picture(interaction: discord.Interaction, image_id: int) -> None:
    """Post one picture full size with its usual embed and buttons.

    Pictures of a private character are shown only to their owner (ephemeral); public
    ones are posted for everyone and remembered, so reactions on the copy count too.
    """
    svc = services(interaction)
    guild_id = interaction.guild_id or 0
    opened = await svc.pictures.open_picture(
        guild_id, interaction.user.id, image_id, is_admin=is_admin(interaction)
    )
    private = opened.character.private
    await interaction.response.defer(thinking=True, ephemeral=private)
    built = await build_picture_message(
        catalog=svc.catalog,
        store=svc.store,
        locale=locale_of(interaction),
        character=opened.character,
        images=[opened.image],
        requester_id=opened.image.owner_id,
        style_key=opened.style_key,
        size_key=opened.size_key,
        file_limit=interaction.filesize_limit,
    )
    if opened.image.scene_id is not None:
        # A scene shows others' characters too: its own buttons, whose consent rules and
        # maker-only Re-roll hold here as under its post (cogs/_shared/scene_buttons.py).
        built.view = scene_view(svc.catalog, locale_of(interaction), [opened.image])
    message = await interaction.edit_original_response(
        content=tr(interaction, "gallery.opened", user=f"<@{interaction.user.id}>"),
        embeds=built.embeds,
        attachments=built.files,
        view=built.view,
    )
    if not private and interaction.channel_id is not None:
        await svc.pictures.record_post(
            guild_id=guild_id,
            channel_id=interaction.channel_id,
            message_id=message.id,
            image_id=opened.image.id,
        )
