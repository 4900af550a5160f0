"""Zhinan's code. The gateway process (`python -m bot.main`) runs most of it; Rasa's workers load
bot.nlu, bot.dialogue and bot.rasa_*; the action server runs bot.action_server and bot.services."""
