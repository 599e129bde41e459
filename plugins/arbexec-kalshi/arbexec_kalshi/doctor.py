"""``arbexec kalshi doctor``: check a Kalshi setup end to end, each finding with its fix."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from attrs import frozen

from arbexec import api as ax
from arbexec_kalshi import environment as env
from arbexec_kalshi.config import KalshiConfig
from arbexec_kalshi.credentials import load_credentials

#: Kalshi refused timestamps 30 s off and accepted 5 s off.
SKEW_WARNING_SECONDS = 3.0


@frozen
class Finding:
    check: str
    ok: bool
    detail: str
    fix: str | None = None

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        text = f"[{mark}] {self.check}: {self.detail}"
        return text + (f"\n       fix: {self.fix}" if self.fix else "")


async def diagnose(
    options: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], float] = time.time,
    offline: bool = False,
) -> list[Finding]:
    """Run every check; stop early only when a later check cannot mean anything.
    ``offline``: only the local ones (settings and key), nothing is sent."""
    from arbexec_kalshi.exchange import KalshiExchange

    findings: list[Finding] = []
    options = dict(options or {})
    try:
        config = KalshiConfig.from_options(options, environ)
        credentials = load_credentials(options, environ)
    except ax.UserError as exc:
        return [Finding("configuration", False, str(exc), "correct the setting named above")]
    if credentials is None:
        return [
            Finding(
                "credentials",
                False,
                "no Kalshi API key configured",
                f"set {env.ENV_KEY_ID} and {env.ENV_PRIVATE_KEY_PATH} (or {env.ENV_PRIVATE_KEY})",
            )
        ]
    try:
        signer = credentials.signer()
    except ax.UserError as exc:
        return [Finding("private key", False, str(exc), "export the key again as PEM")]
    findings.append(
        Finding("private key", True, f"{signer.key_type} key loaded ({credentials.source})")
    )
    if offline:
        return findings

    exchange = KalshiExchange(config=config, signer=signer, transport=transport)
    try:
        findings.append(await _clock(exchange, clock))
        findings.extend(await _key_and_balance(exchange, options, environ, transport))
    finally:
        await exchange.aclose()
    return findings


async def _clock(exchange: Any, clock: Callable[[], float]) -> Finding:
    try:
        response = await exchange.http.client.get(exchange.http.base_url + "/exchange/status")
    except httpx.HTTPError as exc:
        host = httpx.URL(exchange.http.base_url).host
        return Finding(
            "reachability",
            False,
            ax.describe_network_error(exc, host=host, what="the status check")
            or f"cannot reach {exchange.http.base_url} ({type(exc).__name__})",
            "check the network, the 'proxy' option (--proxy) and the 'environment'",
        )
    stamp = response.headers.get("date")
    if not stamp:
        return Finding("clock skew", True, "the venue sent no Date header; not measured")
    skew = clock() - parsedate_to_datetime(stamp).timestamp()
    if abs(skew) > SKEW_WARNING_SECONDS:
        return Finding(
            "clock skew",
            False,
            f"this host is {skew:+.1f} s off the venue's clock; Kalshi refuses signatures "
            "stamped more than a few seconds off",
            "enable NTP time sync (e.g. 'timedatectl set-ntp true' or chrony)",
        )
    return Finding("clock skew", True, f"{skew:+.1f} s (within tolerance)")


async def _key_and_balance(
    exchange: Any,
    options: Mapping[str, Any],
    environ: Mapping[str, str] | None,
    transport: httpx.AsyncBaseTransport | None,
) -> list[Finding]:
    name = exchange.config.environment
    try:
        balance = await exchange.fetch_balance()
    except ax.AuthenticationError as exc:
        if exc.venue_code == "header_timestamp_expired":
            return [Finding("key id", False, str(exc), "sync the clock with NTP")]
        other = "demo" if name.startswith("prod") else "production"
        if await _accepted_on(other, exchange, transport):
            return [
                Finding(
                    "environment",
                    False,
                    f"the key is not valid on {name} but is accepted on {other}",
                    f"set {env.ENV_ENVIRONMENT}={other} (or the 'environment' option)",
                )
            ]
        fix = (
            f"check {env.ENV_KEY_ID}: the key id is unknown on {name}"
            if "NOT_FOUND" in str(exc)
            else "the private key does not match the key id; use the PEM saved with that key"
        )
        return [Finding("key id", False, f"{name} refused the key ({exc.venue_code})", fix)]
    except ax.ExchangeError as exc:
        return [Finding("balance", False, str(exc), "retry later or check the venue status")]
    return [
        Finding("key id", True, f"accepted on {name}"),
        Finding("environment", True, f"{name} ({exchange.http.base_url})"),
        Finding("balance", True, f"${balance.available} available"),
    ]


async def _accepted_on(other: str, exchange: Any, transport: Any) -> bool:
    from arbexec_kalshi.exchange import KalshiExchange

    probe = KalshiExchange(
        config=KalshiConfig(environment=other), signer=exchange.signer, transport=transport
    )
    try:
        await probe.fetch_balance()
        return True
    except ax.ExchangeError:
        return False
    finally:
        await probe.aclose()
