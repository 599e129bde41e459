"""The venue options of a deployment, validated into one frozen record."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from arbexec.api import ConfigError, did_you_mean
from arbexec_kalshi import environment as env

SELF_TRADE_PREVENTION = ("taker_at_cross", "maker")

#: Option names understood by the venue table (documented in docs/venues/kalshi.md).
OPTION_NAMES = frozenset(
    {
        "environment",
        "base_url",
        "websocket_url",
        "proxy",
        "timeout",
        "tier",
        "read_rate",
        "write_rate",
        "subaccount",
        "self_trade_prevention",
        "cancel_order_on_pause",
        "order_group_id",
        "client_order_id_namespace",
        "poll_interval",
        "api_key_id",
        "private_key",
        "private_key_path",
        "private_key_passphrase",
        "type",
        "venue",
        "plugin",
    }
)


def _int_or_none(value: Any, key: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"must be an integer, not {value!r}", key=key) from None


def _float(value: Any, key: str, default: float) -> float:
    if value in (None, ""):
        return default
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"must be a number, not {value!r}", key=key) from None
    if result <= 0:
        raise ConfigError(f"must be positive, not {value!r}", key=key)
    return result


def _optional_float(value: Any, key: str) -> float | None:
    return None if value in (None, "") else _float(value, key, 0.0)


@frozen(kw_only=True)
class KalshiConfig:
    environment: str = "production"
    base_url: str | None = None
    websocket_url: str | None = None
    proxy: str | None = field(default=None, repr=False)  # may embed proxy credentials
    timeout: float = 10.0
    tier: str = "basic"
    read_rate: float | None = None
    write_rate: float | None = None
    subaccount: int | None = None
    self_trade_prevention: str = "taker_at_cross"
    cancel_order_on_pause: bool = False
    order_group_id: str | None = None
    client_order_id_namespace: str = ""
    poll_interval: float = 2.0

    @classmethod
    def from_options(
        cls, options: Mapping[str, Any], environ: Mapping[str, str] | None = None
    ) -> KalshiConfig:
        environ = os.environ if environ is None else environ
        unknown = sorted(set(options) - OPTION_NAMES)
        if unknown:
            valid = OPTION_NAMES - {"type", "venue", "plugin"}
            raise ConfigError(
                f"unknown Kalshi option(s) {', '.join(unknown)}"
                f"{did_you_mean(unknown[0], valid)}; valid: " + ", ".join(sorted(valid)),
                key=unknown[0],
            )
        environment = str(
            options.get("environment") or environ.get(env.ENV_ENVIRONMENT) or "production"
        )
        env.hosts_for(environment)  # validates the name
        stp = str(options.get("self_trade_prevention") or "taker_at_cross")
        if stp not in SELF_TRADE_PREVENTION:
            raise ConfigError(
                f"must be one of {', '.join(SELF_TRADE_PREVENTION)}, not {stp!r}",
                key="self_trade_prevention",
            )
        subaccount = _int_or_none(options.get("subaccount"), "subaccount")
        if subaccount is not None and not 0 <= subaccount <= 63:
            raise ConfigError("must be between 0 and 63", key="subaccount")
        return cls(
            environment=environment.lower(),
            base_url=options.get("base_url") or None,
            websocket_url=options.get("websocket_url") or None,
            proxy=options.get("proxy") or None,
            timeout=_float(options.get("timeout"), "timeout", 10.0),
            tier=str(options.get("tier") or "basic"),
            read_rate=_optional_float(options.get("read_rate"), "read_rate"),
            write_rate=_optional_float(options.get("write_rate"), "write_rate"),
            subaccount=subaccount,
            self_trade_prevention=stp,
            cancel_order_on_pause=bool(options.get("cancel_order_on_pause", False)),
            order_group_id=options.get("order_group_id") or None,
            client_order_id_namespace=str(options.get("client_order_id_namespace") or ""),
            poll_interval=_float(options.get("poll_interval"), "poll_interval", 2.0),
        )

    @property
    def rest_url(self) -> str:
        return (self.base_url or env.hosts_for(self.environment).rest).rstrip("/")

    @property
    def ws_url(self) -> str:
        return self.websocket_url or env.hosts_for(self.environment).websocket
