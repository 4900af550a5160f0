"""Plain domain services (no Rasa, no HTTP). Imported by the gateway process, the action server
(through actions/), the command-line tools, and Rasa's tracker store (intent counts)."""
