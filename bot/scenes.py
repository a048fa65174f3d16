"""Scenes: members' characters meet in one picture (SceneService).

A scene is an edit request whose reference images show two to four characters, each
named in the prompt with its sheet. It goes through the same queue, quotas, budget,
moderation and limits as any job (bot/jobs/submit.py), charged to the member who asked.
Who may be in it is bot/jobs/scene_cast.py's one rule, applied here when the member asks
and again when the job runs. The pictures are stored once (bot/storage/scenes.py) and
linked to every character in them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from bot.access import visible_character
from bot.errors import NotAllowed, NotFound, UserInputError
from bot.images.prompts import CHANGE_LIMIT, clean_text
from bot.images.service import ImageService
from bot.images.styles import SIZES, STYLES
from bot.jobs.scene_cast import MAX_SCENE_CHARACTERS, MIN_SCENE_CHARACTERS, scene_refusal
from bot.jobs.shape import known, shape_request
from bot.jobs.submit import PictureRequests, Requester
from bot.records import Character, GuildConfig, SceneJobRequest, StoredImage, Submitted
from bot.storage import Storage
from bot.storage.scenes import SceneMember

__all__ = ["SCENE_DEFAULT_SIZE", "SETTING_LIMIT", "SceneRequest", "SceneService"]

log = logging.getLogger(__name__)

SETTING_LIMIT = CHANGE_LIMIT
# A scene has several characters side by side: wide by default.
SCENE_DEFAULT_SIZE = "landscape"


@dataclass(frozen=True, slots=True)
class SceneRequest:
    character_ids: list[int]
    setting: str
    style: str | None = None
    size: str | None = None
    count: int = 1


class SceneService:
    def __init__(self, storage: Storage, requests: PictureRequests, images: ImageService) -> None:
        self.storage = storage
        self.requests = requests
        self.images = images

    # --- asking for one ------------------------------------------------------------------

    async def request_scene(self, who: Requester, request: SceneRequest) -> Submitted:
        """Queue a new scene; every refusal comes before anything is paid or reserved."""
        return await self._submit(
            who,
            request.character_ids,
            SceneJobRequest(
                size="",
                size_key=request.size or SCENE_DEFAULT_SIZE,
                style=request.style,
                setting=request.setting,
            ),
            count=request.count,
        )

    async def request_reroll(self, who: Requester, image_id: int) -> Submitted:
        """The scene that made ``image_id`` again (its maker only), with today's consent:
        the characters it shows now (one deleted since, or left out when it was drawn,
        is not asked for again)."""
        image, asked = await self._scene_picture(who, image_id)
        if image.owner_id != who.user_id:
            raise NotAllowed("error.reroll_not_owner")
        job = await self.storage.jobs.get(image.job_id or 0)
        count = job.image_count if job is not None else 1
        ids = await self._shown(image, asked)
        return await self._submit(who, ids, asked, count=count, clamp=True)

    async def check_vary(self, who: Requester, image_id: int) -> None:
        """Refuse now what :meth:`request_vary` would refuse for who may be in the scene:
        cheap reads, before the form opens, so nobody types a change to lose it."""
        image, asked = await self._scene_picture(who, image_id)
        await self._permitted_cast(who, await self._shown(image, asked))

    async def request_vary(self, who: Requester, image_id: int, change: str) -> Submitted:
        """An edit of this scene picture with ``change``, charged to whoever asks."""
        image, asked = await self._scene_picture(who, image_id)
        edit = replace(asked, base_image_id=image.id, change=change)
        return await self._submit(who, await self._shown(image, asked), edit, count=1, clamp=True)

    async def _shown(self, image: StoredImage, asked: SceneJobRequest) -> list[int]:
        """The characters a scene picture shows, in prompt order (what was asked for, if
        none is linked)."""
        members = await self.storage.scenes.members(image.scene_id or 0)
        return [m.character.id for m in members] or list(asked.character_ids)

    async def _scene_picture(
        self, who: Requester, image_id: int
    ) -> tuple[StoredImage, SceneJobRequest]:
        image = await self.storage.images.get(image_id)
        if image is None or image.guild_id != who.guild_id or image.scene_id is None:
            raise NotFound("error.image_gone")
        await visible_character(self.storage, who.guild_id, who.user_id, image.character_id)
        job = await self.storage.jobs.get(image.job_id or 0)
        if job is None or not isinstance(job.request, SceneJobRequest):
            raise NotFound("error.image_gone")
        return image, job.request

    async def _submit(
        self,
        who: Requester,
        character_ids: list[int],
        asked: SceneJobRequest,
        *,
        count: int,
        clamp: bool = False,
    ) -> Submitted:
        config, cast = await self._permitted_cast(who, character_ids)
        setting = clean_text(asked.setting, SETTING_LIMIT)
        if not setting:
            raise UserInputError("scene.error.setting_empty")
        change = clean_text(asked.change, CHANGE_LIMIT)
        style, size_key, count = shape_request(
            config,
            style=known(asked.style, STYLES) if clamp else asked.style,
            size_key=asked.size_key,
            count=count,
            clamp_count=clamp,
        )
        await self.requests.check_room(who, count)  # before the paid moderation call
        await self.images.check_prompt("\n".join(t for t in (setting, change) if t))
        request = replace(
            asked,
            size=SIZES[size_key],
            size_key=size_key,
            style=style,
            setting=setting,
            change=change,
            character_ids=tuple(c.id for c in cast),
        )
        # Its reservation counts each character's references (bot/reservations.py).
        return await self.requests.enqueue_scene(
            who, lead_id=cast[0].id, count=count, request=request
        )

    async def _permitted_cast(
        self, who: Requester, character_ids: list[int]
    ) -> tuple[GuildConfig, list[Character]]:
        """The server's settings and the characters, if it draws scenes and this member may
        put them all in one now (asked when the scene is requested, and before a Vary scene
        form opens)."""
        config = await self.storage.guilds.config(who.guild_id)
        if config.scenes == "off":
            raise NotAllowed("scene.error.off")
        return config, await self.check_cast(who, character_ids)

    async def check_cast(self, who: Requester, character_ids: list[int]) -> list[Character]:
        """The characters, in order, if this member may put all of them in a scene now."""
        ids = list(character_ids)
        if len(set(ids)) != len(ids):
            raise UserInputError("scene.error.twice")
        if not MIN_SCENE_CHARACTERS <= len(ids) <= MAX_SCENE_CHARACTERS:
            raise UserInputError("scene.error.how_many")
        config = await self.storage.guilds.config(who.guild_id)
        cast: list[Character] = []
        for character_id in ids:
            character = await self.storage.characters.get(character_id)
            if character is None:
                raise NotFound("error.character_not_found")
            refusal = scene_refusal(character, who.user_id, config)
            if refusal is not None:
                raise NotAllowed(refusal, name=character.name)
            if character.canonical_image_id is None:
                raise NotFound("scene.error.no_picture", name=character.name)
            cast.append(character)
        return cast

    # --- what a scene is and who manages it ----------------------------------------------

    async def members(self, scene_id: int) -> list[SceneMember]:
        """The characters in a scene, in prompt order (for its embed)."""
        return await self.storage.scenes.members(scene_id)

    async def hide_from_listings(self, who: Requester, image_id: int) -> list[str]:
        """The scene of ``image_id`` leaves the listings of the member's characters in it;
        their names. Only an owner of a character in it may."""
        image = await self.storage.images.get(image_id)
        if image is None or image.guild_id != who.guild_id or image.scene_id is None:
            raise NotFound("error.image_gone")
        members = await self.storage.scenes.members(image.scene_id)
        hidden = await self.storage.scenes.hide_for_owner(image.scene_id, who.user_id)
        if not hidden:
            raise NotAllowed("scene.error.hide_not_owner")
        return [m.character.name for m in members if m.character.id in hidden]

    async def set_scenes_allowed(
        self, guild_id: int, actor_id: int, character_id: int, allowed: bool
    ) -> Character:
        """Let others put one of the owner's characters in their scenes, or not."""
        character = await visible_character(self.storage, guild_id, actor_id, character_id)
        if character.owner_id != actor_id:
            raise NotAllowed("scene.error.switch_not_owner")
        await self.storage.scenes.set_allowed(guild_id, character.id, allowed)
        return replace(character, scenes_allowed=allowed)

    async def count_for(self, character_id: int) -> int:
        """How many scenes a character is shown in (its card says "in 3 scenes")."""
        return await self.storage.scenes.count_for_character(character_id)
