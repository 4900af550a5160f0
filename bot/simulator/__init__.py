"""The local web chat simulator: a WeChat-like page that talks through the real WeChat path."""
from bot.simulator.views import setup_simulator

__all__ = ["setup_simulator"]
