"""Rasa custom actions, one module per area, thin wrappers over bot.services. Run by the action
server process (`python -m actions.server`, rasa-sdk), which Rasa calls over HTTP."""
