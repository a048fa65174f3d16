"""/character create, end to end: the real bot process through both fakes."""

from __future__ import annotations

import io

from PIL import Image

from tests.botproc import BotProcess
from tests.e2e.conftest import World
from tests.e2e.helpers import (
    ONE_PICTURE_BUTTONS,
    button,
    button_actions,
    created,
    db_value,
    finished,
    picture_size,
    refusal,
)
from tests.fakes.discord import ATTACH_FILES, Upload
from tests.fakes.discord.models import Guild
from tests.fakes.openai import FakeOpenAI


async def test_create_with_description_posts_the_picture_with_buttons(
    bot: BotProcess, world: World
) -> None:
    alice = world.guild.add_member("alice")
    world.openai.hold()  # keep the job running so the progress states can be seen
    h = await alice.slash(
        "character create",
        name="Aiko",
        description="silver hair, red eyes, school uniform",
        style="watercolor",
    )
    ack = await h.wait_ack(timeout=3.5)
    assert ack.type == 5  # deferred: acknowledged at once, the work happens later

    await world.openai.wait_for_requests(1, endpoint="generations")
    # The finished picture waits until the preview was shown (one still on its way when
    # the picture is ready is dropped, see test_speed.py).
    world.openai.hold_finals()
    world.openai.release()
    await h.wait_original(lambda m: "Aiko" in (m.content or "") and bool(m.attachments), 20)
    world.openai.release_finals()
    message = await h.wait_original(finished, timeout=20)

    request = world.openai.image_requests[0]
    assert request.model == "gpt-image-2.5-flare"
    assert request.size == "1024x1536"
    assert request.stream and request.partial_images == 1
    for fact in ("Aiko", "silver hair, red eyes, school uniform", "watercolor"):
        assert fact in (request.prompt or "")
    moderation = world.openai.requests_for("moderations")
    assert moderation and "silver hair" in str(moderation[0].fields)

    # Progress was shown: a "drawing" state with the streamed preview attached.
    states = [*message.history, message]
    assert any("Aiko" in (s.content or "") and s.attachments for s in states[:-1]), states

    assert len(message.attachments) == 1
    assert message.attachments[0].filename.endswith(".png")
    assert picture_size(message.attachments[0].data) == (1024, 1536)
    embed = message.embeds[0]
    assert embed["title"] == "Aiko"
    assert "Soft watercolor" in embed["description"]
    assert f"<@{alice.id}>" in embed["description"]
    assert embed["image"]["url"] == f"attachment://{message.attachments[0].filename}"
    assert button_actions(message) == ONE_PICTURE_BUTTONS
    assert message.allowed_mentions == {"parse": []}
    world.discord.assert_no_violations()
    # At INFO the log tells the job, not each HTTP request the OpenAI client made for it.
    assert [line for line in bot.lines if "HTTP Request:" in line] == []


async def test_modal_path_produces_the_same(bot: BotProcess, world: World) -> None:
    bob = world.guild.add_member("bob")
    h = await bob.slash("character create", name="Ren", style="cel")
    await h.wait_ack()
    assert h.modal is not None
    h2 = await h.submit_modal(
        {
            "appearance": "short black hair, golden eyes",
            "outfit": "long grey coat",
            "personality": "calm and curious",
            "details": "",
        }
    )
    message = await h2.wait_original(finished, timeout=20)
    prompt = world.openai.image_requests[0].prompt or ""
    assert "short black hair, golden eyes" in prompt and "long grey coat" in prompt
    assert message.embeds[0]["title"] == "Ren"


async def test_what_would_be_refused_after_a_form_is_refused_before_it(
    bot: BotProcess, world: World
) -> None:
    alice = world.guild.add_member("alice")
    first = await created(alice)
    # A reference that is no picture: refused at once, not after four fields were typed.
    text = Upload("notes.txt", b"hello", "text/plain")
    h = await alice.slash("character create", name="Ren", reference=text)
    assert "PNG, JPEG, WebP or GIF" in await refusal(h)
    assert h.modal is None
    # Nor does a form open where the bot could not post the picture: create, or Vary.
    world.guild.set_bot_channel_permissions(world.guild.default_channel, deny=ATTACH_FILES)
    for pressed in (
        await alice.slash("character create", name="Ren"),
        await alice.click(first, button(first, "vary")),
    ):
        assert "Attach Files" in await refusal(pressed)
        assert pressed.modal is None
    assert db_value(world.data_dir, "SELECT COUNT(*) FROM jobs") == 1


