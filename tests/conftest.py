"""Shared fixtures live in `tests/fixtures/*`; each is registered here as a plugin."""

pytest_plugins = ["tests.fixtures.slack"]
