"""Rasa custom actions: thin wrappers, one module per domain area, over bot.services."""
