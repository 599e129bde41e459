"""Where Polymarket secrets come from. This module alone owns the environment variable names.

Each setting is read from the venue's options table first (the deployment file, secrets
already interpolated from the environment), then from its environment variable. Secrets
are held in fields that never appear in a repr, a log line or an exception message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from arbexec.api import ConfigError
from arbexec_polymarket.auth import ApiCredentials
from arbexec_polymarket.orders import SignatureType
from arbexec_polymarket.signer import InvalidKey, Signer

ENV_PRIVATE_KEY = "POLYMARKET_PRIVATE_KEY"
ENV_KEYSTORE = "POLYMARKET_KEYSTORE"
ENV_KEYSTORE_PASSPHRASE = "POLYMARKET_KEYSTORE_PASSPHRASE"
ENV_FUNDER = "POLYMARKET_FUNDER"
ENV_SIGNATURE_TYPE = "POLYMARKET_SIGNATURE_TYPE"
ENV_API_KEY = "POLYMARKET_API_KEY"
ENV_API_SECRET = "POLYMARKET_API_SECRET"
ENV_API_PASSPHRASE = "POLYMARKET_API_PASSPHRASE"
ENV_PROXY_URL = "POLYMARKET_PROXY_URL"

#: option key in the venue table -> environment variable.
OPTION_ENV: dict[str, str] = {
    "private_key": ENV_PRIVATE_KEY,
    "keystore_path": ENV_KEYSTORE,
    "keystore": ENV_KEYSTORE,  # the older spelling of keystore_path
    "keystore_passphrase": ENV_KEYSTORE_PASSPHRASE,
    "funder": ENV_FUNDER,
    "signature_type": ENV_SIGNATURE_TYPE,
    "api_key": ENV_API_KEY,
    "api_secret": ENV_API_SECRET,
    "api_passphrase": ENV_API_PASSPHRASE,
    "proxy_url": ENV_PROXY_URL,
}

SECRET_OPTIONS = frozenset(
    {"private_key", "keystore_passphrase", "api_secret", "api_passphrase", "api_key"}
)


def setting(
    options: Mapping[str, Any], key: str, env: Mapping[str, str] | None = None
) -> str | None:
    """The option's value, else its environment variable's, else None (blank is None)."""
    value = options.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        value = (os.environ if env is None else env).get(OPTION_ENV.get(key, ""), None)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


@frozen(kw_only=True)
class Credentials:
    """The wallet and API key of one Polymarket account (any part may be missing)."""

    signer: Signer | None = field(default=None, repr=False)
    signature_type: SignatureType = SignatureType.EOA
    funder: str | None = None
    api: ApiCredentials | None = field(default=None, repr=False)

    @property
    def address(self) -> str | None:
        return self.signer.address if self.signer else None

    def require_signer(self) -> Signer:
        if self.signer is None:
            raise ConfigError(
                f"no wallet key: set {ENV_PRIVATE_KEY}, or {ENV_KEYSTORE} and "
                f"{ENV_KEYSTORE_PASSPHRASE} (or the options private_key / keystore)"
            )
        return self.signer

    def require_api(self) -> ApiCredentials:
        if self.api is None:
            raise ConfigError(
                f"no API key: set {ENV_API_KEY}, {ENV_API_SECRET} and {ENV_API_PASSPHRASE} "
                "(create them with `arbexec polymarket derive-api-key`)"
            )
        return self.api


def load_signer(options: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Signer | None:
    key = setting(options, "private_key", env)
    # keystore_path follows the path-option convention, so a relative path in a deployment
    # is relative to the deployment file; `keystore` is the older spelling (taken as given)
    keystore = setting(options, "keystore_path", env) or setting(options, "keystore", env)
    if key and keystore:
        raise ConfigError(
            f"both {ENV_PRIVATE_KEY} and {ENV_KEYSTORE} are set; keep only one", key="private_key"
        )
    try:
        if key:
            return Signer.from_hex(key)
        if keystore:
            passphrase = setting(options, "keystore_passphrase", env)
            if passphrase is None:
                raise ConfigError(
                    f"{ENV_KEYSTORE} is set but {ENV_KEYSTORE_PASSPHRASE} is not",
                    key="keystore_passphrase",
                )
            return Signer.from_keystore(keystore, passphrase)
    except InvalidKey as exc:
        raise ConfigError(str(exc), key="keystore_path" if keystore else "private_key"
                          ) from None
    return None


def load_credentials(
    options: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> Credentials:
    """Read wallet, signature type, funder and API key; validate their shape."""
    options = options or {}
    signer = load_signer(options, env)
    raw_type = setting(options, "signature_type", env)
    try:
        signature_type = SignatureType.parse(raw_type) if raw_type else SignatureType.EOA
    except ValueError as exc:
        raise ConfigError(str(exc), key="signature_type") from None
    funder = setting(options, "funder", env)
    if funder is not None:
        from arbexec_polymarket.eip712 import to_checksum_address

        try:
            funder = to_checksum_address(funder)
        except ValueError:
            raise ConfigError(
                f"funder {funder!r} is not a 0x-prefixed 40-hex-digit address", key="funder"
            ) from None
    parts = [setting(options, k, env) for k in ("api_key", "api_secret", "api_passphrase")]
    api = None
    if all(parts):
        api = ApiCredentials(
            api_key=parts[0] or "", secret=parts[1] or "", passphrase=parts[2] or ""
        )
    elif any(parts):
        missing = [
            OPTION_ENV[k]
            for k, v in zip(("api_key", "api_secret", "api_passphrase"), parts, strict=True)
            if not v
        ]
        raise ConfigError(f"incomplete API key: also set {', '.join(missing)}", key="api_key")
    return Credentials(signer=signer, signature_type=signature_type, funder=funder, api=api)
