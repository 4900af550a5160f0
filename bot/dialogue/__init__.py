"""Rasa dialogue-policy components of Zhinan (they run inside Rasa's processes)."""
