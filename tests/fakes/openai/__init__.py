"""Loopback fake of the OpenAI Images + Moderations API for end-to-end tests.

    async with FakeOpenAI(latency=0.0) as fake:
        env = fake.env()  # OPENAI_BASE_URL / OPENAI_API_KEY for the bot process
        fake.inject("rate_limit", retry_after=0.2)
        fake.hold()
        ...
        await fake.wait_for_requests(1, endpoint="images")
        fake.release()

Controls (all on FakeOpenAI):

* ``latency``: seconds each image request takes, the fake's own drawing included (streams:
  spread over the events).
* ``requests`` / ``image_requests`` / ``requests_for(endpoint)``: RecordedRequest list.
* ``in_flight`` / ``max_in_flight`` / ``held_count``.
* ``inject(kind, times=1, **options)`` / ``pending_faults`` / ``clear_faults()``; kinds in
  ``faults.FaultKind``. Faults hit valid requests only, after the hold gate.
* ``hold()`` / ``release(n=None)`` / ``release_hangs()``.
* ``wait_for_requests(n, timeout=10, endpoint=None)`` / ``wait_for(predicate, timeout=10)``:
  event-driven; raise AssertionError listing what was seen.
* ``flag_text(substring, category)`` (moderations) / ``block_text(substring, category)``
  (image prompts answer 400 moderation_blocked).
* ``rate_limit(images_per_minute)`` / ``rate_limited_count``.
* ``sse_done``: also end streams with ``data: [DONE]`` (off by default).
* ``reset()``, ``env()``, ``base_url``, ``api_key``.

Order inside an image request: auth (401) -> parse -> record -> validation (400/404) ->
images-per-minute budget (429) -> hold gate -> injected fault -> block_text -> latency ->
answer.

Modules: ``server`` (FakeOpenAI and the HTTP handlers), ``validation`` (the API's parameter
rules), ``images`` (pictures, partials, token usage), ``faults`` (fault queue, hold gate,
rate limiter), ``moderation`` (moderation results), ``errors`` (error bodies),
``records`` (RecordedRequest / Upload).
"""

from .errors import ApiError
from .faults import FAULT_KINDS, Fault, FaultKind
from .images import decode_image, expected_color
from .moderation import CATEGORIES as MODERATION_CATEGORIES
from .records import RecordedRequest, Upload
from .server import DEFAULT_API_KEY, FakeOpenAI
from .validation import MODELS, RETIRED_MODELS

__all__ = [
    "DEFAULT_API_KEY",
    "FAULT_KINDS",
    "MODELS",
    "MODERATION_CATEGORIES",
    "RETIRED_MODELS",
    "ApiError",
    "FakeOpenAI",
    "Fault",
    "FaultKind",
    "RecordedRequest",
    "Upload",
    "decode_image",
    "expected_color",
]
