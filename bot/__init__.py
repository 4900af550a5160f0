"""Zhinan gateway: WeChat channel, simulator, staff console and shared services."""
