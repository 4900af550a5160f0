"""Plain Chinese-text helpers (places, times, normalisation) and the jieba/lookup generator, no Rasa inside.
Imported by every process: Rasa's components, the actions, the services and the gateway's console."""
