"""Remove this account's secrets from anything the venue (or a proxy) sends back.

A proxy or an error page may echo the request headers: the API key id and the request's
signature would then reach exception messages, the journal and every later report. Each
secret is removed in the forms it can come back in: as sent, base64 (standard and URL-safe,
with or without padding), hex, and percent-encoded.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from urllib.parse import quote

REPLACEMENT = "[redacted]"
#: Shorter values are not scrubbed: they would match ordinary words and numbers.
MIN_SECRET_LENGTH = 8


def _forms(secret: str) -> set[str]:
    raw = secret.encode()
    forms = {secret, quote(secret, safe=""), raw.hex(), raw.hex().upper()}
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode()
        forms.update({text, text.rstrip("=")})
    try:  # a signature header is itself base64: its bytes may come back as hex or URL-safe
        decoded = base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) >= MIN_SECRET_LENGTH:
        url = base64.urlsafe_b64encode(decoded).decode()
        forms.update({decoded.hex(), decoded.hex().upper(), url, url.rstrip("=")})
    return {f for f in forms if len(f) >= MIN_SECRET_LENGTH}


def scrub(text: str | None, secrets: Iterable[str | None]) -> str | None:
    """``text`` with every form of every secret replaced by ``[redacted]``."""
    if not text:
        return text
    forms = sorted({f for s in secrets if s for f in _forms(s)}, key=len, reverse=True)
    for form in forms:
        if form in text:
            text = text.replace(form, REPLACEMENT)
    return text
