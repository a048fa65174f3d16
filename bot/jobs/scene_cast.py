"""Who may be in a scene, decided by one rule, at request time and again at run time.

**Consent.** A member may always put their own characters in a scene. Another member's
character only when all of these hold: the server lets members use others' characters
(``/config scenes any``), the server's gallery is public, the character is not private,
and its owner has not switched it out of others' scenes (``/character scenes``). A server
set to ``off`` allows no scene at all.

**At run time** the rule is applied again to the characters as they are then: one made
private or opted out while the job waited is not sent. If at least two characters remain,
the scene is drawn without it (the embed names only who is in it); with fewer than two,
the job fails with a private explanation and is refunded (:class:`SceneConsentWithdrawn`).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.access import sees_others
from bot.errors import ContentRefused
from bot.jobs.references import MAX_REFERENCES, SCENE_REFERENCES_PER_CHARACTER, scene_references
from bot.records import Character, GuildConfig, Job, SceneJobRequest, StoredImage
from bot.storage import Storage

__all__ = [
    "MAX_SCENE_CHARACTERS",
    "MIN_SCENE_CHARACTERS",
    "CastMember",
    "SceneConsentWithdrawn",
    "cast_at_run",
    "scene_base",
    "scene_refusal",
]

MIN_SCENE_CHARACTERS = 2
MAX_SCENE_CHARACTERS = 4


class SceneConsentWithdrawn(ContentRefused):
    """Fewer than two characters may still be used: explained privately, like a refusal."""

    message_key = "scene.error.withdrawn"
    log_reason = "not drawn: consent withdrawn while waiting, fewer than two characters left"


def scene_refusal(character: Character, requester_id: int, config: GuildConfig) -> str | None:
    """Why ``requester_id`` may not put ``character`` in a scene here (a message key), or
    None when they may. Pure: the same answer at request time and at run time."""
    if config.scenes == "off":
        return "scene.error.off"
    if character.guild_id != config.guild_id:
        return "error.character_not_found"
    if character.owner_id == requester_id:
        return None
    if character.private or not sees_others(config):
        # Not visible to this member at all: the same answer as any unknown character.
        return "error.character_not_found"
    if config.scenes != "any":
        return "scene.error.own_only"
    if not character.scenes_allowed:
        return "scene.error.opted_out"
    return None


@dataclass(frozen=True, slots=True)
class CastMember:
    """A character a scene job really sends, and its reference pictures."""

    character: Character
    references: list[StoredImage]


async def cast_at_run(storage: Storage, job: Job) -> list[CastMember]:
    """The characters of a scene job that may be used now, in prompt order, with their
    references (16 images at most in all, a Vary-scene's base picture counted).

    Raises :class:`SceneConsentWithdrawn` when fewer than two are left.
    """
    request = job.request
    assert isinstance(request, SceneJobRequest)
    config = await storage.guilds.config(job.guild_id)
    room = MAX_REFERENCES - (1 if request.base_image_id is not None else 0)
    cast: list[CastMember] = []
    for character_id in dict.fromkeys(request.character_ids):
        character = await storage.characters.get(character_id)
        if character is None or scene_refusal(character, job.user_id, config) is not None:
            continue
        share = min(SCENE_REFERENCES_PER_CHARACTER, room)
        references = await scene_references(storage, character, job.user_id, limit=share)
        if not references:
            continue  # nothing to show what it looks like
        room -= len(references)
        cast.append(CastMember(character, references))
    if len(cast) < MIN_SCENE_CHARACTERS:
        raise SceneConsentWithdrawn()
    return cast


async def scene_base(storage: Storage, job: Job, cast: list[CastMember]) -> StoredImage | None:
    """The scene picture a Vary-scene edits, if it may still be sent: a scene picture of
    this server whose characters are all in the cast allowed now. A scene that shows a
    character withdrawn meanwhile is not sent; the scene is drawn afresh instead."""
    request = job.request
    assert isinstance(request, SceneJobRequest)
    if request.base_image_id is None:
        return None
    base = await storage.images.get(request.base_image_id)
    if base is None or base.guild_id != job.guild_id or base.scene_id is None:
        return None
    allowed = {member.character.id for member in cast}
    shown = await storage.scenes.members(base.scene_id)
    if not shown or any(m.character.id not in allowed for m in shown):
        return None
    return base
