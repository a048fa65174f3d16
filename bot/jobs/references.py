"""Which stored pictures a variation may send to OpenAI as references, decided at run time.

A queued job can wait minutes; meanwhile pictures are deleted, characters made private and
servers switch to a private gallery. So the references are chosen when the job runs (and,
for a quick answer, once at submission), from the rows as they are then:

- only pictures of the job's character or of the characters it was forked from (its
  lineage), and of those only the ones the job's member may see now (:mod:`bot.access`);
  never a scene picture, which shows other members' characters too;
- most important first: the character's newest reference sheet (it carries more of the
  character than any single pose: front, side, back and expressions), then the picture
  being varied and the main picture (their order set by the strength), then the
  character's most-favorited pictures;
- nothing usable left: the character's own newest picture, else the main picture of the
  nearest original the member may still see (a fork that has no picture of its own yet).

An empty answer means there is nothing to work from: the job fails, clearly, and is refunded.
"""

from __future__ import annotations

from bot.access import may_see
from bot.records import Character, ImageKind, StoredImage
from bot.storage import Storage

__all__ = [
    "MAX_FAVORITE_REFERENCES",
    "MAX_REFERENCES",
    "MAX_VARIATION_REFERENCES",
    "SCENE_REFERENCES_PER_CHARACTER",
    "lineage",
    "scene_references",
    "variation_references",
]

# API facts §3: the edits endpoint takes at most 16 images.
MAX_REFERENCES = 16
MAX_FAVORITE_REFERENCES = 3
# The most a variation sends: the sheet, the picture varied, the main picture, the favorites.
MAX_VARIATION_REFERENCES = 3 + MAX_FAVORITE_REFERENCES
# A scene sends each character's first references (its sheet or main picture first), as
# many as there is room for.
SCENE_REFERENCES_PER_CHARACTER = 2
# Forks of forks: how far back a lineage is followed.
MAX_LINEAGE = 16


async def lineage(storage: Storage, character: Character, member_id: int) -> list[Character]:
    """The character, then the originals it was forked from that ``member_id`` may see.

    The walk stops at the first original the member may not see (deleted, made private,
    or hidden by a private gallery): nothing beyond it is reachable either.
    """
    config = await storage.guilds.config(character.guild_id)
    chain = [character]
    seen = {character.id}
    parent_id = character.forked_from_id
    while parent_id is not None and parent_id not in seen and len(chain) < MAX_LINEAGE:
        seen.add(parent_id)
        parent = await storage.characters.get(parent_id)
        if parent is None or not may_see(parent, member_id, config):
            break
        chain.append(parent)
        parent_id = parent.forked_from_id
    return chain


async def variation_references(
    storage: Storage,
    character: Character,
    member_id: int,
    *,
    parent_image_id: int | None,
    strong: bool = False,
    sheet_first: bool = True,
) -> list[StoredImage]:
    """The pictures a variation of ``character`` by ``member_id`` sends, best first.

    ``sheet_first``: lead with the newest reference sheet of the lineage (the character's
    own before its originals'); False where the first picture must be a pose (the picture a
    variation starts from, the picture a cut-out redraws).
    """
    chain = await lineage(storage, character, member_id)
    allowed = {c.id for c in chain}

    async def usable(image_id: int | None) -> StoredImage | None:
        if image_id is None:
            return None
        image = await storage.images.get(image_id)
        if image is None or image.guild_id != character.guild_id or image.scene_id is not None:
            # A scene picture is filed under one character but shows others, whose consent
            # only a scene job checks (bot/jobs/scene_cast.py): never a variation's reference.
            return None
        return image if image.character_id in allowed else None

    first = [parent_image_id, character.canonical_image_id]
    if strong:
        first.reverse()
    if sheet_first:
        sheet = await storage.images.newest_of_kind([c.id for c in chain], ImageKind.SHEET)
        if sheet is not None:
            first.insert(0, sheet.id)
    favorites = await storage.images.top_favorites(
        character.id, limit=MAX_FAVORITE_REFERENCES + len(first)
    )
    chosen: list[StoredImage] = []
    extra = 0
    for image_id in [*first, *(f.id for f in favorites)]:
        image = await usable(image_id)
        if image is None or any(c.id == image.id for c in chosen):
            continue
        is_favorite = image_id not in first
        if is_favorite:
            if extra >= MAX_FAVORITE_REFERENCES:
                break
            extra += 1
        chosen.append(image)
    if not chosen:
        own = await storage.images.for_character(character.id, limit=1)
        chosen = own[:1]
    if not chosen:
        for original in chain[1:]:
            image = await usable(original.canonical_image_id)
            if image is not None:
                chosen = [image]
                break
    return chosen[:MAX_REFERENCES]


async def scene_references(
    storage: Storage, character: Character, member_id: int, *, limit: int
) -> list[StoredImage]:
    """The pictures one character of a scene sends, best first: the variation choice
    (its reference sheet if it has one, the main picture, then most-favorited), kept to
    the character's own pictures.

    Only its own: a fork's original may belong to a member who keeps their character out
    of scenes, and a scene picture shows other members' characters too.
    """
    chosen = await variation_references(storage, character, member_id, parent_image_id=None)
    own = [i for i in chosen if i.character_id == character.id and i.scene_id is None]
    return own[: max(0, limit)]
