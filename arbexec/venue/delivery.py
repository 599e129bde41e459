"""The send-once rule: which transport failures prove that a request was not sent.

Exactly-once rests on one question after a failed write: could the venue have received
it? Only a failure that happens before the first byte of the request leaves this host
proves it did not; every other failure after the write began is ambiguous, and a write
that may have landed is resolved by lookup, never sent again.

Verdicts over httpx's hierarchy (``TransportError`` subclasses), each with its reason:

==========================  =========  ==================================================
``ConnectError``            not sent   TCP connect, DNS resolution or the TLS handshake
                                       failed: no connection, so no request on it.
``ConnectTimeout``          not sent   the connection was never established in time.
``PoolTimeout``             not sent   no connection could be taken from the pool; the
                                       request waited for one and was never written.
``ProxyError``              not sent   the proxy refused the tunnel (HTTP ``CONNECT`` not
                                       2xx, SOCKS handshake failed); the request was to go
                                       through that tunnel and never did.
``UnsupportedProtocol``     not sent   the URL's scheme has no transport; nothing opened.
``WriteTimeout``            ambiguous  part or all of the request may already be out (a
``WriteError``                         venue acts on a complete request it received).
``ReadTimeout``             ambiguous  the request was written; the answer did not come.
``ReadError``               ambiguous  the connection broke while waiting for the answer.
``RemoteProtocolError``     ambiguous  the venue (or a proxy) answered garbage or closed
                                       the connection after the request was written.
``LocalProtocolError``      ambiguous  usually raised before writing, but h11 can raise it
                                       while streaming a body; only proof counts.
``CloseError``              ambiguous  closing failed after the exchange.
anything else               ambiguous  unknown failures are never taken as proof.
==========================  =========  ==================================================

The venue clients' own transport (``arbexec.venue.streams``) raises these same classes,
each for the phase it names, and none of the "not sent" ones after it began writing; a
transport that raises anything else (another library's exceptions) is ambiguous by this
rule until its failures are mapped here with proof.
"""

from __future__ import annotations

import httpx

from arbexec.errors import AmbiguousSubmission, ExchangeError, NetworkError

#: The transport failures that prove a request never left this host (see the table).
NOT_SENT: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
)


def was_not_sent(error: BaseException) -> bool:
    """True only when ``error`` proves the request was never sent."""
    return isinstance(error, NOT_SENT)


def transport_failure(
    error: httpx.TransportError, *, venue: str, what: str, write: bool
) -> ExchangeError:
    """The arbexec error for a transport failure of ``what`` (``"POST /order"``).

    A failure that proves nothing was sent is ``NetworkError`` (safe to try again); any
    other failure of a write is ``AmbiguousSubmission`` (look it up, never resend); a read
    that failed is a ``NetworkError`` whatever happened (reads change nothing)."""
    kind = type(error).__name__
    if was_not_sent(error):
        return NetworkError(f"{what}: could not connect ({kind}); nothing was sent", venue=venue)
    if write:
        return AmbiguousSubmission(
            f"{what}: {kind} after sending; the venue may have received it", venue=venue
        )
    return NetworkError(f"{what} failed: {kind} (no answer from the venue)", venue=venue)
