"""The faults of the fault table, each applied to a venue's order POST.

A fault is *before delivery* (the stand-in never sees the order: refused, connect timeout,
reset while writing, a status answered at the door) or *after delivery* (the stand-in took
the order and the answer is lost or mangled). Which is which decides what the engine may
conclude, and the table checks it did.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from attrs import frozen

from arbexec.testing import faults as f

HTML = "<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>"
OVERSIZED = b"{" + b'"pad":"' + b"x" * (4 * 1024 * 1024) + b'"'  # 4 MiB, never closed
UNREADABLE = b"\xff\xfe\x00\x9c{garbage"


def _write_error(method: str, path: str) -> f.Fault:
    """The connection dropped while the request was being written: part of it may have
    reached the venue, so nothing is proved."""
    def act(request: httpx.Request, _response: httpx.Response | None) -> httpx.Response:
        raise httpx.WriteError("connection reset while sending (injected)", request=request)

    return f.Fault(name="write_error", method=method, path=path, action=act)


def _other_order(content: bytes) -> bytes:
    """The stand-in's answer, rewritten to speak of a different order."""
    payload = json.loads(content)

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "orderID" and value:
                    out[key] = "0x" + "ab" * 32
                elif key in ("order_id", "client_order_id") and value:
                    out[key] = f"someone-else-{value}"[:60]
                else:
                    out[key] = rewrite(value)
            return out
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        return node

    return json.dumps(rewrite(payload)).encode()


@frozen
class FaultCase:
    id: str
    label: str
    delivered: bool  # did the stand-in receive the order?
    make: Callable[[str, str], list[f.Fault]] | None  # None: the venue is slowed instead
    slow: bool = False


def _refused(m: str, p: str) -> list[f.Fault]:
    return [f.refuse(m, p)]


CASES: tuple[FaultCase, ...] = (
    FaultCase("refused", "connection refused", False, _refused),
    FaultCase("reset-request", "reset mid-request (while writing)", False,
              lambda m, p: [_write_error(m, p)]),
    FaultCase("reset-response", "reset mid-response", True, lambda m, p: [f.reset(m, p)]),
    FaultCase("timeout-before", "timeout before the send (connect)", False,
              lambda m, p: [f.connect_timeout(m, p)]),
    FaultCase("timeout-after", "timeout after the send (read)", True,
              lambda m, p: [f.read_timeout(m, p)]),
    FaultCase("slow", "slow response (answered)", True, None, slow=True),
    FaultCase("5xx", "502 from a proxy", False,
              lambda m, p: [f.respond(m, p, 502, body=HTML,
                                      headers={"content-type": "text/html"})]),
    FaultCase("5xx-after", "500 after the venue acted", True,
              lambda m, p: [f.mangle(m, p, status=500, json={"error": "internal error"})]),
    FaultCase("425", "425 too early (once)", False,
              lambda m, p: [f.respond(m, p, 425, json={"error": "matching engine restarting"})]),
    FaultCase("429-retry-after", "429 with Retry-After", False,
              lambda m, p: [f.respond(m, p, 429, json={"error": "too many requests"},
                                      headers={"retry-after": "1"})]),
    FaultCase("429", "429 without Retry-After", False,
              lambda m, p: [f.respond(m, p, 429, json={"error": "too many requests"})]),
    FaultCase("html", "200 HTML page", True,
              lambda m, p: [f.mangle(m, p, status=200, body=HTML,
                                     headers={"content-type": "text/html"})]),
    FaultCase("truncated", "200 truncated JSON", True,
              lambda m, p: [f.mangle(m, p, status=200,
                                     transform=lambda b: b[: max(len(b) // 2, 1)])]),
    FaultCase("malformed", "200 malformed JSON", True,
              lambda m, p: [f.mangle(m, p, status=200, body=b'{"success": tru, ,}',
                                     headers={"content-type": "application/json"})]),
    FaultCase("content-type", "200 JSON as text/plain", True,
              lambda m, p: [f.mangle(m, p, headers={"content-type": "text/plain"})]),
    FaultCase("oversized", "200 oversized body (4 MiB)", True,
              lambda m, p: [f.mangle(m, p, status=200, body=OVERSIZED,
                                     headers={"content-type": "application/json"})]),
    FaultCase("unreadable", "200 unreadable body (not UTF-8)", True,
              lambda m, p: [f.mangle(m, p, status=200, body=UNREADABLE,
                                     headers={"content-type": "application/json"})]),
    FaultCase("other-order", "answer for a different order", True,
              lambda m, p: [f.mangle(m, p, transform=_other_order)]),
)

#: Faults of the paper venue, made with its switches (it speaks no HTTP).
PAPER_CASES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("refused", "outage switch (venue unavailable)", {"outage": True}),
    ("reject", "reject_rate 1 (venue refuses)", {"reject_rate": 1.0}),
    ("timeout-after", "ambiguous_rate 1 (acknowledgement lost)", {"ambiguous_rate": 1.0}),
    ("slow", "latency 50 ms (answered)", {"latency": (0.05, 0.05)}),
)