async def test_four_pictures_in_one_message_and_a_reference_becomes_an_edit(
    bot: BotProcess, fake_openai: FakeOpenAI, guild: Guild
) -> None:
    carol = guild.add_member("carol")
    h = await carol.slash("character create", name="Mio", description="pink twin tails", count=4)
    message = await h.wait_original(finished, timeout=20)
    assert len(message.attachments) == 4
    assert fake_openai.image_requests[-1].n == 4

    reference = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 120, 200)).save(reference, "JPEG")
    h2 = await carol.slash(
        "character create",
        name="Sora",
        description="blue hair like the reference",
        reference=Upload("ref.jpg", reference.getvalue(), "image/jpeg"),
    )
    await h2.wait_original(finished, timeout=20)
    edit = fake_openai.requests_for("edits")[-1]
    assert len(edit.images) == 1
    assert edit.images[0].content_type == "image/png"
    assert edit.images[0].data.startswith(b"\x89PNG")
    assert picture_size(edit.images[0].data) == (300, 200)


async def test_chinese_description_works_end_to_end(
    bot: BotProcess, fake_openai: FakeOpenAI, guild: Guild
) -> None:
    mei = guild.add_member("mei", locale="zh-CN")
    h = await mei.slash("character create", name="小雪", description="银色长发，红色眼睛，穿着校服")
    message = await h.wait_original(finished, timeout=20)
    assert "银色长发，红色眼睛，穿着校服" in (fake_openai.image_requests[0].prompt or "")
    assert message.embeds[0]["title"] == "小雪"
    # A zh-CN member reads Chinese.
    assert "画风" in message.embeds[0]["description"]


async def test_refused_prompt_gets_a_private_explanation_and_costs_nothing(
    bot: BotProcess, world: World
) -> None:
    world.openai.flag_text("forbidden-thing", category="violence")
    dan = world.guild.add_member("dan")
    h = await dan.slash("character create", name="Bad", description="a forbidden-thing here")
    notice = await world.discord.wait_for_message(
        lambda m: m.ephemeral and "content filter" in (m.content or ""), timeout=10
    )
    assert notice is not None
    assert not world.openai.image_requests  # nothing was paid for
    await world.discord.wait_for(lambda _: h.original is None or h.original.deleted, timeout=5)
    assert db_value(world.data_dir, "SELECT COUNT(*) FROM jobs") == 0
    assert db_value(world.data_dir, "SELECT COUNT(*) FROM characters") == 0


async def test_mentions_in_text_never_ping(bot: BotProcess, guild: Guild) -> None:
    eve = guild.add_member("eve")
    h = await eve.slash(
        "character create", name="@everyone", description="<@&123> **bold** `code` @here"
    )
    message = await h.wait_original(finished, timeout=20)
    for state in [*message.history, message]:
        assert state.allowed_mentions in (None, {"parse": []}) or state.allowed_mentions == {
            "parse": [],
            "replied_user": False,
        }
    assert message.embeds[0]["title"] == "@everyone"


async def test_the_servers_model_tier_sets_the_render_quality(
    bot: BotProcess, fake_openai: FakeOpenAI, guild: Guild
) -> None:
    admin = guild.add_member("admin", admin=True)
    h = await admin.slash("config model", tier="economy")
    await h.wait_ack()
    await h.wait_original(lambda m: "Saved" in (m.content or ""), timeout=10)
    alice = guild.add_member("alice")
    made = await alice.slash("character create", name="Aiko", description="silver hair")
    await made.wait_original(finished, timeout=20)
    assert fake_openai.image_requests[-1].quality == "low"


async def test_transparent_background_gives_a_png_with_real_transparency(
    bot: BotProcess, fake_openai: FakeOpenAI, guild: Guild
) -> None:
    alice = guild.add_member("alice")
    h = await alice.slash(
        "character create", name="Aiko", description="sticker", background="transparent"
    )
    message = await h.wait_original(finished, timeout=20)
    request = fake_openai.image_requests[0]
    assert request.background == "transparent" and request.output_format == "png"
    picture = Image.open(io.BytesIO(message.attachments[0].data))
    assert picture.mode == "RGBA" and picture.getextrema()[3][0] == 0  # some pixels see-through
