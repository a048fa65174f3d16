"""What a job's reservation counts: the one rule submission and the check before drawing
share (bot/reservations.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.jobs.references import MAX_VARIATION_REFERENCES, SCENE_REFERENCES_PER_CHARACTER
from bot.records import CREATOR_KINDS, CreateJobRequest, JobKind, VaryJobRequest
from bot.reservations import reservation_inputs
from bot.scene_records import SceneJobRequest


@given(cast=st.integers(2, 4), edits_a_scene=st.booleans())
def test_a_scene_reserves_each_characters_references_and_the_scene_it_edits(
    cast: int, edits_a_scene: bool
) -> None:
    request = SceneJobRequest(
        "1536x1024",
        character_ids=tuple(range(1, cast + 1)),
        base_image_id=7 if edits_a_scene else None,
    )
    expected = cast * SCENE_REFERENCES_PER_CHARACTER + int(edits_a_scene)
    assert reservation_inputs(JobKind.SCENE, request, None) == (JobKind.SCENE, expected)


def test_edits_reserve_a_variations_references_and_a_create_its_upload() -> None:
    vary = VaryJobRequest("1024x1024", change="waving")
    for kind in (JobKind.VARY, *CREATOR_KINDS):
        assert reservation_inputs(kind, vary, None) == (JobKind.VARY, MAX_VARIATION_REFERENCES)
    create = CreateJobRequest("1024x1024")
    assert reservation_inputs(JobKind.CREATE, create, None) == (JobKind.CREATE, 0)
    assert reservation_inputs(JobKind.CREATE, create, "1/ref.png") == (JobKind.CREATE, 1)
