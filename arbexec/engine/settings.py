"""The engine's tunables (from ``[engine]`` in the deployment file)."""

from __future__ import annotations

from attrs import frozen


@frozen(kw_only=True)
class EngineSettings:
    wait_budget: float = 2.0  # seconds to follow a resting order before reporting it
    max_in_flight: int = 512  # requests executing at once (all venues)
    venue_concurrency: int = 64  # sends in flight per venue
    poll_interval: float = 0.05  # first poll delay when following an order
    poll_max_interval: float = 2.0
    # Wall-clock seconds from the send during which a lookup that finds nothing proves
    # nothing; only after it may an order the venue never acknowledged be "never received".
    unknown_grace: float = 10.0
    # Seconds an order waits for an in-flight slot of a venue whose health is unknown or
    # failing (the circuit breaker's threshold) before it is denied ``breaker_in_flight``.
    in_flight_wait: float = 30.0
    breaker_window: float = 60.0  # seconds of outcomes kept for reject-rate checks
    # Seconds a venue's streamed book may be old when a rule needs the book (price bands,
    # a pair's legs); older or not streamed: read. The deployment's [arbitrage] max_book_age.
    max_book_age: float = 0.0
    background_tracking: bool = True
