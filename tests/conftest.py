"""Shared fixtures live in `tests/fixtures/*`; each is registered here as a plugin."""

pytest_plugins: list[str] = [
    "tests.fixtures.database",
    "tests.fixtures.pki",
    "tests.fixtures.simulator",
    "tests.fixtures.workspace",
    "tests.fixtures.slack",
    "tests.fixtures.delivery",
    "tests.fixtures.polling",
]
