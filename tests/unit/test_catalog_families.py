"""Messages whose key the code builds from a value (``queue.kind_{kind}``): every value the
code can hold has its text in every language, so a member never reads a fallback instead."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, get_args

import pytest

from bot.i18n import LOCALES, Catalog
from bot.images.decode import RejectReason
from bot.jobs.board import ListedJob
from bot.records import JobKind, JobState
from cogs.queue import describe_job

CATALOG = Catalog.load()


def _interaction(locale: str) -> Any:
    services = SimpleNamespace(catalog=CATALOG)
    return SimpleNamespace(
        client=SimpleNamespace(services=services), locale=locale, guild_locale=None
    )


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", list(JobKind))
def test_every_kind_of_job_is_named_in_the_queue_list(
    locale: str, kind: JobKind, caplog: pytest.LogCaptureFixture
) -> None:
    """/queue names each waiting job's kind in the member's language: a scene reads
    "scene", not the generic "Something went wrong" that stands in for a missing text."""
    job = SimpleNamespace(id=7, kind=kind, user_id=42, state=JobState.QUEUED)
    listed = ListedJob(job=job, position=1, eta_seconds=60)  # type: ignore[arg-type]
    line = describe_job(_interaction(locale), listed)
    for fallback in {CATALOG.plain(locale, "error.generic"), CATALOG.plain("en", "error.generic")}:
        assert fallback not in line
    assert f"queue.kind_{kind}" in CATALOG.messages[locale]
    assert CATALOG.plain(locale, f"queue.kind_{kind}") in line
    assert "Missing catalog key" not in caplog.text


@pytest.mark.parametrize("locale", LOCALES)
def test_every_reason_an_upload_is_refused_has_its_message(locale: str) -> None:
    """bot/jobs/submit.py answers a refused reference picture with ``error.upload_<reason>``."""
    for reason in get_args(RejectReason):
        assert f"error.upload_{reason}" in CATALOG.messages[locale], reason


@pytest.mark.parametrize("locale", LOCALES)
def test_a_missing_text_reads_as_the_members_own_apology_and_is_logged(
    locale: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Should a key ever be missing, the member reads the generic apology in their own
    language (never the key), and the log names the key."""
    assert CATALOG.t(locale, "queue.kind_nothing") == CATALOG.messages[locale]["error.generic"]
    assert "queue.kind_nothing" in caplog.text
