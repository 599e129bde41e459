"""Known secrets removed from venue text before the engine journals or shows it.

Venue plugins scrub what their venue sends back; this is the core's second line, for the
text a plugin did not scrub (an exception it did not expect, a new error path). A venue
adapter may offer ``known_secrets()`` (optional; see ``arbexec.exchange.Exchange``) listing
its account's secrets; the engine's recorder replaces each of them, as sent and in hex,
base64 (both alphabets, padded or not) and percent-encoded form, in every reason and every
string of every event before it reaches the journal or a sink.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

REDACTED = "[redacted]"
#: Shorter values are not scrubbed: they would match ordinary words and numbers.
MIN_LENGTH = 8


def secret_forms(secret: str) -> set[str]:
    """``secret`` and the encodings it may come back in."""
    raw = secret.encode()
    forms = {secret, quote(secret, safe=""), raw.hex()}
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode()
        forms.update((text, text.rstrip("=")))
    if secret[:2] in ("0x", "0X"):
        forms.add(secret[2:])
    return {form for form in forms if len(form) >= MIN_LENGTH}


class SecretScrubber:
    """Replaces every form of every known secret by ``[redacted]`` (case-insensitively)."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        forms = {form for s in secrets if isinstance(s, str) and s for form in secret_forms(s)}
        ordered = sorted(forms, key=len, reverse=True)
        self._pattern = (re.compile("|".join(map(re.escape, ordered)), re.IGNORECASE)
                         if ordered else None)

    def __bool__(self) -> bool:
        return self._pattern is not None

    def text(self, value: str) -> str:
        return value if self._pattern is None else self._pattern.sub(REDACTED, value)

    def value(self, value: Any) -> Any:
        """Strings scrubbed anywhere inside mappings, lists and tuples; the rest as is."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.value(v) for v in value)
        return value


def venue_secrets(venues: Iterable[Any]) -> SecretScrubber:
    """A scrubber of every secret the venues name through their optional
    ``known_secrets()``; a venue without it, or whose method fails, adds nothing."""
    secrets: list[str] = []
    for venue in venues:
        known = getattr(venue, "known_secrets", None)
        if not callable(known):
            continue
        try:
            secrets.extend(s for s in known() if isinstance(s, str))
        except Exception:  # a plugin bug must not stop the engine
            continue
    return SecretScrubber(secrets)
