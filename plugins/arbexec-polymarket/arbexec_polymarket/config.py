"""Non-secret settings of the Polymarket venue, read from its options table."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from arbexec.api import ConfigError, did_you_mean
from arbexec_polymarket.constants import (
    AMOY,
    CLOB_HOST,
    GAMMA_HOST,
    POLYGON,
    USER_WS_URL,
    ZERO_BYTES32,
)
from arbexec_polymarket.credentials import setting

DATA_API_HOST = "https://data-api.polymarket.com"

#: option key -> what it means (for docs and `doctor`).
OPTIONS: dict[str, str] = {
    "host": f"CLOB REST base URL (default {CLOB_HOST})",
    "gamma_host": f"Gamma market-metadata base URL (default {GAMMA_HOST})",
    "data_host": f"Data API base URL for positions (default {DATA_API_HOST})",
    "ws_url": f"user websocket URL (default {USER_WS_URL})",
    "chain_id": "137 (Polygon, default) or 80002 (Amoy)",
    "proxy_url": "HTTP or SOCKS5 proxy for every call (env POLYMARKET_PROXY_URL)",
    "connect_timeout": "seconds to open a connection (default 5)",
    "read_timeout": "seconds for a read call (default 10)",
    "order_timeout": "seconds for an order post or cancel (default 10)",
    "read_retries": "retries of a read on 429/5xx/network errors (default 3)",
    "retry_backoff": "first retry delay in seconds, doubled each time (default 0.25)",
    "max_retry_wait": "longest Retry-After a read waits for; longer ends the read (default 10)",
    "too_early_budget": "seconds of waiting for the weekly matching-engine restart (HTTP 425) "
    "before giving up (default 120)",
    "tick_cache_seconds": "how long a market's tick size is trusted (default 300)",
    "builder_code": "bytes32 builder code signed into every order (default none)",
    "heartbeats": "send dead-man-switch heartbeats once orders exist (default false)",
    "stream": "use the user websocket for watch_orders (default true)",
    "poll_interval": "seconds between polls when the stream is down (default 2)",
}


def _float(
    options: Mapping[str, Any], key: str, default: float, *, maximum: float = 3600.0
) -> float:
    value = options.get(key, default)
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{value!r} is not a number of seconds", key=key) from None
    if not math.isfinite(result) or result < 0:
        raise ConfigError("must be a finite number, not negative", key=key)
    if result > maximum:
        raise ConfigError(f"must be at most {maximum:g} seconds", key=key)
    return result


def _bool(options: Mapping[str, Any], key: str, default: bool) -> bool:
    value = options.get(key, default)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{value!r} is not true or false", key=key)


@frozen(kw_only=True)
class PolymarketConfig:
    host: str = CLOB_HOST
    gamma_host: str = GAMMA_HOST
    data_host: str = DATA_API_HOST
    ws_url: str = USER_WS_URL
    chain_id: int = POLYGON
    proxy_url: str | None = field(default=None, repr=False)  # may embed a password
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    order_timeout: float = 10.0
    read_retries: int = 3
    retry_backoff: float = 0.25
    max_retry_wait: float = 10.0
    too_early_budget: float = 120.0
    tick_cache_seconds: float = 300.0
    builder_code: str = ZERO_BYTES32
    heartbeats: bool = False
    stream: bool = True
    poll_interval: float = 2.0

    @classmethod
    def from_options(
        cls, options: Mapping[str, Any], env: Mapping[str, str] | None = None
    ) -> PolymarketConfig:
        unknown = (
            set(options)
            - set(OPTIONS)
            - {
                "private_key",
                "keystore",
                "keystore_path",
                "keystore_passphrase",
                "funder",
                "signature_type",
                "api_key",
                "api_secret",
                "api_passphrase",
                "type",
                "venue",
                "plugin",
            }
        )
        if unknown:
            first = sorted(unknown)[0]
            credentials = ("private_key", "keystore", "keystore_passphrase", "funder",
                           "signature_type", "api_key", "api_secret", "api_passphrase")
            raise ConfigError(
                f"unknown option(s) {', '.join(sorted(unknown))}"
                f"{did_you_mean(first, [*OPTIONS, *credentials])}; known: "
                f"{', '.join(sorted(OPTIONS))} and the credential keys",
                key=sorted(unknown)[0],
            )
        try:
            chain_id = int(options.get("chain_id", POLYGON))
        except (TypeError, ValueError):
            raise ConfigError("must be 137 or 80002", key="chain_id") from None
        if chain_id not in (POLYGON, AMOY):
            raise ConfigError(f"{chain_id} is not 137 (Polygon) or 80002 (Amoy)", key="chain_id")
        builder = str(options.get("builder_code") or ZERO_BYTES32)
        body = builder[2:] if builder.startswith("0x") else builder
        if len(body) != 64 or any(c not in "0123456789abcdefABCDEF" for c in body):
            raise ConfigError("must be 0x followed by 64 hex digits", key="builder_code")
        try:
            retries = int(options.get("read_retries", 3))
        except (TypeError, ValueError):
            raise ConfigError("must be a whole number", key="read_retries") from None
        return cls(
            host=str(options.get("host", CLOB_HOST)).rstrip("/"),
            gamma_host=str(options.get("gamma_host", GAMMA_HOST)).rstrip("/"),
            data_host=str(options.get("data_host", DATA_API_HOST)).rstrip("/"),
            ws_url=str(options.get("ws_url", USER_WS_URL)),
            chain_id=chain_id,
            proxy_url=setting(options, "proxy_url", env),
            connect_timeout=_float(options, "connect_timeout", 5.0),
            read_timeout=_float(options, "read_timeout", 10.0),
            order_timeout=_float(options, "order_timeout", 10.0),
            read_retries=max(0, retries),
            retry_backoff=_float(options, "retry_backoff", 0.25, maximum=60.0),
            max_retry_wait=_float(options, "max_retry_wait", 10.0, maximum=600.0),
            too_early_budget=_float(options, "too_early_budget", 120.0, maximum=3600.0),
            tick_cache_seconds=_float(options, "tick_cache_seconds", 300.0),
            builder_code="0x" + body.lower(),
            heartbeats=_bool(options, "heartbeats", False),
            stream=_bool(options, "stream", True),
            poll_interval=_float(options, "poll_interval", 2.0),
        )
