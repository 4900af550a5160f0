"""Shared test helpers (Rasa double, gateway under test, own redis-server, network checks).

Imported by the test modules under tests/; pytest runs them, nothing else does.
"""
