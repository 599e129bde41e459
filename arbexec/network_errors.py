"""One sentence for a failed network call: which host, what failed, whether anything was
sent, and what to do.

A user reading ``ConnectError`` cannot tell a typo in a host name from a firewall, or know
whether an order may have left. The cause chain of the exception (socket, ssl, httpx,
httpcore) says which step failed; this names it in the user's terms.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator

#: What to do, per failed step.
_FIX = {
    "DNS lookup": "check the host name and the DNS settings (or the network connection)",
    "proxy": "check the proxy URL, that the proxy runs, and its credentials",
    "TLS handshake": "check the system clock, the CA certificates, and any intercepting "
                     "proxy",
    "connect": "check the network, a firewall, and that the host and port are right",
    "timeout": "retry later, or check the network",
    "connection": "retry later, or check the network",
}

#: Steps that fail before a request leaves: nothing was sent.
_BEFORE_SENDING = frozenset({"DNS lookup", "proxy", "TLS handshake", "connect"})


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def failed_step(exc: BaseException) -> str | None:
    """``DNS lookup``, ``proxy``, ``TLS handshake``, ``connect``, ``timeout`` or
    ``connection``; None when ``exc`` is not a network failure."""
    names = {type(e).__name__ for e in _chain(exc)}
    errors = list(_chain(exc))
    if any(isinstance(e, socket.gaierror) for e in errors) or any(
            "name or service not known" in str(e).lower()
            or "nodename nor servname" in str(e).lower()
            or "temporary failure in name resolution" in str(e).lower() for e in errors):
        return "DNS lookup"
    if "ProxyError" in names:
        return "proxy"
    if any(isinstance(e, ssl.SSLError) for e in errors):
        return "TLS handshake"
    if names & {"ConnectError", "ConnectTimeout"} or any(
            isinstance(e, ConnectionRefusedError) for e in errors):
        return "connect"
    if names & {"ReadTimeout", "WriteTimeout", "PoolTimeout", "TimeoutException"} or any(
            isinstance(e, TimeoutError) for e in errors):
        return "timeout"
    if names & {"ReadError", "WriteError", "RemoteProtocolError", "NetworkError",
                "TransportError"} or any(isinstance(e, ConnectionError) for e in errors):
        return "connection"
    return None


def _host(exc: BaseException) -> str | None:
    for e in _chain(exc):
        try:
            return str(e.request.url.host)  # type: ignore[attr-defined]
        except (AttributeError, RuntimeError):
            continue
    return None


def describe_network_error(exc: BaseException, *, host: str | None = None, sent: bool | None = None,
             what: str = "the request") -> str | None:
    """A one-line account of a network failure, or None when ``exc`` is not one.

    ``sent`` overrides the guess from the failed step (a caller knows when a request was
    handed over before the answer was lost)."""
    step = failed_step(exc)
    if step is None:
        return None
    where = host or _host(exc) or "the venue"
    if sent is None:
        sent = None if step not in _BEFORE_SENDING else False
    delivery = ("nothing was sent" if sent is False else
                f"{what} may have reached {where}" if sent is None else f"{what} was sent")
    return f"{step} to {where} failed ({type(exc).__name__}); {delivery}; {_FIX[step]}"
