"""Removing this account's secrets from anything the venue (or a proxy) sends back.

An error page that echoes the request headers carries the API key, the passphrase and the
HMAC; a body may quote the order signature. Before such text becomes an exception message
(which is logged, journaled and printed) every known secret is replaced by ``[redacted]``,
in the forms it can take on the way back: as sent, base64 (both alphabets, padded or not),
hex (any case), and for the base64 API secret also its decoded bytes in those forms.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable

REDACTED = "[redacted]"
#: Shorter values are not scrubbed: they would match ordinary text.
MIN_LENGTH = 8


def _b64_forms(raw: bytes) -> set[str]:
    forms: set[str] = set()
    for encoder in (base64.b64encode, base64.urlsafe_b64encode):
        text = encoder(raw).decode()
        forms.update((text, text.rstrip("=")))
    return forms


def _decoded(value: str) -> bytes | None:
    text = value[2:] if value[:2] in ("0x", "0X") else value
    try:
        return bytes.fromhex(text)
    except ValueError:
        pass
    try:
        return base64.urlsafe_b64decode(
            value.replace("+", "-").replace("/", "_") + "=" * (-len(value) % 4)
        )
    except (binascii.Error, ValueError):
        return None


def encodings(value: str) -> set[str]:
    """``value`` and the encodings of it (and of the bytes it encodes) that may come back."""
    if len(value) < MIN_LENGTH:
        return set()
    raw = value.encode()
    forms = {value, raw.hex(), *_b64_forms(raw)}
    decoded = _decoded(value)
    if decoded and len(decoded) >= MIN_LENGTH // 2:
        forms.update((decoded.hex(), *_b64_forms(decoded)))
    if value[:2] in ("0x", "0X"):
        forms.add(value[2:])
    return {f for f in forms if len(f) >= MIN_LENGTH}


class Scrubber:
    """Replaces known secrets (in all their forms) by ``[redacted]``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        before = len(self._forms)
        for secret in secrets:
            if secret:
                self._forms.update(encodings(secret))
        if len(self._forms) != before:
            ordered = sorted(self._forms, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(f) for f in ordered), re.IGNORECASE)

    def __call__(self, text: str, extra: Iterable[str | None] = ()) -> str:
        """``text`` without the known secrets, nor ``extra`` ones (a request's signatures)."""
        if not text:
            return text
        if self._pattern is not None:
            text = self._pattern.sub(REDACTED, text)
        # A request's signatures are new on every call: a pattern per form would be
        # compiled per answer (a millisecond). Most answers hold none, so a case-folded
        # search finds the forms worth substituting first.
        folded = text.casefold()
        for secret in extra:
            for form in sorted(encodings(secret or ""), key=len, reverse=True):
                if form.casefold() in folded:
                    text = re.sub(re.escape(form), REDACTED, text, flags=re.IGNORECASE)
                    folded = text.casefold()
        return text

    def __repr__(self) -> str:
        return f"Scrubber({len(self._forms)} forms)"
