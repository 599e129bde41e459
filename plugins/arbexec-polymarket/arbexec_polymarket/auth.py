"""L1 (wallet signature) and L2 (HMAC) request headers.

L2 signs ``timestamp + METHOD + path + body``: the path without host or query string and
the exact body bytes that are sent, so callers serialise a body once and pass those bytes
both here and to the HTTP layer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from attrs import field, frozen

from arbexec_polymarket.eip712 import clob_auth_digest
from arbexec_polymarket.signer import Signer


@frozen(kw_only=True)
class ApiCredentials:
    """A CLOB API key. None of its parts appears in a repr."""

    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    passphrase: str = field(repr=False)


def _secret_bytes(secret: str) -> bytes:
    padded = secret + "=" * (-len(secret) % 4)
    try:
        return base64.urlsafe_b64decode(padded)
    except ValueError:
        raise ValueError("the API secret is not url-safe base64") from None


def hmac_signature(secret: str, timestamp: str, method: str, path: str, body: str | bytes) -> str:
    """url-safe base64 (padding kept) HMAC-SHA256 of ``timestamp + METHOD + path + body``."""
    if isinstance(body, str):
        body = body.encode()
    message = (timestamp + method.upper() + path).encode() + body
    digest = hmac.new(_secret_bytes(secret), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()


class L2Signer:
    """Signs private requests for one API key (the decoded secret is kept, never shown)."""

    __slots__ = ("_key", "address", "credentials")

    def __init__(self, address: str, credentials: ApiCredentials) -> None:
        self.address = address
        self.credentials = credentials
        self._key = _secret_bytes(credentials.secret)

    def headers(
        self, method: str, path: str, body: bytes = b"", *, timestamp: int
    ) -> dict[str, str]:
        if "?" in path:
            path = path.split("?", 1)[0]
        ts = str(timestamp)
        message = (ts + method.upper() + path).encode() + body
        sig = base64.urlsafe_b64encode(hmac.new(self._key, message, hashlib.sha256).digest())
        return {
            "POLY_ADDRESS": self.address,
            "POLY_SIGNATURE": sig.decode(),
            "POLY_TIMESTAMP": ts,
            "POLY_API_KEY": self.credentials.api_key,
            "POLY_PASSPHRASE": self.credentials.passphrase,
        }

    def __repr__(self) -> str:
        return f"L2Signer(address={self.address})"


def l1_headers(signer: Signer, chain_id: int, *, timestamp: int, nonce: int = 0) -> dict[str, str]:
    """Headers for API-key creation/derivation: an EIP-712 ``ClobAuth`` signature."""
    ts = str(timestamp)
    digest = clob_auth_digest(signer.address, ts, nonce, chain_id)
    return {
        "POLY_ADDRESS": signer.address,
        "POLY_SIGNATURE": "0x" + signer.sign(digest).hex(),
        "POLY_TIMESTAMP": ts,
        "POLY_NONCE": str(nonce),
    }
