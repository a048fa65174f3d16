"""What a job's reservation against the dollar budgets counts, whatever it draws.

Read when a job is submitted (bot/jobs/submit.py) and again before it is drawn
(bot/quotas.py), so both estimate the same request the same way.
"""

from __future__ import annotations

from bot.jobs.references import MAX_VARIATION_REFERENCES, SCENE_REFERENCES_PER_CHARACTER
from bot.records import CREATOR_KINDS, JobKind, JobRequest
from bot.scene_records import SceneJobRequest

__all__ = ["reservation_inputs"]


def reservation_inputs(
    kind: JobKind, request: JobRequest, reference_path: str | None
) -> tuple[JobKind, int]:
    """(the kind a job is priced as, the most reference pictures it may send).

    Variations and the creator tools are edits with a variation's references, drawn by the
    variation model; a scene sends each character's references and the scene it edits.
    """
    if isinstance(request, SceneJobRequest):
        references = len(request.character_ids) * SCENE_REFERENCES_PER_CHARACTER
        return JobKind.SCENE, references + int(request.base_image_id is not None)
    if kind is JobKind.VARY or kind in CREATOR_KINDS:
        return JobKind.VARY, MAX_VARIATION_REFERENCES
    return kind, int(bool(reference_path))
