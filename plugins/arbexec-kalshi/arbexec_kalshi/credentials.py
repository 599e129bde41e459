"""Kalshi credentials from the venue options or the environment, never printed."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from attrs import field, frozen

from arbexec.api import ConfigError
from arbexec_kalshi import environment as env
from arbexec_kalshi.signing import Signer, now_ms

log = logging.getLogger("arbexec.kalshi")


@frozen
class Credentials:
    """An API key id and its private key (PEM). Neither appears in a repr."""

    key_id: str = field(repr=False)
    private_key_pem: str = field(repr=False)
    passphrase: str | None = field(default=None, repr=False)
    source: str = "options"  # which key is in use, for messages (a setting or a path)

    def signer(self, *, clock: Callable[[], int] = now_ms) -> Signer:
        return Signer.from_pem(self.key_id, self.private_key_pem, self.passphrase, clock=clock)


def _read_pem_file(path: str, setting: str) -> str:
    file = Path(path).expanduser()
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{setting}: no such file: {file}") from None
    except OSError as exc:
        raise ConfigError(f"{setting}: cannot read {file} ({exc.strerror})") from None


def _pick(options: Mapping[str, Any], option: str, environ: Mapping[str, str], var: str) -> Any:
    value = options.get(option)
    if value in (None, ""):
        value = environ.get(var) or None
    return value


def _private_key(options: Mapping[str, Any], environ: Mapping[str, str]) -> tuple[Any, str]:
    """The PEM and where it came from. Explicit settings win over the environment, and
    within each the key text wins over a path; two explicit keys are a configuration
    error rather than a silent choice."""
    pem, path = options.get("private_key") or None, options.get("private_key_path") or None
    if pem and path:
        raise ConfigError(
            "both private_key and private_key_path are set for Kalshi; keep one of them"
        )
    if pem:
        return pem, "the private_key option"
    if path:
        return _read_pem_file(str(path), "private_key_path"), f"private_key_path {path}"
    if environ.get(env.ENV_PRIVATE_KEY):
        return environ[env.ENV_PRIVATE_KEY], env.ENV_PRIVATE_KEY
    if environ.get(env.ENV_PRIVATE_KEY_PATH):
        path = environ[env.ENV_PRIVATE_KEY_PATH]
        return _read_pem_file(path, env.ENV_PRIVATE_KEY_PATH), f"{env.ENV_PRIVATE_KEY_PATH} {path}"
    return None, ""


def load_credentials(
    options: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Credentials | None:
    """Credentials from ``options`` (``api_key_id``, ``private_key`` or ``private_key_path``,
    ``private_key_passphrase``), each falling back to its environment variable.

    An explicit ``private_key``/``private_key_path`` always wins over
    ``KALSHI_PRIVATE_KEY``/``KALSHI_PRIVATE_KEY_PATH``; ``source`` says which key is in
    use (logged at start). Returns None when no key id and no key are configured at all
    (public data only); raises ``ConfigError`` when only half of a credential is present.
    """
    options = options or {}
    environ = os.environ if environ is None else environ
    key_id = _pick(options, "api_key_id", environ, env.ENV_KEY_ID)
    passphrase = _pick(options, "private_key_passphrase", environ, env.ENV_PRIVATE_KEY_PASSPHRASE)
    configured = any(
        options.get(k) for k in ("private_key", "private_key_path")
    ) or any(environ.get(v) for v in (env.ENV_PRIVATE_KEY, env.ENV_PRIVATE_KEY_PATH))
    if not key_id and not configured:
        return None
    if not key_id:
        raise ConfigError(f"a Kalshi private key is configured but no key id; set {env.ENV_KEY_ID}")
    if not configured:
        raise ConfigError(
            f"a Kalshi key id is configured but no private key; set {env.ENV_PRIVATE_KEY} "
            f"or {env.ENV_PRIVATE_KEY_PATH}"
        )
    pem, source = _private_key(options, environ)
    log.info("kalshi: signing with the private key from %s", source)
    return Credentials(
        key_id=str(key_id).strip(),
        private_key_pem=str(pem),
        passphrase=str(passphrase) if passphrase else None,
        source=source,
    )
