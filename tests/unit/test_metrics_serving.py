"""The metrics endpoint closes with the bot: its port is free again after ``stop_serving``."""

from __future__ import annotations

import socket
import urllib.request

import pytest

from bot.ops.metrics import Metrics


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_endpoint_answers_until_stopped_and_then_frees_its_port() -> None:
    port = _free_port()
    metrics = Metrics()
    metrics.serve("127.0.0.1", port)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        assert answer.status == 200
        assert b"bot_jobs" in answer.read()  # the bot's own registry, not the default one

    metrics.stop_serving()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5)
    metrics.stop_serving()  # twice is harmless (the bot may close twice on a crash)
