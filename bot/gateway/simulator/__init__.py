"""The local web chat simulator (`/`, `/simulator/…`): a WeChat-like page posting real WeChat XML
to /wechat. Run by the gateway process, outside production only (`SIMULATOR_ENABLED`)."""
from bot.gateway.simulator.views import setup_simulator

__all__ = ["setup_simulator"]
