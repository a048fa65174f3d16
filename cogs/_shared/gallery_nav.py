"""The gallery's page button, and the look of the gallery shared with character cards.

A character card (``/character show``) links to the character's gallery with the same
button the gallery's pages use, so the button lives here. Pressing it renders a page,
which is the gallery extension's work: the button hands the request to it as the
``gallery_page`` event (``bot.dispatch``), and ``cogs.gallery`` listens. So neither
extension imports the other.

custom_id: ``gal:<tag>:<owner>:<page>:<sort>:<scope>:<member or 0>:<character or 0>[:<cursor>]``;
``tag`` is p(revious), n(ext), s(ort) or a(ll characters), so ids stay unique. ``cursor`` (◀
and ▶ only) is the picture the page reads past: ``<id>`` for "newest", ``<favorite
count>.<id>`` for "favorites" (◀: the first one shown, read backwards; ▶: the last one
shown), so a deep page is an index seek, not an OFFSET walk. At most
4+2+21+7+4+21+11+18 = 88 characters. Buttons posted without a cursor still work.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import discord

from bot.gallery import GalleryRequest, Lineage, Scope
from bot.i18n import Markdown, escape_member_text
from bot.records import Character, GallerySort, Keyset
from cogs._shared.components import for_owner_only, is_ephemeral
from cogs._shared.context import tr

__all__ = [
    "GALLERY_COLOUR",
    "PAGE_EVENT",
    "SCOPES",
    "SCOPE_CODES",
    "SORTS",
    "SORT_CODES",
    "GalleryNavButton",
    "lineage_lines",
    "requested_page",
]

GALLERY_COLOUR = discord.Colour.from_rgb(255, 107, 165)
# ``bot.dispatch(PAGE_EVENT, interaction, request)`` reaches ``on_gallery_page`` listeners.
PAGE_EVENT = "gallery_page"
SORTS: dict[str, GallerySort] = {"n": "newest", "f": "favorites"}
SORT_CODES = {v: k for k, v in SORTS.items()}
SCOPES: dict[str, Scope] = {"m": "mine", "s": "server"}
SCOPE_CODES = {v: k for k, v in SCOPES.items()}
_SQLITE_MAX = 2**63 - 1


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
            f"gal:{tag}:{owner_id}:{page}:{SORT_CODES[sort]}:{SCOPE_CODES[scope]}"
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
            SORTS[match["sort"]],
            SCOPES[match["scope"]],
            int(match["member"]),
            int(match["character"]),
            cursor,
        )

    async def callback(self, interaction: discord.Interaction) -> None:
        await for_owner_only(interaction, self.owner_id, lambda: self._turn_page(interaction))

    async def _turn_page(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        request = requested_page(
            interaction,
            self,
            character_id=self.character_id or None,
            page=self.page,
            cursor=self.cursor,
            backward=self.backward,
        )
        # The gallery extension renders it (``on_gallery_page``), errors included.
        interaction.client.dispatch(PAGE_EVENT, interaction, request)


class GalleryControl(Protocol):
    """What every gallery control reads from its custom_id: whose gallery, sorted and
    scoped how, and whose pictures (0: everyone's)."""

    owner_id: int
    sort: GallerySort
    scope: Scope
    member_id: int


def requested_page(
    interaction: discord.Interaction,
    control: GalleryControl,
    *,
    character_id: int | None,
    page: int = 0,
    cursor: Keyset | None = None,
    backward: bool = False,
) -> GalleryRequest:
    """The page a gallery control asks for, as the member who opened the gallery sees it:
    private pictures only when the gallery message itself is private."""
    return GalleryRequest(
        guild_id=interaction.guild_id or 0,
        viewer_id=control.owner_id,
        page=page,
        sort=control.sort,
        scope=control.scope,
        member_id=control.member_id or None,
        character_id=character_id,
        include_private=is_ephemeral(interaction.message),
        cursor=cursor,
        backward=backward,
    )


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
