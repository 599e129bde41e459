"""``arbexec kalshi ...`` commands: offline request signing and a setup doctor."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from arbexec.api import UserError
from arbexec_kalshi import environment as env

F = TypeVar("F", bound=Callable[..., Any])


def one_line_errors(func: F) -> F:
    """User mistakes print one line on stderr and exit with status 2, never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UserError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


@click.group(name="kalshi")
def kalshi() -> None:
    """Kalshi venue tools."""


@kalshi.command("sign-request")
@click.argument("method")
@click.argument("path")
@click.option("--timestamp", type=int, help="Unix milliseconds (default: now).")
@click.option("--key-id", envvar=env.ENV_KEY_ID, help=f"API key id [env {env.ENV_KEY_ID}].")
@click.option(
    "--private-key-path",
    envvar=env.ENV_PRIVATE_KEY_PATH,
    type=click.Path(dir_okay=False),
    help=f"PEM file [env {env.ENV_PRIVATE_KEY_PATH}; or {env.ENV_PRIVATE_KEY} holds the PEM].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the headers as JSON.")
@one_line_errors
def sign_request(
    method: str,
    path: str,
    timestamp: int | None,
    key_id: str | None,
    private_key_path: str | None,
    as_json: bool,
) -> None:
    """Print the KALSHI-ACCESS-* headers for METHOD and PATH (offline; nothing is sent).

    PATH may be a full URL, a path under /trade-api/..., or an API path such as
    /portfolio/balance (then /trade-api/v2 is prepended). The query is never signed.
    """
    from arbexec_kalshi.credentials import load_credentials
    from arbexec_kalshi.signing import message, signed_path

    options = {"api_key_id": key_id, "private_key_path": private_key_path}
    credentials = load_credentials({k: v for k, v in options.items() if v})
    if credentials is None:
        raise UserError(
            f"no Kalshi key: pass --key-id and --private-key-path or set {env.ENV_KEY_ID} "
            f"and {env.ENV_PRIVATE_KEY_PATH}"
        )
    if not method.isalpha():
        raise UserError(f"METHOD must be an HTTP method such as GET or POST, not {method!r}")
    target = signed_path(path)
    if not target.startswith("/trade-api/"):
        target = env.API_PREFIX + (target if target.startswith("/") else "/" + target)
    signer = credentials.signer()
    headers = signer.headers(method, target, timestamp)
    if as_json:
        click.echo(json.dumps(headers, indent=2))
        return
    signed = message(int(headers["KALSHI-ACCESS-TIMESTAMP"]), method, target).decode()
    click.echo(f"# signed message: {signed}")
    for name, value in headers.items():
        click.echo(f"{name}: {value}")


@kalshi.command("doctor")
@click.option(
    "--environment",
    type=click.Choice(["production", "demo"]),
    help=f"Kalshi environment [env {env.ENV_ENVIRONMENT}, default production].",
)
@click.option("--proxy", help="http(s):// or socks5:// proxy URL.")
@one_line_errors
def doctor(environment: str | None, proxy: str | None) -> None:
    """Check the key loads, the key id is accepted, the environment matches the key, the
    clock is in sync and the balance is readable; each problem with its fix."""
    from arbexec_kalshi.doctor import diagnose

    options = {k: v for k, v in {"environment": environment, "proxy": proxy}.items() if v}
    findings = asyncio.run(diagnose(options))
    for finding in findings:
        click.echo(finding.line())
    if not all(f.ok for f in findings):
        sys.exit(1)
