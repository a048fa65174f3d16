"""What a test member can do: run slash commands, autocomplete, click buttons, pick select
options, submit modals, react and post messages. Before dispatching, the fake checks what
Discord's client checks (synced schema, option types/limits, permissions, visibility) and
raises InteractionRejected instead of sending something a real client could not send."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from .permissions import (
    ADD_REACTIONS,
    ADMINISTRATOR,
    ATTACH_FILES,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    USE_APPLICATION_COMMANDS,
    VIEW_CHANNEL,
    missing,
)
from .records import Message, MessageState, Upload, walk_components

if TYPE_CHECKING:
    from .fake import FakeDiscord
    from .interactions import InteractionHandle
    from .models import Channel, Emoji, Guild, User


class InteractionRejected(Exception):
    """The fake Discord client refused to send this interaction (as the real client would)."""


_INT_RANGE = 2**53
# The least time between Discord showing a modal and its member pressing Submit (a guess;
# Discord documents none): see Member._submit_modal.
MODAL_REACTION_SECONDS = 0.2
_OPTION_TYPE_NAMES = {
    1: "SUB_COMMAND",
    2: "SUB_COMMAND_GROUP",
    3: "STRING",
    4: "INTEGER",
    5: "BOOLEAN",
    6: "USER",
    7: "CHANNEL",
    8: "ROLE",
    9: "MENTIONABLE",
    10: "NUMBER",
    11: "ATTACHMENT",
}


class MemberActions:
    """Mixin for models.Member."""

    if TYPE_CHECKING:
        fake: FakeDiscord
        guild: Guild
        user: User
        locale: str
        role_ids: list[int]

        @property
        def id(self) -> int: ...

        @property
        def name(self) -> str: ...

        @property
        def permissions(self) -> int: ...

        def permissions_in(self, channel: Channel) -> int: ...

        def payload(
            self, *, with_user: bool = True, permissions: int | None = None
        ) -> dict[str, Any]: ...

    # ------------------------------------------------------------------------------------
    # slash commands and autocomplete
    # ------------------------------------------------------------------------------------
    def _command_leaf(
        self, command: str, channel: Channel, *, force: bool
    ) -> tuple[dict[str, Any], list[str], list[dict[str, Any]]]:
        parts = command.strip().lstrip("/").split()
        if not parts:
            raise InteractionRejected("empty command path")
        cmd = self.fake._find_command(self.guild, parts[0])
        if cmd is None:
            known = sorted(
                {c["name"] for s in (self.guild.id, None) for c in self.fake._commands.get(s, [])}
            )
            raise InteractionRejected(f"/{parts[0]} is not a synced command here (synced: {known})")
        options = list(cmd.get("options") or [])
        path: list[str] = []
        for part in parts[1:]:
            sub = next((o for o in options if o.get("type") in (1, 2) and o["name"] == part), None)
            if sub is None:
                choices = [o["name"] for o in options if o.get("type") in (1, 2)]
                raise InteractionRejected(
                    f"/{' '.join([parts[0], *path])} has no subcommand {part!r} ({choices})"
                )
            path.append(part)
            options = list(sub.get("options") or [])
        if any(o.get("type") in (1, 2) for o in options):
            choices = [o["name"] for o in options if o.get("type") in (1, 2)]
            raise InteractionRejected(f"/{command} is a group; pick a subcommand: {choices}")
        if not force:
            self._check_can_invoke(cmd, channel)
        return cmd, path, options

    def _check_can_invoke(self, cmd: dict[str, Any], channel: Channel) -> None:
        perms = self.permissions_in(channel)
        lacking = missing(perms, VIEW_CHANNEL | USE_APPLICATION_COMMANDS)
        if lacking:
            raise InteractionRejected(
                f"{self.name} cannot use commands in #{channel.name}: lacks {lacking}"
            )
        required = cmd.get("default_member_permissions")
        if required is not None:
            need = int(required)
            guild_perms = self.permissions
            if not guild_perms & ADMINISTRATOR and (need == 0 or guild_perms & need != need):
                raise InteractionRejected(
                    f"{self.name} cannot see /{cmd['name']}: default_member_permissions={need} "
                    f"(missing {missing(guild_perms, need) or ['ADMINISTRATOR']}); "
                    "pass force=True to bypass"
                )
        contexts = cmd.get("contexts")
        if contexts is not None and 0 not in contexts:
            raise InteractionRejected(
                f"/{cmd['name']} is not available in guilds (contexts={contexts})"
            )
        if cmd.get("nsfw") and not channel.nsfw:
            raise InteractionRejected(
                f"/{cmd['name']} is age-restricted; #{channel.name} is not NSFW"
            )

    def _option_value(
        self,
        opt: dict[str, Any],
        value: Any,
        resolved: dict[str, dict[str, Any]],
        channel: Channel,
        *,
        strict: bool,
    ) -> Any:
        from .models import Channel as ChannelModel
        from .models import Member, Role, User

        name, otype = opt["name"], opt["type"]
        tname = _OPTION_TYPE_NAMES.get(otype, str(otype))

        def reject(why: str) -> InteractionRejected:
            return InteractionRejected(f"option {name!r} ({tname}): {why} (got {value!r})")

        if otype == 3:
            if not isinstance(value, str):
                raise reject("expected str")
            lo, hi = opt.get("min_length", 0), opt.get("max_length", 6000)
            if strict and not lo <= len(value) <= hi:
                raise reject(f"length must be {lo}..{hi}")
        elif otype in (4, 10):
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or (otype == 4 and not isinstance(value, int))
            ):
                raise reject("expected int" if otype == 4 else "expected a number")
            if strict:
                lo, hi = opt.get("min_value", -_INT_RANGE), opt.get("max_value", _INT_RANGE)
                if not lo <= value <= hi:
                    raise reject(f"must be between {lo} and {hi}")
        elif otype == 5:
            if not isinstance(value, bool):
                raise reject("expected bool")
        elif otype in (6, 9) and isinstance(value, Member | User):
            user = value.user if isinstance(value, Member) else value
            resolved.setdefault("users", {})[str(user.id)] = user.payload()
            if isinstance(value, Member):
                perms = value.permissions_in(channel)
                resolved.setdefault("members", {})[str(user.id)] = value.payload(
                    with_user=False, permissions=perms
                )
            return str(user.id)
        elif otype in (8, 9) and isinstance(value, Role):
            resolved.setdefault("roles", {})[str(value.id)] = value.payload()
            return str(value.id)
        elif otype == 7 and isinstance(value, ChannelModel):
            types = opt.get("channel_types")
            if strict and types and value.type not in types:
                raise reject(f"channel type {value.type} not in channel_types {types}")
            resolved.setdefault("channels", {})[str(value.id)] = {
                "id": str(value.id),
                "name": value.name,
                "type": value.type,
                "permissions": str(self.permissions_in(value)),
                "parent_id": None if value.parent_id is None else str(value.parent_id),
                "nsfw": value.nsfw,
                "position": value.position,
                "flags": 0,
                "rate_limit_per_user": 0,
                "last_message_id": None,
                "topic": value.topic,
            }
            return str(value.id)
        elif otype == 11 and isinstance(value, Upload):
            limit = self.guild.filesize_limit
            if strict and len(value.data) > limit:
                raise reject(f"file is {len(value.data)} bytes, the upload limit is {limit}")
            att = self.fake._store_file(value, channel.id, ephemeral=True)
            resolved.setdefault("attachments", {})[str(att.id)] = self.fake.attachment_payload(att)
            return str(att.id)
        else:
            raise reject("wrong kind of value for this option type")
        choices = opt.get("choices")
        if strict and choices and value not in [c["value"] for c in choices]:
            raise reject(f"must be one of the choices {[c['value'] for c in choices]}")
        return value

    def _build_options(
        self,
        schema: list[dict[str, Any]],
        values: dict[str, Any],
        channel: Channel,
        *,
        focused: str | None = None,
        focused_value: Any = None,
        strict: bool = True,
    ) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
        by_name = {o["name"]: o for o in schema}
        unknown = [k for k in values if k not in by_name]
        if focused is not None and focused not in by_name:
            unknown.append(focused)
        if unknown:
            raise InteractionRejected(
                f"unknown option(s) {unknown}; this command takes {list(by_name)}"
            )
        resolved: dict[str, dict[str, Any]] = {}
        out: list[dict[str, Any]] = []
        for opt in schema:
            name = opt["name"]
            if name == focused:
                if not opt.get("autocomplete"):
                    raise InteractionRejected(
                        f"option {name!r} has no autocomplete in the synced schema"
                    )
                out.append(
                    {"name": name, "type": opt["type"], "value": focused_value, "focused": True}
                )
            elif name in values:
                value = self._option_value(
                    opt, values[name], resolved, channel, strict=strict and focused is None
                )
                out.append({"name": name, "type": opt["type"], "value": value})
            elif opt.get("required") and focused is None:
                raise InteractionRejected(f"required option {name!r} is missing")
        return out, resolved

    def _command_data(
        self,
        cmd: dict[str, Any],
        path: list[str],
        options: list[dict[str, Any]],
        resolved: dict[str, dict[str, Any]],
    ) -> dict[str, Any]:
        nested = options
        for depth in range(len(path) - 1, -1, -1):
            nested = [
                {"name": path[depth], "type": 1 if depth == len(path) - 1 else 2, "options": nested}
            ]
        data: dict[str, Any] = {"id": cmd["id"], "name": cmd["name"], "type": 1}
        if nested:
            data["options"] = nested
        if resolved:
            data["resolved"] = resolved
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        return data

    async def slash(
        self,
        command: str,
        channel: Channel | None = None,
        *,
        force: bool = False,
        modified_client: bool = False,
        options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> InteractionHandle:
        """Run ``/command`` ("group sub" for subcommands). Options as keyword arguments (or
        ``options={...}`` for names that are not Python identifiers, or clash with ``channel``):
        str/int/float/bool, Member/User, Role, Channel, or Upload for attachment options.

        ``force=True`` skips the client-side permission checks (default_member_permissions,
        USE_APPLICATION_COMMANDS...) to exercise the bot's own checks; option validation stays.
        ``modified_client=True`` sends what a patched client would: values outside the
        option's choices, lengths or ranges, as the bot must not trust Discord's UI."""
        channel = channel or self.guild.default_channel
        values = {**(options or {}), **kwargs}
        cmd, path, schema = self._command_leaf(command, channel, force=force)
        built, resolved = self._build_options(schema, values, channel, strict=not modified_client)
        data = self._command_data(cmd, path, built, resolved)
        return self.fake._start_interaction(
            type=2,
            data=data,
            member=self._as_member(),
            channel=channel,
            label=" ".join([cmd["name"], *path]),
        )

    async def autocomplete(
        self,
        command: str,
        *,
        focused: str,
        value: Any = "",
        channel: Channel | None = None,
        options: dict[str, Any] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> list[dict[str, Any]]:
        """Type ``value`` into option ``focused``; return the bot's choices. Raises
        AssertionError when the bot does not answer in time or answers invalid choices."""
        channel = channel or self.guild.default_channel
        values = {**(options or {}), **kwargs}
        cmd, path, schema = self._command_leaf(command, channel, force=False)
        built, resolved = self._build_options(
            schema, values, channel, focused=focused, focused_value=value
        )
        data = self._command_data(cmd, path, built, resolved)
        focused_type = next(o["type"] for o in schema if o["name"] == focused)
        handle = self.fake._start_interaction(
            type=4,
            data=data,
            member=self._as_member(),
            channel=channel,
            label=f"{' '.join([cmd['name'], *path])} [autocomplete {focused}]",
            focused_option_type=focused_type,
        )
        await handle.wait_ack(timeout if timeout is not None else handle.record.ack_deadline + 0.5)
        if handle.callback is None or handle.callback.type != 8 or handle.record.choices is None:
            raise AssertionError(f"autocomplete was not answered with choices: {handle.attempts}")
        return handle.record.choices

    # ------------------------------------------------------------------------------------
    # components and modals
    # ------------------------------------------------------------------------------------
    def _as_member(self) -> Any:
        return self

    def _component_target(
        self, message: Message | int, custom_id: str, kinds: tuple[int, ...]
    ) -> tuple[Message, dict[str, Any], Channel]:
        from .models import Channel as ChannelModel

        msg = message if isinstance(message, Message) else self.fake.message(int(message))
        if msg.deleted:
            raise InteractionRejected(f"message {msg.id} was deleted")
        channel = msg.channel
        if not isinstance(channel, ChannelModel) or channel.guild is not self.guild:
            raise InteractionRejected(f"message {msg.id} is not in {self.guild.name!r}")
        if msg.ephemeral and (msg.interaction is None or msg.interaction.member is not self):
            raise InteractionRejected(f"{self.name} cannot see ephemeral message {msg.id}")
        if not self.permissions_in(channel) & VIEW_CHANNEL:
            raise InteractionRejected(f"{self.name} cannot see #{channel.name}")
        comp = msg.component(custom_id)
        if comp is None:
            raise InteractionRejected(
                f"message {msg.id} has no component {custom_id!r} (has {msg.custom_ids})"
            )
        if comp.get("type") not in kinds:
            raise InteractionRejected(
                f"component {custom_id!r} is type {comp.get('type')}, not {kinds}"
            )
        if comp.get("disabled"):
            raise InteractionRejected(f"component {custom_id!r} is disabled")
        return msg, comp, channel

    async def click(self, message: Message | int, custom_id: str) -> InteractionHandle:
        """Click the button ``custom_id`` on a message (its current state)."""
        msg, comp, channel = self._component_target(message, custom_id, (2,))
        if comp.get("style") in (5, 6):
            raise InteractionRejected(
                f"button {custom_id!r} is a link/premium button; clicking sends no interaction"
            )
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": 2}
        if "id" in comp:
            data["id"] = comp["id"]
        return self._component_interaction(msg, channel, data)

    async def select(
        self, message: Message | int, custom_id: str, values: list[Any]
    ) -> InteractionHandle:
        """Pick ``values`` in a select menu: option values for string selects; Members, Roles or
        Channels for entity selects."""
        msg, comp, channel = self._component_target(message, custom_id, (3, 5, 6, 7, 8))
        lo, hi = comp.get("min_values", 1), comp.get("max_values", 1)
        if not lo <= len(values) <= hi:
            raise InteractionRejected(
                f"select {custom_id!r} takes {lo}..{hi} values, got {len(values)}"
            )
        ctype = comp["type"]
        resolved: dict[str, dict[str, Any]] = {}
        out = self._picked(comp, values, channel, resolved)
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": ctype, "values": out}
        if resolved:
            data["resolved"] = resolved
        return self._component_interaction(msg, channel, data)

    def _component_interaction(
        self, message: Message, channel: Channel, data: dict[str, Any]
    ) -> InteractionHandle:
        """A MESSAGE_COMPONENT interaction (a click or a pick) on ``message``."""
        return self.fake._start_interaction(
            type=3,
            data=data,
            member=self._as_member(),
            channel=channel,
            label=data["custom_id"],
            message=message,
        )

    def _picked(
        self,
        comp: dict[str, Any],
        values: list[Any],
        channel: Channel,
        resolved: dict[str, dict[str, Any]],
    ) -> list[str]:
        """Values a select (string, user, role, mentionable, channel) or checkbox group sends;
        entities become ids plus ``resolved`` data."""
        from .models import Channel as ChannelModel
        from .models import Member, Role

        ctype, custom_id = comp["type"], comp["custom_id"]
        if ctype in (3, 22):
            allowed = [o["value"] for o in comp.get("options", [])]
            bad = [v for v in values if v not in allowed]
            if bad:
                raise InteractionRejected(
                    f"{custom_id!r} has no option(s) {bad}; options: {allowed}"
                )
            return [str(v) for v in values]
        out: list[str] = []
        for value in values:
            if isinstance(value, Member) and ctype in (5, 7):
                resolved.setdefault("users", {})[str(value.id)] = value.user.payload()
                resolved.setdefault("members", {})[str(value.id)] = value.payload(
                    with_user=False, permissions=value.permissions_in(channel)
                )
            elif isinstance(value, Role) and ctype in (6, 7):
                resolved.setdefault("roles", {})[str(value.id)] = value.payload()
            elif isinstance(value, ChannelModel) and ctype == 8:
                resolved.setdefault("channels", {})[str(value.id)] = value.payload() | {
                    "permissions": str(self.permissions_in(value))
                }
            else:
                raise InteractionRejected(f"{value!r} cannot be picked in a type {ctype} select")
            out.append(str(value.id))
        return out

    async def _submit_modal(
        self,
        handle: InteractionHandle,
        values: dict[str, Any],
        *,
        timeout: float,
    ) -> InteractionHandle:
        rec = handle.record
        await handle.wait_ack(timeout)
        # A member sees the modal only once Discord's answer reached the bot (discord.py
        # registers a modal after the HTTP response that opened it returns): submitting before
        # would race that, which no member can do.
        await self.fake.wait_for(
            lambda _f: rec.callback is not None and rec.callback.delivered,
            timeout=timeout,
            what=f"the answer to {rec!r} to reach the bot",
        )
        delivered_at = rec.callback.delivered_at if rec.callback else None
        if delivered_at is not None:
            # Reaching the bot's socket is not yet being read: discord.py registers the
            # modal a few turns of its event loop after the bytes arrive, and a submit sent
            # at once raced that (and lost, on a fast run). A member cannot be that quick:
            # Discord shows the modal only after the callback, and pressing Submit takes a
            # human moment. MODAL_REACTION_SECONDS is that moment, a guess on the low side.
            wait = delivered_at + MODAL_REACTION_SECONDS - asyncio.get_running_loop().time()
            if wait > 0:
                await asyncio.sleep(wait)
        if rec.modal is None or rec.callback is None or rec.callback.type != 9:
            cb_type = rec.callback.type if rec.callback else None
            raise InteractionRejected(
                f"the bot did not open a modal for {rec.label!r} (callback type {cb_type})"
            )
        modal = rec.modal
        fields = [
            c["custom_id"] for c in walk_components(modal.get("components", [])) if "custom_id" in c
        ]
        unknown = [k for k in values if k not in fields]
        if unknown:
            raise InteractionRejected(
                f"modal {modal.get('custom_id')!r} has no field(s) {unknown}: {fields}"
            )
        components: list[dict[str, Any]] = []

        resolved: dict[str, dict[str, Any]] = {}

        def submitted(inner: dict[str, Any]) -> dict[str, Any]:
            cid, itype = inner["custom_id"], inner.get("type")
            required = inner.get("required", True)
            out: dict[str, Any] = {"type": itype, "custom_id": cid}
            if "id" in inner:
                out["id"] = inner["id"]
            if itype == 4:  # text input
                value = values.get(cid, inner.get("value") or "")
                if not isinstance(value, str):
                    raise InteractionRejected(f"text input {cid!r} takes a str, got {value!r}")
                if required and not value:
                    raise InteractionRejected(f"text input {cid!r} is required")
                lo, hi = inner.get("min_length", 0), inner.get("max_length", 4000)
                if value and not lo <= len(value) <= hi:
                    raise InteractionRejected(
                        f"text input {cid!r} takes {lo}..{hi} characters, got {len(value)}"
                    )
                out["value"] = value
                return out
            if itype == 23:  # checkbox
                value = values.get(cid, False)
                if not isinstance(value, bool):
                    raise InteractionRejected(f"checkbox {cid!r} takes a bool, got {value!r}")
                out["value"] = value
                return out
            if itype == 21:  # radio group
                choice = values.get(cid)
                allowed = [o["value"] for o in inner.get("options", [])]
                if choice is None and required:
                    raise InteractionRejected(f"radio group {cid!r} is required")
                if choice is not None and choice not in allowed:
                    raise InteractionRejected(f"radio group {cid!r} has no option {choice!r}")
                out["value"] = choice
                return out
            picked = values.get(cid, [])
            picked = [picked] if isinstance(picked, str | Upload) else list(picked)
            lo, hi = inner.get("min_values", 1 if required else 0), inner.get("max_values", 1)
            if not lo <= len(picked) <= hi and (picked or required):
                raise InteractionRejected(f"{cid!r} takes {lo}..{hi} values, got {len(picked)}")
            if itype == 19:  # file upload
                ids = []
                for upload in picked:
                    if not isinstance(upload, Upload):
                        raise InteractionRejected(f"file upload {cid!r} takes Upload objects")
                    att = self.fake._store_file(upload, rec.channel.id, ephemeral=True)
                    resolved.setdefault("attachments", {})[str(att.id)] = (
                        self.fake.attachment_payload(att)
                    )
                    ids.append(str(att.id))
                out["values"] = ids
            else:
                out["values"] = self._picked(inner, picked, rec.channel, resolved)
            return out

        for comp in modal.get("components", []):
            ctype = comp.get("type")
            if ctype == 1:
                row = [submitted(c) for c in comp.get("components", [])]
                components.append({"type": 1, "components": row})
            elif ctype == 18:
                entry: dict[str, Any] = {"type": 18, "component": submitted(comp["component"])}
                if "id" in comp:
                    entry["id"] = comp["id"]
                components.append(entry)
            elif ctype == 10:
                components.append({"type": 10, **({"id": comp["id"]} if "id" in comp else {})})
        data: dict[str, Any] = {"custom_id": modal["custom_id"], "components": components}
        if resolved:
            data["resolved"] = resolved
        return self.fake._start_interaction(
            type=5,
            data=data,
            member=self._as_member(),
            channel=rec.channel,
            label=f"modal {modal['custom_id']}",
            message=rec.message,
            parent=rec,
        )

    # ------------------------------------------------------------------------------------
    # reactions and messages
    # ------------------------------------------------------------------------------------
    def _reaction_key(self, emoji: str | Emoji) -> tuple[str, dict[str, Any]]:
        if isinstance(emoji, str):
            return emoji, {"id": None, "name": emoji}
        return emoji.route_key, emoji.partial()

    def _reactable(self, message: Message | int) -> Message:
        msg = message if isinstance(message, Message) else self.fake.message(int(message))
        if msg.deleted or msg.ephemeral:
            raise InteractionRejected(
                f"cannot react to {'deleted' if msg.deleted else 'ephemeral'} message {msg.id}"
            )
        return msg

    async def react(self, message: Message | int, emoji: str | Emoji) -> None:
        """Add a reaction (unicode str, or a guild Emoji from ``guild.add_emoji``)."""
        from .models import Channel as ChannelModel

        msg = self._reactable(message)
        key, partial = self._reaction_key(emoji)
        if isinstance(msg.channel, ChannelModel):
            need = (
                VIEW_CHANNEL | READ_MESSAGE_HISTORY | (0 if key in msg.reactions else ADD_REACTIONS)
            )
            lacking = missing(self.permissions_in(msg.channel), need)
            if lacking:
                raise InteractionRejected(
                    f"{self.name} cannot react in #{msg.channel.name}: lacks {lacking}"
                )
        if key not in msg.reactions and len(msg.reactions) >= 20:
            raise InteractionRejected(f"message {msg.id} already has 20 distinct reactions")
        self.fake._add_reaction(msg, self.user, key, partial)

    async def unreact(self, message: Message | int, emoji: str | Emoji) -> None:
        msg = self._reactable(message)
        key, _ = self._reaction_key(emoji)
        self.fake._remove_reaction(msg, self.user, key)

    async def say(
        self,
        channel: Channel | None = None,
        content: str = "",
        *,
        attachments: list[Upload] | tuple[Upload, ...] = (),
    ) -> Message:
        """Post a message as this member (MESSAGE_CREATE; content only with MESSAGE_CONTENT)."""
        channel = channel or self.guild.default_channel
        need = VIEW_CHANNEL | SEND_MESSAGES | (ATTACH_FILES if attachments else 0)
        lacking = missing(self.permissions_in(channel), need)
        if lacking:
            raise InteractionRejected(
                f"{self.name} cannot post in #{channel.name}: lacks {lacking}"
            )
        if not content and not attachments:
            raise InteractionRejected("cannot send an empty message")
        fake = self.fake
        now = fake.clock.now()
        stored = tuple(fake._store_file(u, channel.id) for u in attachments)
        state = MessageState(
            content=content,
            embeds=[],
            components=[],
            attachments=stored,
            flags=0,
            allowed_mentions=None,
            tts=False,
            edited_at=None,
            recorded_at=now,
            via=f"member {self.name}",
        )
        msg = Message(
            id=fake._new_id(), channel=channel, author=self.user, created_at=now, state=state
        )
        fake._add_message(msg)
        return msg
