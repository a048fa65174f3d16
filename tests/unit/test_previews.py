"""Previews are asked for only while few jobs draw (issue 27), whatever order jobs come in."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.jobs.previews import PREVIEWS_UP_TO, PreviewRelay


async def _never(_notice: Any) -> None:
    return None


def _relay() -> PreviewRelay:
    settings: Any = SimpleNamespace(progress_edit_seconds=1.5)
    return PreviewRelay(settings, _never)


# Each step starts a new job (True) or ends the oldest drawing job (False).
steps = st.lists(st.booleans(), min_size=1, max_size=60)


@given(steps)
def test_previews_only_while_few_draw_and_every_end_frees_its_place(moves: list[bool]) -> None:
    """Invariant: a job starting gets a preview callback exactly when at most PREVIEWS_UP_TO
    jobs (itself included) are drawing; ended jobs no longer count."""
    relay = _relay()
    drawing: list[int] = []
    for number, starts in enumerate(moves):
        if starts:
            job: Any = SimpleNamespace(id=number)
            drawing.append(number)
            callback = relay.callback(job)
            assert (callback is not None) == (len(drawing) <= PREVIEWS_UP_TO)
        elif drawing:
            relay.drop(drawing.pop(0))
    for job_id in drawing:
        relay.drop(job_id)
    alone: Any = SimpleNamespace(id=-1)
    assert relay.callback(alone) is not None  # all ended: a lone job has its preview again
