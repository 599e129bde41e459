"""Polymarket's published rate limits, as data for the toolkit's ``RateLimiter``.

docs.polymarket.com (rate limits): Cloudflare throttles per IP, then answers 429 with a
``Retry-After``. Keys are ``"METHOD path"`` of CLOB calls; ``"*"`` is the CLOB-wide limit
every call also pays. Trading endpoints have a burst (per 10 s) and a sustained (per
10 min) window; both must have room. Each call costs one request.
"""

from __future__ import annotations

from arbexec.api import Window

_BURST = 10.0
_SUSTAINED = 600.0

CLOB_LIMITS: dict[str, tuple[Window, ...]] = {
    "*": (Window(9000, _BURST),),
    "GET /book": (Window(1500, _BURST),),
    "GET /price": (Window(1500, _BURST),),
    "GET /midpoint": (Window(1500, _BURST),),
    "GET /tick-size": (Window(200, _BURST),),
    "GET /balance-allowance": (Window(200, _BURST),),
    "GET /balance-allowance/update": (Window(50, _BURST),),
    "GET /data/orders": (Window(500, _BURST),),
    "GET /data/trades": (Window(500, _BURST),),
    "POST /order": (Window(3500, _BURST), Window(36000, _SUSTAINED)),
    "DELETE /order": (Window(3000, _BURST), Window(30000, _SUSTAINED)),
    "POST /orders": (Window(1000, _BURST), Window(15000, _SUSTAINED)),
    "DELETE /orders": (Window(1000, _BURST), Window(15000, _SUSTAINED)),
    "DELETE /cancel-all": (Window(250, _BURST), Window(6000, _SUSTAINED)),
    "DELETE /cancel-market-orders": (Window(1000, _BURST), Window(1500, _SUSTAINED)),
}

#: Gamma (market metadata), per IP: 4 000 requests / 10 s in general, 300 / 10 s for
#: ``/markets`` listings (docs.polymarket.com, rate limits). Paid by catalogue syncs.
GAMMA_LIMITS: dict[str, tuple[Window, ...]] = {
    "*": (Window(4000, _BURST),),
    "GET /markets": (Window(300, _BURST),),
    "GET /events": (Window(500, _BURST),),
}
