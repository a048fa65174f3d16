"""``python -m bot``: the only way to start the bot."""

import sys

from bot.main import run

sys.exit(run())
