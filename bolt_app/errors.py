"""The exception tree of the Slack side, translated to one stderr sentence at the CLI boundary.

    MLConnectorError            anything an operator can act on; str() is the whole message
    ├── ConfigError             a bad setting, workspace-file field or environment variable
    ├── SecretError             missing key, undecryptable ciphertext (never shows the secret)
    └── StorageError            the database failed a command's query (locked, damaged schema)

Errors from the Sage side (`sage.errors.SageError`) are reported the same way by the CLI, with
exit code 1 (the agent failed) instead of 2 (the operator must fix something here).
"""


class MLConnectorError(Exception):
    """An error whose message is meant for the operator, one clear sentence."""


class ConfigError(MLConnectorError):
    """A bad configuration value; the message names the field and where it came from."""


class SecretError(MLConnectorError):
    """A problem with encryption keys or ciphertext; never includes secret material."""


class StorageError(MLConnectorError):
    """The database refused a query; says which database and why, never the SQL parameters."""
