"""Point discord.py's REST and gateway at another host (a proxy, or the test fake)."""

from __future__ import annotations

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

__all__ = ["use_discord_api_base"]


def use_discord_api_base(base: str) -> None:
    """Route REST calls to ``{base}/api/v10`` and the gateway to ``ws(s)://{host}/gateway``."""
    base = base.rstrip("/")
    Route.BASE = f"{base}/api/v10"
    url = yarl.URL(base)
    scheme = "wss" if url.scheme == "https" else "ws"
    DiscordWebSocket.DEFAULT_GATEWAY = url.with_scheme(scheme).with_path("/gateway")
