import pytest

from bolt_app.crypto import generate_key
from bolt_app.errors import ConfigError
from bolt_app.settings import Settings


def test_defaults_from_an_empty_environment():
    settings = Settings.from_environ({})
    assert settings == Settings()
    assert settings.database_url == "sqlite:///ml_connector.db"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.port == 3000
    assert settings.encryption_keys == ()


def test_every_variable_is_read_and_secrets_stay_out_of_repr():
    keys = [generate_key(), generate_key()]
    environ = {
        "DATABASE_URL": "postgresql://mlc@db/mlc",
        "MLC_ENCRYPTION_KEYS": f" {keys[0]} , {keys[1]} ,",
        "SLACK_SIGNING_SECRET": "signing-secret-value",
        "SLACK_CLIENT_ID": "123.456",
        "SLACK_CLIENT_SECRET": "client-secret-value",
        "SLACK_BOT_TOKEN": "xoxb-bot-token-value",
        "SLACK_APP_TOKEN": "xapp-app-token-value",
        "SLACK_API_URL": "http://127.0.0.1:9999/api",
        "PORT": "8080",
        "MLC_DEMO_CHANNEL": "C0DEMO001",
    }
    settings = Settings.from_environ(environ)
    assert settings.encryption_keys == tuple(keys)
    assert settings.slack_api_url == "http://127.0.0.1:9999/api/"
    assert (settings.port, settings.demo_channel, settings.slack_client_id) == (
        8080,
        "C0DEMO001",
        "123.456",
    )
    secrets = [*keys, "signing-secret-value", "client-secret-value", "xoxb-bot", "xapp-app"]
    assert all(secret not in repr(settings) for secret in secrets)
    assert set(settings.secret_values()) >= {*keys, "xoxb-bot-token-value", "client-secret-value"}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "http"),
        ("PORT", "70000"),
        ("SLACK_BOT_TOKEN", "xoxp-user-token"),
        ("SLACK_APP_TOKEN", "xoxb-not-an-app-token"),
        ("SLACK_API_URL", "slack.com/api"),
        ("MLC_DEMO_CHANNEL", "#general"),
    ],
)
def test_a_bad_value_names_its_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_environ({name: value})


def test_two_key_sources_at_once_are_refused():
    with pytest.raises(ConfigError, match="either MLC_ENCRYPTION_KEYS or MLC_KMS_KEY_ID"):
        Settings.from_environ({"MLC_ENCRYPTION_KEYS": generate_key(), "MLC_KMS_KEY_ID": "k"})
