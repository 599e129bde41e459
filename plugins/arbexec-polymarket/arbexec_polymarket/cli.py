"""``arbexec polymarket ...``: API keys, offline order building and request signing, doctor.

Every command reads what the engine reads: the deployment's Polymarket venue (``arbexec -c
deployment.toml``, ``--venue NAME`` when it has several) with the ``.env`` beside it, then
the environment variables (see ``arbexec_polymarket.credentials``). Options use the shared
vocabulary (``--price``, ``--quantity``, ``--tif``); mistakes print one line, never a
traceback.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any

import click

from arbexec.api import (
    ArbexecError,
    ConfigError,
    OffGridOrder,
    UserError,
    cli_options,
    describe_network_error,
    venue_tool_settings,
)

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


def _settings(venue: str | None) -> Any:
    """The deployment's Polymarket venue table and environment (``.env`` applied)."""
    return venue_tool_settings("polymarket", venue)


def _credentials(settings: Any, signature_type: str | None = None,
                 funder: str | None = None) -> Any:
    """Credentials as the engine builds them; an option given here wins."""
    from arbexec_polymarket.credentials import load_credentials

    options: dict[str, Any] = dict(settings.options)
    if signature_type is not None:
        options["signature_type"] = signature_type
    if funder is not None:
        options["funder"] = funder
    return load_credentials(options, settings.environ)


def _chain_id(settings: Any, given: str | None) -> int:
    if given is not None:
        return int(given)
    return int(settings.options.get("chain_id", 137))


_VENUE = cli_options.tool_venue_option("Polymarket")

#: The shared time in force onto Polymarket's order types (FAK is its immediate-or-cancel).
_ORDER_TYPES = {"gtc": "GTC", "gtd": "GTD", "fok": "FOK", "ioc": "FAK"}


@click.group("polymarket")
def polymarket_group() -> None:
    """Polymarket CLOB V2: API keys, order signing, diagnostics."""


# ---------------------------------------------------------------------------- build-order


@polymarket_group.command("build-order")
@click.option("--token-id", required=True, help="Outcome token id (or V3 position id).")
@click.option("--side", type=click.Choice(["BUY", "SELL"], case_sensitive=False), required=True)
@cli_options.price_option(callback=_decimal, help="Limit (or worst) price.")
@cli_options.quantity_option(
    aliases=["--size"], required=False, callback=_decimal,
    help="Shares. A fok/ioc buy spends quantity x price, which must be whole cents.",
)
@click.option("--amount", callback=_decimal, hidden=True,
              help="Deprecated: fok/ioc collateral to spend (BUY) or shares (SELL).")
@cli_options.tif_option(
    aliases=["--order-type"], value_aliases={"fak": "ioc"},
    help="Time in force: gtc, gtd, ioc (Polymarket's FAK) or fok.",
)
@click.option("--tick-size", required=True, help="The market's tick: 0.1, 0.01, 0.001, 0.0001.")
@click.option("--neg-risk", is_flag=True, help="Sign for the neg-risk exchange.")
@click.option("--v3", "exchange_v3", is_flag=True, help="Sign for Exchange V3 (position ids).")
@click.option("--signature-type", help="0/EOA, 1/POLY_PROXY, 2/POLY_GNOSIS_SAFE, 3/POLY_1271 "
              "(default: the deployment's, else POLYMARKET_SIGNATURE_TYPE).")
@click.option("--funder", help="Maker address for signature types 1-3 (default: the "
              "deployment's, else POLYMARKET_FUNDER).")
