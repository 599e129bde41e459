"""Where credentials and hosts come from: every environment variable name lives here."""

from __future__ import annotations

from attrs import frozen

#: The API key id (a UUID shown when the key was created).
ENV_KEY_ID = "KALSHI_API_KEY_ID"
#: The private key itself, as PEM text (``\n`` escapes are accepted).
ENV_PRIVATE_KEY = "KALSHI_PRIVATE_KEY"
#: Path of a PEM file holding the private key (used when KALSHI_PRIVATE_KEY is unset).
ENV_PRIVATE_KEY_PATH = "KALSHI_PRIVATE_KEY_PATH"
#: Passphrase of an encrypted PEM private key.
ENV_PRIVATE_KEY_PASSPHRASE = "KALSHI_PRIVATE_KEY_PASSPHRASE"
#: ``production`` (default) or ``demo``.
ENV_ENVIRONMENT = "KALSHI_ENV"

ALL_ENV_VARS = (
    ENV_KEY_ID,
    ENV_PRIVATE_KEY,
    ENV_PRIVATE_KEY_PATH,
    ENV_PRIVATE_KEY_PASSPHRASE,
    ENV_ENVIRONMENT,
)

API_PREFIX = "/trade-api/v2"
WS_PATH = "/trade-api/ws/v2"


@frozen
class Hosts:
    """The REST base URL and websocket URL of one Kalshi environment."""

    name: str
    rest: str
    websocket: str


PRODUCTION = Hosts(
    name="production",
    rest="https://external-api.kalshi.com" + API_PREFIX,
    websocket="wss://external-api-ws.kalshi.com" + WS_PATH,
)
DEMO = Hosts(
    name="demo",
    rest="https://external-api.demo.kalshi.co" + API_PREFIX,
    websocket="wss://external-api-ws.demo.kalshi.co" + WS_PATH,
)
ENVIRONMENTS = {"production": PRODUCTION, "prod": PRODUCTION, "demo": DEMO}


def hosts_for(name: str | None) -> Hosts:
    """The hosts of ``production`` or ``demo``; anything else is a one-line user error."""
    from arbexec.api import ConfigError

    key = (name or "production").strip().lower()
    try:
        return ENVIRONMENTS[key]
    except KeyError:
        raise ConfigError(
            f"unknown Kalshi environment {name!r}; use 'production' or 'demo'",
            key="environment",
        ) from None
