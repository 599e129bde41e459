"""``arbexec polymarket ...``: API keys, offline order building and request signing, doctor.

Credentials come from the same environment variables the venue uses (see
``arbexec_polymarket.credentials``). Mistakes print one line, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any

import click

from arbexec.api import ArbexecError, ConfigError, OffGridOrder, UserError

#: Builds the HTTP client of online commands (tests swap in a mock transport).
client_factory: Callable[[], Any] | None = None


@contextmanager
def _one_line_errors() -> Iterator[None]:
    try:
        yield
    except (click.ClickException, click.exceptions.Exit):
        raise
    except OffGridOrder as exc:
        raise click.UsageError(str(exc)) from None
    except UserError as exc:
        raise click.UsageError(str(exc)) from None
    except ArbexecError as exc:
        raise click.ClickException(str(exc)) from None
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def _decimal(_ctx: click.Context, param: click.Parameter, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise click.BadParameter(f"{value!r} is not a decimal number") from None
    if not result.is_finite():
        raise click.BadParameter(f"{value!r} is not a finite number")
    return result


def _credentials(signature_type: str | None = None, funder: str | None = None) -> Any:
    from arbexec_polymarket.credentials import load_credentials

    options: dict[str, Any] = {}
    if signature_type is not None:
        options["signature_type"] = signature_type
    if funder is not None:
        options["funder"] = funder
    return load_credentials(options)


@click.group("polymarket")
def polymarket_group() -> None:
    """Polymarket CLOB V2: API keys, order signing, diagnostics."""


# ---------------------------------------------------------------------------- build-order


@polymarket_group.command("build-order")
@click.option("--token-id", required=True, help="Outcome token id (or V3 position id).")
@click.option("--side", type=click.Choice(["BUY", "SELL"], case_sensitive=False), required=True)
@click.option("--price", required=True, callback=_decimal, help="Limit (or worst) price.")
@click.option("--size", callback=_decimal, help="Shares, for GTC/GTD orders.")
@click.option(
    "--amount", callback=_decimal, help="FOK/FAK: collateral to spend (BUY) or shares (SELL)."
)
@click.option(
    "--order-type",
    type=click.Choice(["GTC", "GTD", "FOK", "FAK"], case_sensitive=False),
    default="GTC",
    show_default=True,
)
@click.option("--tick-size", required=True, help="The market's tick: 0.1, 0.01, 0.001, 0.0001.")
@click.option("--neg-risk", is_flag=True, help="Sign for the neg-risk exchange.")
@click.option("--v3", "exchange_v3", is_flag=True, help="Sign for Exchange V3 (position ids).")
@click.option("--signature-type", help="0/EOA, 1/POLY_PROXY, 2/POLY_GNOSIS_SAFE, 3/POLY_1271.")
@click.option("--funder", help="Maker address for signature types 1-3.")
@click.option("--chain-id", type=click.Choice(["137", "80002"]), default="137", show_default=True)
@click.option("--salt", type=click.IntRange(0, 2**53 - 1), help="Fixed salt (default: random).")
@click.option("--timestamp", type=click.IntRange(0), help="Unix seconds signed (x1000 as ms).")
@click.option(
    "--expiration",
    type=click.IntRange(0),
    default=0,
    help="GTD only: the `expiration` sent, unix seconds. The venue treats it as 60 s "
    "earlier (its security threshold): to expire at T, pass T + 60.",
)
@click.option("--post-only", is_flag=True)
@click.option("--builder-code", default="0x" + "00" * 32, show_default=False)
@click.option("--owner", envvar="POLYMARKET_API_KEY", help="API key for the post body.")
def build_order(**opts: Any) -> None:
    """Sign an order offline; print the body exactly as posted and the order hash.

    Without an API key (--owner or POLYMARKET_API_KEY) only the order object is printed.
    The wallet key comes from POLYMARKET_PRIVATE_KEY (or POLYMARKET_KEYSTORE).
    """
    import secrets

    from arbexec.api import Side
    from arbexec_polymarket.amounts import limit_amounts, market_amounts
    from arbexec_polymarket.eip712 import ExchangeKind
    from arbexec_polymarket.orders import OrderFields, OrderSigner, OrderType, post_body

    with _one_line_errors():
        order_type = OrderType(opts["order_type"].upper())
        side = Side(opts["side"].upper())
        tick = Decimal(opts["tick_size"])
        if order_type.is_market:
            if opts["amount"] is None:
                raise click.UsageError("FOK/FAK orders take --amount (not --size)")
            maker, taker = market_amounts(side, opts["price"], opts["amount"], tick)
        else:
            if opts["size"] is None:
                raise click.UsageError("GTC/GTD orders take --size (not --amount)")
            maker, taker = limit_amounts(side, opts["price"], opts["size"], tick)
        if order_type is OrderType.GTD and not opts["expiration"]:
            raise click.UsageError("GTD orders need --expiration (unix seconds)")
        if order_type is not OrderType.GTD and opts["expiration"]:
            raise click.UsageError(
                f"--expiration applies only to GTD orders (a {order_type.value} order is sent "
                "with expiration 0, as the official client does)"
            )
        if order_type.is_market and opts["post_only"]:
            raise click.UsageError("--post-only cannot be used with FOK/FAK orders")
        if not opts["token_id"].isdigit():
            raise click.BadParameter("must be a decimal integer", param_hint="--token-id")
        credentials = _credentials(opts["signature_type"], opts["funder"])
        signer = OrderSigner(
            credentials.require_signer(),
            chain_id=int(opts["chain_id"]),
            signature_type=credentials.signature_type,
            funder=credentials.funder,
        )
        seconds = opts["timestamp"] if opts["timestamp"] is not None else int(time.time())
        fields = OrderFields(
            token_id=int(opts["token_id"]),
            side=side,
            maker_amount=maker,
            taker_amount=taker,
            salt=opts["salt"] if opts["salt"] is not None else secrets.randbits(53),
            timestamp_ms=seconds * 1000,
            expiration=opts["expiration"],
            builder=opts["builder_code"],
        )
        kind = (
            ExchangeKind.V3
            if opts["exchange_v3"]
            else ExchangeKind.NEG_RISK
            if opts["neg_risk"]
            else ExchangeKind.STANDARD
        )
        signed = signer.sign(fields, kind)
        if opts["owner"]:
            click.echo(post_body(signed, opts["owner"], order_type, post_only=opts["post_only"]))
        else:
            click.echo(signed.to_json())
        click.echo(f"order_hash: {signed.order_hash}")


# ---------------------------------------------------------------------------- sign-request


@polymarket_group.command("sign-request")
@click.option("--level", type=click.Choice(["l1", "l2"], case_sensitive=False), default="l2")
@click.option("--method", default="GET", show_default=True)
@click.option("--path", "path", default="/", help="Request path; a query string is ignored.")
@click.option("--body", default="", help="Exact body text to be sent (L2).")
@click.option("--timestamp", type=click.IntRange(0), help="Unix seconds (default: now).")
@click.option("--nonce", type=click.IntRange(0), default=0, help="L1 nonce.")
@click.option("--chain-id", type=click.Choice(["137", "80002"]), default="137")
def sign_request(
    level: str,
    method: str,
    path: str,
    body: str,
    timestamp: int | None,
    nonce: int,
    chain_id: str,
) -> None:
    """Print the L1 (wallet) or L2 (HMAC) headers of one request as JSON."""
    from arbexec_polymarket.auth import L2Signer, l1_headers

    with _one_line_errors():
        credentials = _credentials()
        signer = credentials.require_signer()
        ts = timestamp if timestamp is not None else int(time.time())
        if level.lower() == "l1":
            headers = l1_headers(signer, int(chain_id), timestamp=ts, nonce=nonce)
        else:
            if not path.startswith("/"):
                raise click.BadParameter("must start with /", param_hint="--path")
            l2 = L2Signer(signer.address, credentials.require_api())
            headers = l2.headers(method.upper(), path, body.encode(), timestamp=ts)
        click.echo(json.dumps(headers, indent=2))


# ---------------------------------------------------------------------------- derive-api-key


async def _derive(create: bool, nonce: int, host: str, chain_id: int) -> dict[str, Any]:
    import httpx

    from arbexec_polymarket.auth import l1_headers
    from arbexec_polymarket.venue_errors import classify, venue_message

    signer = _credentials().require_signer()
    client = client_factory() if client_factory else httpx.AsyncClient(timeout=10)
    async with client:

        async def call(method: str, path: str) -> httpx.Response:
            headers = l1_headers(signer, chain_id, timestamp=int(time.time()), nonce=nonce)
            return await client.request(method, host + path, headers=headers)

        response = None
        if create:
            response = await call("POST", "/auth/api-key")
        if response is None or response.status_code == 400:
            response = await call("GET", "/auth/derive-api-key")
        if response.status_code >= 400:
            raise classify(venue_message(response.content), http_status=response.status_code)
        payload: dict[str, Any] = response.json()
        return payload


@polymarket_group.command("derive-api-key")
@click.option("--create", is_flag=True, help="Create a key first (falls back to deriving).")
@click.option("--nonce", type=click.IntRange(0), default=0, show_default=True)
@click.option("--host", default=None, help="CLOB base URL (default: production).")
@click.option("--chain-id", type=click.Choice(["137", "80002"]), default="137")
def derive_api_key(create: bool, nonce: int, host: str | None, chain_id: str) -> None:
    """Create or derive the CLOB API key of POLYMARKET_PRIVATE_KEY; print env lines."""
    from arbexec_polymarket.constants import CLOB_HOST
    from arbexec_polymarket.credentials import ENV_API_KEY, ENV_API_PASSPHRASE, ENV_API_SECRET

    with _one_line_errors():
        creds = asyncio.run(_derive(create, nonce, (host or CLOB_HOST).rstrip("/"), int(chain_id)))
        try:
            values = (creds["apiKey"], creds["secret"], creds["passphrase"])
        except (KeyError, TypeError):
            raise click.ClickException("the venue answered without an API key") from None
        for name, value in zip(
            (ENV_API_KEY, ENV_API_SECRET, ENV_API_PASSPHRASE), values, strict=True
        ):
            click.echo(f"{name}={value}")


# ---------------------------------------------------------------------------- doctor


def _findings(env: dict[str, str]) -> list[tuple[str, str]]:
    """(level, message) pairs; every problem says how to fix it."""
    from arbexec_polymarket.credentials import (
        ENV_API_KEY,
        ENV_FUNDER,
        ENV_PRIVATE_KEY,
        ENV_PROXY_URL,
        ENV_SIGNATURE_TYPE,
        load_credentials,
    )
    from arbexec_polymarket.orders import OrderSigner, SignatureType

    found: list[tuple[str, str]] = []
    try:
        creds = load_credentials({}, env)
    except ConfigError as exc:
        return [("error", f"{exc} - fix the variable and run doctor again")]
    if creds.signer is None:
        found.append(
            ("error", f"no wallet key: export {ENV_PRIVATE_KEY}=0x... (or use a keystore)")
        )
    else:
        found.append(("ok", f"wallet key loaded; signer address {creds.signer.address}"))
        try:
            signer = OrderSigner(
                creds.signer, chain_id=137, signature_type=creds.signature_type, funder=creds.funder
            )
            found.append(
                ("ok", f"signature type {creds.signature_type.name}; maker {signer.maker}")
            )
        except ValueError as exc:
            found.append(("error", f"{exc} - set {ENV_FUNDER} or {ENV_SIGNATURE_TYPE}"))
        if creds.signature_type is SignatureType.POLY_1271:
            found.append(
                (
                    "warn",
                    "POLY_1271 deposit wallets need the wallet deployed (one trade in the web "
                    "app) before the CLOB accepts orders; try one tiny order first",
                )
            )
    if creds.api is None:
        found.append(
            (
                "error",
                f"no API key: run `arbexec polymarket derive-api-key` and export "
                f"{ENV_API_KEY}/_SECRET/_PASSPHRASE",
            )
        )
    else:
        found.append(("ok", "API key, secret and passphrase present"))
    proxy = env.get(ENV_PROXY_URL)
    if proxy and proxy.split("://", 1)[0] not in ("http", "https", "socks5", "socks5h"):
        found.append(("error", f"{ENV_PROXY_URL} must start with http://, https:// or socks5://"))
    elif proxy and proxy.startswith("socks5"):
        try:
            import socksio  # noqa: F401
        except ImportError:
            found.append(("error", "SOCKS5 proxy needs `pip install httpx[socks]`"))
    return found


async def _online_findings(env: dict[str, str]) -> list[tuple[str, str]]:
    import httpx

    from arbexec_polymarket.config import PolymarketConfig
    from arbexec_polymarket.credentials import load_credentials
    from arbexec_polymarket.exchange import PolymarketExchange

    found: list[tuple[str, str]] = []
    config = PolymarketConfig.from_options({"read_retries": 0}, env)
    creds = load_credentials({}, env)
    client = client_factory() if client_factory else None
    exchange = PolymarketExchange(config, creds, client=client)
    try:
        server = await exchange.http.get("/time")
        server_time = float(str(server.get("time") if isinstance(server, dict) else server))
        skew = abs(server_time - time.time())
        if skew > 10:
            found.append(("error", f"clock is {skew:.0f} s off the venue's; sync it (NTP)"))
        else:
            found.append(("ok", f"venue reachable; clock skew {skew:.1f} s"))
        if creds.api is not None and creds.signer is not None:
            balance = await exchange.balance_allowance()
            found.append(
                ("ok", f"API key accepted; collateral balance units {balance.get('balance')}")
            )
    except ArbexecError as exc:
        found.append(("error", f"{exc} - check the key, the network or POLYMARKET_PROXY_URL"))
    except (httpx.HTTPError, TypeError, ValueError) as exc:
        found.append(("error", f"venue unreachable ({type(exc).__name__}); check the network"))
    finally:
        await exchange.aclose()
    return found


@polymarket_group.command("doctor")
@click.option("--offline", is_flag=True, help="Only check the local configuration.")
def doctor(offline: bool) -> None:
    """Check credentials, wallet type, proxy, and (online) clock and API key."""
    env = dict(os.environ)
    findings = _findings(env)
    if not offline and not any(level == "error" for level, _ in findings):
        findings += asyncio.run(_online_findings(env))
    for level, message in findings:
        click.echo(f"[{level}] {message}")
    if any(level == "error" for level, _ in findings):
        raise click.exceptions.Exit(1)
