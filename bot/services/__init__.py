"""Plain domain services (no Rasa, no HTTP inside): shared by the gateway and the actions."""
