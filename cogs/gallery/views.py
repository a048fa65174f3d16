"""The gallery message: contact sheet, embed, page buttons and the two menus.

Every component is a ``DynamicItem`` whose custom_id carries the page state, so the
buttons keep working after a restart. A page belongs to the member who opened it;
anyone else pressing is told to run /gallery themselves.

custom_ids (all under 100 characters):

* ``gal:<tag>:<owner>:<page>:<sort>:<scope>:<member or 0>:<character or 0>[:<cursor>]``
  buttons; ``tag`` is p(revious), n(ext), s(ort) or a(ll characters), so ids stay unique.
  ``cursor`` (◀ and ▶ only) is the picture the page reads past: ``<id>`` for "newest",
  ``<favorite count>.<id>`` for "favorites" (◀: the first one shown, read backwards; ▶: the
  last one shown), so a deep page is an index seek, not an OFFSET walk. At most
  4+2+21+7+4+21+11+18 = 88 characters. Buttons posted without a cursor still work.
* ``gal:o:<owner>`` the "open a picture" menu (values are picture ids).
* ``gal:c:<owner>:<sort>:<scope>:<member or 0>`` the character menu (values are ids).
"""

from __future__ import annotations

import io
import logging
import re
import uuid
from collections import OrderedDict
from typing import Any

import discord

from bot.errors import BotError
from bot.gallery import GalleryPage, GalleryRequest, Lineage, Scope
from bot.i18n import Markdown, escape_member_text
from bot.records import Character, GallerySort, Keyset
from cogs._shared.context import is_admin, locale_of, services, tr, tr_plain
from cogs._shared.errors import unwrap
from cogs._shared.reply import error_text
from cogs.pictures.message import build_picture_message, truncate

__all__ = [
    "DYNAMIC_ITEMS",
    "GalleryCharacterSelect",
    "GalleryNavButton",
    "GalleryOpenSelect",
    "component_error",
    "display_name",
    "show_page",
]

log = logging.getLogger(__name__)

GALLERY_COLOUR = discord.Colour.from_rgb(255, 107, 165)
_SORTS: dict[str, GallerySort] = {"n": "newest", "f": "favorites"}
_SORT_CODES = {v: k for k, v in _SORTS.items()}
_SCOPES: dict[str, Scope] = {"m": "mine", "s": "server"}
_SCOPE_CODES = {v: k for k, v in _SCOPES.items()}
_SQLITE_MAX = 2**63 - 1


# --------------------------------------------------------------------------- helpers


async def component_error(interaction: discord.Interaction, error: BaseException) -> None:
    """A private message about a failure, leaving the gallery message where it is.

    (The shared handler removes the deferred response, which here is the gallery itself.)
    """
    error = unwrap(error)
    if not isinstance(error, BotError):
        reference = uuid.uuid4().hex[:8]
        log.error(
            "Unexpected error in a gallery component (reference %s, user %s, guild %s)",
            reference,
            interaction.user.id,
            interaction.guild_id,
            exc_info=error,
        )
        error = BotError("error.unexpected", reference=reference)
    text = error_text(interaction, error)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException:
        log.warning("Could not tell the member about an error", exc_info=True)


_NAMES: OrderedDict[tuple[int, int], str] = OrderedDict()
_NAMES_MAX = 2048


def remember_name(guild_id: int, user_id: int, name: str) -> None:
    _NAMES[(guild_id, user_id)] = name
    _NAMES.move_to_end((guild_id, user_id))
    while len(_NAMES) > _NAMES_MAX:
        _NAMES.popitem(last=False)


async def display_name(interaction: discord.Interaction, user_id: int) -> str:
    """A member's display name for text drawn into pictures ("" if unknown).

    The bot has no member intent, so others are fetched once and remembered.
    """
    guild = interaction.guild
    if interaction.user.id == user_id:
        return interaction.user.display_name
    if guild is None:
        return ""
    cached = _NAMES.get((guild.id, user_id))
    if cached is not None:
        return cached
    member = guild.get_member(user_id)
    if member is None:
        try:
            member = await guild.fetch_member(user_id)
        except discord.HTTPException:
            return ""
    remember_name(guild.id, user_id, member.display_name)
    return member.display_name


def is_ephemeral(message: discord.Message | None) -> bool:
    return message is not None and message.flags.ephemeral


async def not_yours(interaction: discord.Interaction) -> None:
    await interaction.response.send_message(tr(interaction, "gallery.not_yours"), ephemeral=True)


# --------------------------------------------------------------------------- components


class GalleryNavButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=(
        r"gal:(?P<tag>[pnsa]):(?P<owner>\d+):(?P<page>\d+):(?P<sort>[nf]):(?P<scope>[ms])"
        r":(?P<member>\d+):(?P<character>\d+)(?::(?:(?P<stars>\d+)\.)?(?P<after>\d+))?"
    ),
):
    def __init__(
        self,
        tag: str,
        owner_id: int,
        page: int,
        sort: GallerySort,
        scope: Scope,
        member_id: int,
        character_id: int,
        cursor: Keyset | None = None,
        *,
        label: str = "",
        emoji: str | None = None,
        disabled: bool = False,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    ) -> None:
        custom_id = (
            f"gal:{tag}:{owner_id}:{page}:{_SORT_CODES[sort]}:{_SCOPE_CODES[scope]}"
            f":{member_id}:{character_id}"
        )
        if cursor is not None:
            stars = f"{cursor.favorite_count}." if sort == "favorites" else ""
            custom_id += f":{stars}{cursor.image_id}"
        super().__init__(
            discord.ui.Button(
                label=label[:80] or None,
                emoji=emoji,
                style=style,
                disabled=disabled,
                custom_id=custom_id,
                row=0,
            )
        )
        self.owner_id = owner_id
        self.page = page
        self.sort = sort
        self.scope = scope
        self.member_id = member_id
        self.character_id = character_id
        self.cursor = cursor
        self.backward = tag == "p"  # ◀ reads the pictures before its cursor

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> GalleryNavButton:
        cursor = None
        if match["after"] is not None:
            # Clamped to SQLite's integer range: a forged id then finds no row past it
            # instead of failing to bind.
            cursor = Keyset(
                min(int(match["after"]), _SQLITE_MAX), min(int(match["stars"] or 0), _SQLITE_MAX)
            )
        return cls(
            match["tag"],
            int(match["owner"]),
            int(match["page"]),
            _SORTS[match["sort"]],
            _SCOPES[match["scope"]],
            int(match["member"]),
            int(match["character"]),
            cursor,
        )

    async def callback(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.owner_id:
            await not_yours(interaction)
            return
        try:
            await interaction.response.defer()
            request = GalleryRequest(
                guild_id=interaction.guild_id or 0,
                viewer_id=self.owner_id,
                page=self.page,
                sort=self.sort,
                scope=self.scope,
                member_id=self.member_id or None,
                character_id=self.character_id or None,
                include_private=is_ephemeral(interaction.message),
                cursor=self.cursor,
                backward=self.backward,
            )
            await show_page(interaction, request)
        except Exception as error:
            await component_error(interaction, error)


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
        if interaction.user.id != self.owner_id:
            await not_yours(interaction)
            return
        try:
            await open_picture(interaction, int(self.item.values[0]))
        except Exception as error:
            await component_error(interaction, error)


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
                custom_id=(
                    f"gal:c:{owner_id}:{_SORT_CODES[sort]}:{_SCOPE_CODES[scope]}:{member_id}"
                ),
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
            _SORTS[match["sort"]],
            _SCOPES[match["scope"]],
            int(match["member"]),
        )

    async def callback(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.owner_id:
            await not_yours(interaction)
            return
        try:
            await interaction.response.defer()
            request = GalleryRequest(
                guild_id=interaction.guild_id or 0,
                viewer_id=self.owner_id,
                sort=self.sort,
                scope=self.scope,
                member_id=self.member_id or None,
                character_id=int(self.item.values[0]),
                include_private=is_ephemeral(interaction.message),
            )
            await show_page(interaction, request)
        except Exception as error:
            await component_error(interaction, error)


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


def lineage_lines(interaction: discord.Interaction, lineage: Lineage) -> list[str]:
    """ "Forked from" and "Forks" lines, names in bold (and escaped: they are members' text)."""

    def bold(characters: list[Character], separator: str) -> Markdown:
        return Markdown(separator.join(f"**{escape_member_text(c.name)}**" for c in characters))

    lines = []
    if lineage.ancestors:
        names = bold(lineage.ancestors, " ← ")
        lines.append(tr(interaction, "gallery.embed.forked_from", names=names))
    if lineage.forks:
        lines.append(tr(interaction, "gallery.embed.forks", names=bold(lineage.forks, ", ")))
    return lines


def gallery_message(
    interaction: discord.Interaction, page: GalleryPage
) -> tuple[discord.Embed, discord.File, discord.ui.View]:
    request = page.request
    filename = f"gallery-{request.page + 1}.png"
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
    file = discord.File(io.BytesIO(page.png), filename=filename)
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

    first = Keyset.of(page.entries[0].image) if page.entries else None
    last = Keyset.of(page.entries[-1].image) if page.entries else None
    view.add_item(
        nav(
            "p",
            max(0, request.page - 1),
            first,
            emoji="◀️",
            label=tr(interaction, "gallery.button.previous"),
            disabled=not page.has_previous,
        )
    )
    view.add_item(
        nav(
            "n",
            request.page + 1,
            last,
            emoji="▶️",
            label=tr(interaction, "gallery.button.next"),
            disabled=not page.has_next,
        )
    )
    other: GallerySort = "favorites" if request.sort == "newest" else "newest"
    view.add_item(
        nav(
            "s",
            0,
            sort=other,
            emoji="⭐" if other == "favorites" else "🕒",
            label=tr(interaction, f"gallery.button.sort_{other}"),
        )
    )
    if request.character_id is not None:
        view.add_item(
            nav(
                "a",
                0,
                character=0,
                emoji="🖼️",
                label=tr(interaction, "gallery.button.all"),
            )
        )

    if page.entries:
        options = [
            discord.SelectOption(
                label=truncate(
                    tr_plain(
                        interaction,
                        "gallery.option.picture",
                        number=page.number_of(index),
                        name=entry.character_name,
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
        opener = GalleryOpenSelect(owner, options)
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
