"""Request signing: ``KALSHI-ACCESS-*`` headers over ``timestamp_ms + METHOD + path``.

The key is parsed once, when the ``Signer`` is built; every request (and every retry) gets
a fresh timestamp and a fresh signature. RSA keys sign with RSA-PSS (SHA-256, MGF1-SHA-256,
salt length 32); Ed25519 keys sign the same message deterministically.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from attrs import field, frozen

from arbexec.api import AuthenticationError, ConfigError

HEADER_KEY = "KALSHI-ACCESS-KEY"
HEADER_TIMESTAMP = "KALSHI-ACCESS-TIMESTAMP"
HEADER_SIGNATURE = "KALSHI-ACCESS-SIGNATURE"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def signed_path(url_or_path: str) -> str:
    """The part of a URL that is signed: its path, without scheme, host or query."""
    path = urlsplit(url_or_path).path if "://" in url_or_path else url_or_path.split("?", 1)[0]
    return path or "/"


def message(timestamp_ms: int, method: str, url_or_path: str) -> bytes:
    """The exact bytes Kalshi verifies: no separators, method upper-case, no query."""
    return f"{int(timestamp_ms)}{method.upper()}{signed_path(url_or_path)}".encode()


def load_private_key(pem: str | bytes, passphrase: str | bytes | None = None) -> Any:
    """Parse a PEM private key (PKCS#1, PKCS#8, optionally encrypted). Errors never echo it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    data = pem.encode() if isinstance(pem, str) else pem
    if b"\\n" in data and b"\n" not in data.strip():
        data = data.replace(b"\\n", b"\n")  # PEM pasted into one env-var line
    password = passphrase.encode() if isinstance(passphrase, str) else passphrase
    try:
        key = serialization.load_pem_private_key(data, password=password or None)
    except TypeError as exc:
        text = str(exc).lower()
        if "encrypted" in text and "password was not given" in text:
            raise ConfigError(
                "the Kalshi private key is encrypted; set KALSHI_PRIVATE_KEY_PASSPHRASE "
                "(or the 'private_key_passphrase' option)"
            ) from None
        raise ConfigError(
            "a passphrase was given but the Kalshi private key is not encrypted; "
            "unset KALSHI_PRIVATE_KEY_PASSPHRASE"
        ) from None
    except ValueError:
        raise ConfigError(
            "the Kalshi private key could not be read (expected PEM: '-----BEGIN PRIVATE "
            "KEY-----' or '-----BEGIN RSA PRIVATE KEY-----'; wrong passphrase?)"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise ConfigError(f"Kalshi keys are RSA or Ed25519; this PEM holds a {type(key).__name__}")
    return key


def _rsa_signer(key: Any) -> Callable[[bytes], bytes]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
    digest = hashes.SHA256()

    def sign(data: bytes) -> bytes:
        return key.sign(data, pss, digest)

    return sign


@frozen
class Signer:
    """Signs requests for one API key. Build it with ``Signer.from_pem`` (key parsed once)."""

    key_id: str = field(repr=False)
    key_type: str  # "rsa" or "ed25519"
    _sign: Callable[[bytes], bytes] = field(repr=False, eq=False, alias="sign")
    _clock: Callable[[], int] = field(default=now_ms, repr=False, eq=False, alias="clock")

    @classmethod
    def from_pem(
        cls,
        key_id: str,
        pem: str | bytes,
        passphrase: str | bytes | None = None,
        *,
        clock: Callable[[], int] = now_ms,
    ) -> Signer:
        from cryptography.hazmat.primitives.asymmetric import ed25519

        if not key_id or not key_id.strip():
            raise ConfigError("the Kalshi API key id is empty (set KALSHI_API_KEY_ID)")
        key = load_private_key(pem, passphrase)
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return cls(key_id.strip(), "ed25519", sign=key.sign, clock=clock)
        if key.key_size < 2048:
            raise ConfigError(f"the Kalshi RSA key has {key.key_size} bits; 2048 or more needed")
        return cls(key_id.strip(), "rsa", sign=_rsa_signer(key), clock=clock)

    def signature(self, timestamp_ms: int, method: str, url_or_path: str) -> str:
        """Base64 (standard, padded) signature of one request."""
        try:
            raw = self._sign(message(timestamp_ms, method, url_or_path))
        except Exception as exc:  # a broken key must not leak details
            raise AuthenticationError(
                f"signing failed with the Kalshi {self.key_type} key ({type(exc).__name__})"
            ) from None
        return base64.b64encode(raw).decode("ascii")

    def headers(
        self, method: str, url_or_path: str, timestamp_ms: int | None = None
    ) -> dict[str, str]:
        """The three auth headers, stamped now unless a timestamp is given."""
        ts = self._clock() if timestamp_ms is None else int(timestamp_ms)
        return {
            HEADER_KEY: self.key_id,
            HEADER_TIMESTAMP: str(ts),
            HEADER_SIGNATURE: self.signature(ts, method, url_or_path),
        }
