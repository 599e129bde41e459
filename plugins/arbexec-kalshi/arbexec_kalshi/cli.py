"""``arbexec kalshi ...`` commands: offline request signing and a setup doctor."""

from __future__ import annotations

import asyncio
import json
import sys
from decimal import Decimal
from typing import Any

import click

from arbexec.api import UserError, cli_options, venue_tool_settings
from arbexec_kalshi import environment as env


@click.group(name="kalshi")
def kalshi() -> None:
    """Kalshi venue tools."""


_VENUE = cli_options.tool_venue_option("Kalshi")


def _options(venue: str | None, **given: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The deployment's Kalshi venue table (relative paths already against its folder) with
    the options given here on top, and the environment with the deployment's ``.env``."""
    settings = venue_tool_settings("kalshi", venue)
    options = dict(settings.options)
    options.update({k: v for k, v in given.items() if v})
    return options, dict(settings.environ)


@kalshi.command("sign-request")
@cli_options.option("--method", default="GET", show_default=True, help="HTTP method.")
@cli_options.option("--path", "path", help="Request path: a full URL, a path under /trade-api/..., "
              "or an API path such as /portfolio/balance.")
@click.option("--timestamp", callback=cli_options.timestamp_seconds,
              help="Unix seconds, a fraction allowed (default: now); signed as milliseconds.")
@click.option("--json", "as_json", is_flag=True, help="Print the headers as JSON.")
@click.option("--key-id", envvar=env.ENV_KEY_ID, help=f"API key id [env {env.ENV_KEY_ID}].")
@click.option(
    "--private-key-path",
    envvar=env.ENV_PRIVATE_KEY_PATH,
    type=click.Path(dir_okay=False),
    help=f"PEM file [env {env.ENV_PRIVATE_KEY_PATH}; or {env.ENV_PRIVATE_KEY} holds the PEM].",
)
@_VENUE
@cli_options.legacy_positionals("method", "path")
def sign_request(
    method: str,
    path: str | None,
    timestamp: Decimal | None,
    as_json: bool,
    key_id: str | None,
    private_key_path: str | None,
    venue: str | None,
) -> None:
    """Print the KALSHI-ACCESS-* headers for --method and --path (offline; nothing is sent).

    The same shape as `arbexec polymarket sign-request`. The key is the deployment's
    (arbexec -c) unless --key-id / --private-key-path are given. The query is never signed;
    /trade-api/v2 is prepended to an API path.
    """
    from arbexec_kalshi.credentials import load_credentials
    from arbexec_kalshi.signing import message, signed_path

    if not path:
        raise UserError("give --path (e.g. --path /portfolio/balance)")
    if not method.isalpha():
        raise UserError(f"--method must be an HTTP method such as GET or POST, not {method!r}")
    options, environ = _options(venue, api_key_id=key_id, private_key_path=private_key_path)
    credentials = load_credentials(options, environ)
    if credentials is None:
        raise UserError(
            f"no Kalshi key: pass --key-id and --private-key-path, give a deployment with a "
            f"kalshi venue (arbexec -c), or set {env.ENV_KEY_ID} and {env.ENV_PRIVATE_KEY_PATH}"
        )
    target = signed_path(path)
    if not target.startswith("/trade-api/"):
        target = env.API_PREFIX + (target if target.startswith("/") else "/" + target)
    signer = credentials.signer()
    millis = None if timestamp is None else int(timestamp * 1000)
    headers = signer.headers(method, target, millis)
    if as_json:
        click.echo(json.dumps(headers, indent=2))
        return
    signed = message(int(headers["KALSHI-ACCESS-TIMESTAMP"]), method, target).decode()
    click.echo(f"# signed message: {signed}")
    for name, value in headers.items():
        click.echo(f"{name}: {value}")


@kalshi.command("doctor")
@cli_options.doctor_options(environments=("production", "demo"),
                            default_environment="production")
@_VENUE
def doctor(offline: bool, proxy: str | None, environment: str | None,
           venue: str | None) -> None:
    """Check the key loads, the key id is accepted, the environment matches the key, the
    clock is in sync and the balance is readable; each problem with its fix. Uses the
    deployment's Kalshi venue (arbexec -c) and the .env beside it."""
    from arbexec_kalshi.doctor import diagnose

    options, environ = _options(venue, environment=environment, proxy=proxy)
    checks = "the key" if offline else "the key, the venue, the clock and the balance"
    click.echo(f"checking {checks} ({options.get('environment') or 'production'})")
    findings = asyncio.run(diagnose(options, environ=environ, offline=offline))
    for finding in findings:
        click.echo(finding.line())
    if not all(f.ok for f in findings):
        sys.exit(1)