@click.option("--chain-id", type=click.Choice(["137", "80002"]),
              help="137 or 80002 (default: the deployment's, else 137).")
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
@_VENUE
@click.option("--json", "as_json", is_flag=True, help="One JSON object: the body and the hash.")
def build_order(**opts: Any) -> None:
    """Sign an order offline; print the body exactly as posted and the order hash.

    Without an API key (--owner, the deployment's api_key or POLYMARKET_API_KEY) only the
    order object is printed. The wallet, signature type and funder are the deployment's
    (arbexec -c), else POLYMARKET_PRIVATE_KEY (or POLYMARKET_KEYSTORE) and the other
    POLYMARKET_* variables.
    """
    import secrets

    from arbexec.api import Side
    from arbexec_polymarket.amounts import market_amounts, request_amounts
    from arbexec_polymarket.eip712 import ExchangeKind
    from arbexec_polymarket.orders import OrderFields, OrderSigner, OrderType, post_body

    with _one_line_errors():
        order_type = OrderType(_ORDER_TYPES[opts["time_in_force"]])
        side = Side(opts["side"].upper())
        tick = Decimal(opts["tick_size"])
        if opts["amount"] is not None:
            cli_options.deprecation("--amount", "--quantity (shares; a buy spends quantity x "
                                    "price)")
            if opts["quantity"] is not None:
                raise click.UsageError("give --quantity only (--amount is its old name)")
            if not order_type.is_market:
                raise click.UsageError("gtc/gtd orders take --quantity")
            maker, taker = market_amounts(side, opts["price"], opts["amount"], tick)
        elif opts["quantity"] is None:
            raise click.UsageError("Missing option '--quantity' (shares)")
        else:
            maker, taker = request_amounts(side, opts["price"], opts["quantity"], tick,
                                           market=order_type.is_market)
        if order_type is OrderType.GTD and not opts["expiration"]:
            raise click.UsageError("gtd orders need --expiration (unix seconds)")
        if order_type is not OrderType.GTD and opts["expiration"]:
            raise click.UsageError(
                f"--expiration applies only to gtd orders (a {opts['time_in_force']} order is "
                "sent with expiration 0, as the official client does)"
            )
        if order_type.is_market and opts["post_only"]:
            raise click.UsageError("--post-only cannot be used with fok/ioc orders")
        if not opts["token_id"].isdigit():
            raise click.BadParameter("must be a decimal integer", param_hint="--token-id")
        settings = _settings(opts["venue"])
        credentials = _credentials(settings, opts["signature_type"], opts["funder"])
        owner = opts["owner"] or (credentials.api.api_key if credentials.api is not None else None)
        signer = OrderSigner(
            credentials.require_signer(),
            chain_id=_chain_id(settings, opts["chain_id"]),
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
        body = (post_body(signed, owner, order_type, post_only=opts["post_only"]) if owner
                else signed.to_json())
        if opts["as_json"]:
            click.echo(json.dumps({"body": json.loads(body), "order_hash": signed.order_hash}))
            return
        click.echo(body)
        click.echo(f"order_hash: {signed.order_hash}")


# ---------------------------------------------------------------------------- sign-request


@polymarket_group.command("sign-request")
@click.option("--method", default="GET", show_default=True, help="HTTP method (L2).")
@click.option("--path", "path", default="/", help="Request path (L2); a query string is ignored.")
@click.option("--timestamp", callback=cli_options.timestamp_seconds,
              help="Unix seconds (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print the headers as JSON.")
@click.option("--level", type=cli_options.LowerChoice(["l1", "l2"]), default="l2",
              show_default=True, help="l1 (wallet) or l2 (API key HMAC) headers.")
@click.option("--body", default="", help="Exact body text to be sent (L2).")
@click.option("--nonce", type=click.IntRange(0), default=0, help="L1 nonce.")
@click.option("--chain-id", type=click.Choice(["137", "80002"]),
              help="137 or 80002 (default: the deployment's, else 137).")
@_VENUE
def sign_request(
    method: str,
    path: str,
    timestamp: Decimal | None,
    as_json: bool,
    level: str,
    body: str,
    nonce: int,
    chain_id: str | None,
    venue: str | None,
) -> None:
    """Print the L1 (wallet) or L2 (HMAC) headers of one request (offline; nothing is sent).

    The same shape as `arbexec kalshi sign-request`: --method, --path, --timestamp in unix
    seconds; one `Name: value` line per header, or --json.
    """
    from arbexec_polymarket.auth import L2Signer, l1_headers

    with _one_line_errors():
        if timestamp is not None and timestamp != timestamp.to_integral_value():
            raise click.BadParameter("Polymarket signs whole seconds", param_hint="--timestamp")
        if not method.isalpha():
            raise click.BadParameter(f"{method!r} is not an HTTP method such as GET or POST",
                                     param_hint="--method")
        settings = _settings(venue)
        credentials = _credentials(settings)
        signer = credentials.require_signer()
        ts = int(timestamp) if timestamp is not None else int(time.time())
        if level == "l1":
            headers = l1_headers(signer, _chain_id(settings, chain_id), timestamp=ts,
                                 nonce=nonce)
        else:
            if not path.startswith("/"):
                raise click.BadParameter("must start with /", param_hint="--path")
            l2 = L2Signer(signer.address, credentials.require_api())
            headers = l2.headers(method.upper(), path, body.encode(), timestamp=ts)
        if as_json:
            click.echo(json.dumps(headers, indent=2))
            return
        for name, value in headers.items():
            click.echo(f"{name}: {value}")


# ---------------------------------------------------------------------------- derive-api-key


async def _derive(settings: Any, create: bool, nonce: int, host: str,
                  chain_id: int) -> dict[str, Any]:
    import httpx

    from arbexec_polymarket.auth import l1_headers
    from arbexec_polymarket.venue_errors import classify, venue_message

    signer = _credentials(settings).require_signer()
    client = client_factory() if client_factory else httpx.AsyncClient(timeout=10)
    async with client:

        async def call(method: str, path: str) -> httpx.Response:
            headers = l1_headers(signer, chain_id, timestamp=int(time.time()), nonce=nonce)
            try:
                return await client.request(method, host + path, headers=headers)
            except httpx.HTTPError as exc:
                described = describe_network_error(
                    exc, host=httpx.URL(host).host or host,
                    what=f"{method} {path}" + (" (it may have created a key; derive it "
                                               "again to read it)" if method == "POST" else ""))
                if described is None:
                    raise
                raise ArbexecError(described) from None

        response = None
        if create:
            response = await call("POST", "/auth/api-key")
        if response is None or response.status_code == 400:
            response = await call("GET", "/auth/derive-api-key")
        if response.status_code >= 400:
            raise classify(venue_message(response.content), http_status=response.status_code)
        try:
            payload: dict[str, Any] = response.json()
        except ValueError:
            raise ArbexecError(f"{host} answered {response.status_code} without JSON; check "
                               "--host (or the deployment's host)") from None
        return payload


@polymarket_group.command("derive-api-key")
@click.option("--create", is_flag=True, help="Create a key first (falls back to deriving).")
@click.option("--nonce", type=click.IntRange(0), default=0, show_default=True)
@click.option("--host", default=None, help="CLOB base URL (default: the deployment's host, "
              "else production).")
@click.option("--chain-id", type=click.Choice(["137", "80002"]),
              help="137 or 80002 (default: the deployment's, else 137).")
@_VENUE
def derive_api_key(create: bool, nonce: int, host: str | None, chain_id: str | None,
                   venue: str | None) -> None:
    """Create or derive the CLOB API key of the deployment's wallet (else
    POLYMARKET_PRIVATE_KEY); print env lines for the .env file."""
    from arbexec_polymarket.constants import CLOB_HOST
    from arbexec_polymarket.credentials import ENV_API_KEY, ENV_API_PASSPHRASE, ENV_API_SECRET

    with _one_line_errors():
        settings = _settings(venue)
        base = (host or str(settings.options.get("host", CLOB_HOST))).rstrip("/")
        creds = asyncio.run(_derive(settings, create, nonce, base, _chain_id(settings, chain_id)))
        try:
            values = (creds["apiKey"], creds["secret"], creds["passphrase"])
        except (KeyError, TypeError):
            raise click.ClickException("the venue answered without an API key") from None
        for name, value in zip(
            (ENV_API_KEY, ENV_API_SECRET, ENV_API_PASSPHRASE), values, strict=True
        ):
            click.echo(f"{name}={value}")


# ---------------------------------------------------------------------------- doctor


def _findings(env: dict[str, str], options: dict[str, Any] | None = None
              ) -> list[tuple[str, str]]:
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
        creds = load_credentials(options or {}, env)
    except ConfigError as exc:
        return [("error", f"{exc} - fix the setting and run doctor again")]
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
    proxy = (options or {}).get("proxy_url") or env.get(ENV_PROXY_URL)
    if proxy and proxy.split("://", 1)[0] not in ("http", "https", "socks5", "socks5h"):
        found.append(("error", f"{ENV_PROXY_URL} must start with http://, https:// or socks5://"))
    elif proxy and proxy.startswith("socks5"):
        try:
            import socksio  # noqa: F401
        except ImportError:
            found.append(("error", "SOCKS5 proxy needs `pip install httpx[socks]`"))
    return found


async def _online_findings(env: dict[str, str], options: dict[str, Any] | None = None
                           ) -> list[tuple[str, str]]:
    import httpx

    from arbexec_polymarket.config import PolymarketConfig
    from arbexec_polymarket.credentials import load_credentials
    from arbexec_polymarket.exchange import PolymarketExchange

    found: list[tuple[str, str]] = []
    config = PolymarketConfig.from_options({**(options or {}), "read_retries": 0}, env)
    creds = load_credentials(options or {}, env)
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
        described = describe_network_error(exc, host=httpx.URL(config.host).host or None,
                                           what="the check")
        found.append(("error", described or f"{exc} - check the key, the network or "
                      "POLYMARKET_PROXY_URL"))
    except httpx.HTTPError as exc:
        host = httpx.URL(config.host).host or config.host
        found.append(("error", describe_network_error(exc, host=host, what="the check")
                      or f"{host} unreachable ({type(exc).__name__}); check the network"))
    except (TypeError, ValueError) as exc:
        found.append(("error", f"{config.host} answered /time in an unexpected shape "
                      f"({type(exc).__name__}); check the deployment's host"))
    finally:
        await exchange.aclose()
    return found


@polymarket_group.command("doctor")
@cli_options.doctor_options(environments=("production", "amoy"),
                            default_environment="production",
                            proxy_env="POLYMARKET_PROXY_URL")
@_VENUE
def doctor(offline: bool, proxy: str | None, environment: str | None,
           venue: str | None) -> None:
    """Check credentials, wallet type, proxy, and (online) clock and API key, with the
    deployment's settings (arbexec -c) and the .env beside it."""
    with _one_line_errors():
        settings = _settings(venue)
        env = dict(settings.environ)
        options: dict[str, Any] = dict(settings.options)
        if proxy is not None:
            options["proxy_url"] = proxy
        if environment is not None:
            options["chain_id"] = 137 if environment == "production" else 80002
        where = f"{settings.source} venue {settings.venue}" if settings.venue else (
            "environment variables (no deployment venue)")
        click.echo(f"checking local configuration: {where}")
        findings = _findings(env, options)
        if not offline and not any(level == "error" for level, _ in findings):
            from arbexec_polymarket.constants import CLOB_HOST

            click.echo(f"checking {options.get('host', CLOB_HOST)}: clock and API key")
            findings += asyncio.run(_online_findings(env, options))
    for level, message in findings:
        click.echo(f"[{level}] {message}")
    if any(level == "error" for level, _ in findings):
        raise click.exceptions.Exit(1)
