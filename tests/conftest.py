"""Shared fixtures live in `tests/fixtures/*`; each is registered here as a plugin."""

pytest_plugins: list[str] = [
    "tests.fixtures.agent",
    "tests.fixtures.database",
    "tests.fixtures.delivery",
    "tests.fixtures.pki",
    "tests.fixtures.polling",
    "tests.fixtures.simulator",
    "tests.fixtures.slack",
    "tests.fixtures.slack_app",
    "tests.fixtures.workspace",
]
