"""Recorded-HTTP helpers: cassette placement, secret scrubbing, a JSON body matcher.

Cassettes live under the repository's top-level ``cassettes/<plugin>/<test module>/`` and
are replayed with record mode ``none``. Nothing secret may be written into them: auth
headers are replaced by ``REDACTED``, ``set-cookie`` is dropped from responses, and every
credential value found in the environment is replaced wherever it appears.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REDACTED = "REDACTED"

#: Request headers that carry credentials or signatures on the venues we know.
SECRET_HEADERS: tuple[str, ...] = (
    "authorization",
    "cookie",
    "POLY_ADDRESS",
    "POLY_SIGNATURE",
    "POLY_TIMESTAMP",
    "POLY_NONCE",
    "POLY_API_KEY",
    "POLY_PASSPHRASE",
    "KALSHI-ACCESS-KEY",
    "KALSHI-ACCESS-SIGNATURE",
    "KALSHI-ACCESS-TIMESTAMP",
)

#: Environment variables whose values must never be recorded.
SECRET_ENV_VARS: tuple[str, ...] = (
    "POLYMARKET_PRIVATE_KEY",
    "POLYMARKET_API_KEY",
    "POLYMARKET_API_SECRET",
    "POLYMARKET_API_PASSPHRASE",
    "POLYMARKET_KEYSTORE_PASSPHRASE",
    "KALSHI_API_KEY_ID",
    "KALSHI_PRIVATE_KEY",
    "KALSHI_PRIVATE_KEY_PASSPHRASE",
)

#: JSON keys whose values change on every request (salts, timestamps, signatures).
VOLATILE_KEYS: frozenset[str] = frozenset(
    {"salt", "timestamp", "nonce", "signature", "expiration", "client_order_id", "ts"}
)

#: JSON keys whose values are credentials or signatures, in request and response bodies
#: (a signed order's ``signature``, Polymarket's ``owner`` API key, the credentials an
#: API-key endpoint returns). Replaced by ``REDACTED`` when recording; ignored by the
#: body matcher, so a replay with other dummy credentials still matches.
SECRET_BODY_KEYS: frozenset[str] = frozenset(
    {"signature", "secret", "passphrase", "apiKey", "api_key", "owner", "private_key",
     "privateKey", "key_id"}
)

#: Response headers that are volatile infrastructure noise or could carry session state.
DROPPED_RESPONSE_HEADERS: frozenset[str] = frozenset(
    {"set-cookie", "date", "cf-ray", "x-request-id", "server-timing"}
)


def repository_root(start: Path) -> Path:
    """The nearest ancestor holding ``cassettes/`` (or a ``.git``), else ``start``."""
    for candidate in (start, *start.parents):
        if (candidate / "cassettes").is_dir() or (candidate / ".git").exists():
            return candidate
    return start


def cassette_dir_for(test_path: Path, plugin: str | None = None) -> Path:
    """``cassettes/<plugin>/<module stem>`` for a test module under ``tests/<plugin>/``."""
    root = repository_root(test_path.parent)
    if plugin is None:
        try:
            parts = test_path.relative_to(root / "tests").parts
        except ValueError:
            parts = ()
        plugin = parts[0] if len(parts) > 1 else "core"
    return root / "cassettes" / plugin / test_path.stem


def _strip_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_volatile(v) for k, v in value.items()
                if k not in VOLATILE_KEYS and k not in SECRET_BODY_KEYS}
    if isinstance(value, list):
        return [_strip_volatile(v) for v in value]
    return value


def _body_text(request: Any) -> str:
    body = request.body
    if body is None:
        return ""
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return str(body)


def stable_json_body(r1: Any, r2: Any) -> None:
    """vcrpy matcher: equal JSON bodies once volatile keys are removed; raw equality else."""
    t1, t2 = _body_text(r1), _body_text(r2)
    try:
        equal = _strip_volatile(json.loads(t1 or "null")) == _strip_volatile(
            json.loads(t2 or "null")
        )
    except ValueError:
        equal = t1 == t2
    if not equal:
        raise AssertionError(f"JSON bodies differ beyond volatile keys: {t1!r} != {t2!r}")


def secret_values(extra: Iterable[str] = ()) -> list[str]:
    values = [os.environ.get(name, "") for name in SECRET_ENV_VARS]
    return [v for v in (*values, *extra) if v and len(v) >= 6]


def redact_json(text: str) -> str:
    """``text`` with every value under a ``SECRET_BODY_KEYS`` key replaced, at any depth;
    text that is not JSON comes back unchanged."""
    try:
        data = json.loads(text)
    except ValueError:
        return text

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: REDACTED if k in SECRET_BODY_KEYS and v not in (None, "")
                    else walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return json.dumps(walk(data), separators=(",", ":"))


def _scrub_request(request: Any) -> Any:
    body = _body_text(request)
    if body:
        request.body = redact_json(body).encode()
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in DROPPED_RESPONSE_HEADERS:
            del headers[name]
    body = response.get("body", {})
    raw = body.get("string") if isinstance(body, dict) else None
    if isinstance(raw, bytes | str) and raw:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        scrubbed = redact_json(text)
        if scrubbed != text:
            body["string"] = scrubbed.encode() if isinstance(raw, bytes) else scrubbed
    return response


def vcr_config(extra_secrets: Iterable[str] = ()) -> dict[str, Any]:
    """The ``vcr_config`` every venue test module should use (via the pytest fixture)."""
    return {
        "filter_headers": [(name, REDACTED) for name in SECRET_HEADERS],
        "filter_sensitive_data": {
            f"<SECRET_{i}>": value for i, value in enumerate(secret_values(extra_secrets))
        },
        "before_record_request": _scrub_request,
        "before_record_response": _scrub_response,
        "decode_compressed_response": True,
        "match_on": ("method", "scheme", "host", "port", "path", "query", "stable_json_body"),
    }


def find_secrets_in_text(text: str, secrets: Iterable[str]) -> list[str]:
    """The secrets (by position in the list) that appear in ``text``: for hygiene tests."""
    return [s for s in secrets if s and s in text]
