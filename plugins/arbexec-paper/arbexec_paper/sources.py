"""Where a simulated market's liquidity comes from.

A source gives the market's *base* YES book (bids best first, asks best first) and moves it
one step at a time. Three kinds: a seeded random walk, recorded frames from a snapshot file,
and shadow books fetched from another venue. Liquidity our own orders consume is tracked by
the market on top of the base book, not here.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from arbexec.api import ONE, ConfigError, OrderBook, to_decimal
from arbexec_paper.config import WalkMarket

Level = tuple[Decimal, Decimal]  # (price, size)
Levels = tuple[Level, ...]


class BookSource(Protocol):
    steps: int
    fingerprint: str  # what the saved state of this source is only valid for

    def levels(self) -> tuple[Levels, Levels]: ...

    def step(self, count: int = 1) -> None: ...

    def state(self) -> dict[str, Any]: ...

    def restore(self, state: Mapping[str, Any]) -> None: ...


def market_seed(seed: int, market: str) -> int:
    """Each market's own stream, so adding a market never changes another one's path."""
    digest = hashlib.sha256(f"{seed}:{market}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


class RandomWalk:
    """The best bid moves one tick down or up with probability ``volatility / 2`` each per
    step (reflected at the edges of (0, 1)); the ask sits ``spread_ticks`` above; each side
    shows the configured depth, best level first."""

    def __init__(self, spec: WalkMarket, seed: int) -> None:
        self.spec = spec
        self.tick = spec.tick_size
        self._ticks_per_dollar = int(ONE / spec.tick_size)
        half = spec.spread_ticks // 2
        self.bid_ticks = int(spec.mid / spec.tick_size) - half
        self._low = 1
        self._high = self._ticks_per_dollar - 1 - spec.spread_ticks
        self.bid_ticks = min(max(self.bid_ticks, self._low), self._high)
        self.steps = 0
        self._rng = random.Random(market_seed(seed, spec.market))
        self.fingerprint = (f"walk seed={seed} mid={spec.mid} tick={spec.tick_size} "
                            f"spread={spec.spread_ticks} volatility={spec.volatility} "
                            f"depth={','.join(map(str, spec.depth))}")
        self._cache: tuple[Levels, Levels] | None = None

    def levels(self) -> tuple[Levels, Levels]:
        if self._cache is None:
            tick, top = self.tick, self._ticks_per_dollar
            bid, ask = self.bid_ticks, self.bid_ticks + self.spec.spread_ticks
            bids = tuple(
                (tick * (bid - i), size)
                for i, size in enumerate(self.spec.depth)
                if bid - i > 0
            )
            asks = tuple(
                (tick * (ask + i), size)
                for i, size in enumerate(self.spec.depth)
                if ask + i < top
            )
            self._cache = (bids, asks)
        return self._cache

    def step(self, count: int = 1) -> None:
        half = self.spec.volatility / 2
        vol = self.spec.volatility
        rng = self._rng.random
        bid = self.bid_ticks
        for _ in range(count):
            u = rng()
            if u < half:
                bid -= 1
            elif u < vol:
                bid += 1
            if bid < self._low:
                bid = self._low + 1 if self._low + 1 <= self._high else self._low
            elif bid > self._high:
                bid = self._high - 1 if self._high - 1 >= self._low else self._high
        self.steps += count
        if bid != self.bid_ticks:
            self.bid_ticks = bid
            self._cache = None

    def state(self) -> dict[str, Any]:
        version, internal, gauss = self._rng.getstate()
        return {"bid_ticks": self.bid_ticks, "steps": self.steps,
                "rng": [version, list(internal), gauss]}

    def restore(self, state: Mapping[str, Any]) -> None:
        self.bid_ticks = int(state["bid_ticks"])
        self.steps = int(state["steps"])
        version, internal, gauss = state["rng"]
        self._rng.setstate((version, tuple(internal), gauss))
        self._cache = None


class Frames:
    """Recorded books replayed in order: one frame per step, holding on the last one
    (or cycling when ``loop`` is set)."""

    def __init__(self, frames: tuple[tuple[Levels, Levels], ...], loop: bool = False) -> None:
        self.frames = frames
        self.loop = loop
        self.steps = 0
        digest = hashlib.sha256(repr((frames, loop)).encode()).hexdigest()[:16]
        self.fingerprint = f"frames {digest}"

    def levels(self) -> tuple[Levels, Levels]:
        index = self.steps % len(self.frames) if self.loop else min(self.steps,
                                                                    len(self.frames) - 1)
        return self.frames[index]

    def step(self, count: int = 1) -> None:
        self.steps += count

    def state(self) -> dict[str, Any]:
        return {"steps": self.steps}

    def restore(self, state: Mapping[str, Any]) -> None:
        self.steps = int(state["steps"])


class ShadowSource:
    """The latest book fetched from the upstream venue; ``replace`` is called on refresh."""

    fingerprint = "shadow"

    def __init__(self) -> None:
        self.steps = 0
        self.fetched_at: float | None = None
        self._levels: tuple[Levels, Levels] = ((), ())

    def levels(self) -> tuple[Levels, Levels]:
        return self._levels

    def replace(self, book: OrderBook, at: float) -> None:
        self._levels = (
            tuple((lv.price, lv.size) for lv in book.bids),
            tuple((lv.price, lv.size) for lv in book.asks),
        )
        self.fetched_at = at
        self.steps += 1

    def step(self, count: int = 1) -> None:
        """A shadow book moves only when it is fetched again."""

    def state(self) -> dict[str, Any]:
        return {"steps": self.steps}

    def restore(self, state: Mapping[str, Any]) -> None:
        self.steps = int(state.get("steps", 0))


# ---------------------------------------------------------------------------- snapshot files


class SnapshotMarket:
    """One market read from a snapshot file: its grid and its frames."""

    def __init__(self, market: str, tick_size: Decimal, quantity_step: Decimal,
                 min_quantity: Decimal, event: str | None, source: Frames) -> None:
        self.market = market
        self.tick_size = tick_size
        self.quantity_step = quantity_step
        self.min_quantity = min_quantity
        self.event = event
        self.source = source


def load_snapshot(path: str) -> list[SnapshotMarket]:
    """Read a snapshot file (format in docs/venues/paper.md)."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the snapshot file: {exc.strerror}", key="snapshot",
                          source=path) from None
    except ValueError as exc:
        raise ConfigError(f"the snapshot file is not JSON: {exc}", key="snapshot",
                          source=path) from None
    markets = document.get("markets") if isinstance(document, dict) else None
    if not isinstance(markets, dict) or not markets:
        raise ConfigError("a snapshot holds {\"markets\": {\"<id>\": {...}}}", key="markets",
                          source=path)
    return [_snapshot_market(name, body, path) for name, body in markets.items()]


def _snapshot_market(name: str, body: Any, path: str) -> SnapshotMarket:
    key = f"markets.{name}"
    if not isinstance(body, dict):
        raise ConfigError("must be an object", key=key, source=path)
    try:
        tick = to_decimal(body.get("tick_size", "0.01"))
        step = to_decimal(body.get("quantity_step", "1"))
        minimum = to_decimal(body.get("min_quantity", step))
        raw_frames = body.get("frames", [body])
        if not isinstance(raw_frames, list) or not raw_frames:
            raise ValueError("'frames' must be a non-empty list of {bids, asks}")
        frames = tuple(_frame(frame, tick, step) for frame in raw_frames)
    except (TypeError, ValueError, KeyError) as exc:
        raise ConfigError(str(exc), key=key, source=path) from None
    event = body.get("event")
    return SnapshotMarket(name, tick, step, minimum, event if isinstance(event, str) else None,
                          Frames(frames, loop=bool(body.get("loop", False))))


def _frame(frame: Any, tick: Decimal, step: Decimal) -> tuple[Levels, Levels]:
    if not isinstance(frame, dict):
        raise ValueError("a frame is an object with 'bids' and 'asks'")
    book = OrderBook(venue="snapshot", market="snapshot",
                     bids=sorted(frame.get("bids", []), key=lambda lv: -to_decimal(lv[0])),
                     asks=sorted(frame.get("asks", []), key=lambda lv: to_decimal(lv[0])))
    for level in (*book.bids, *book.asks):
        if level.price % tick or level.size % step:
            raise ValueError(f"level {level.price} x {level.size} is off the grid "
                             f"(tick {tick}, quantity step {step})")
    if book.bids and book.asks and book.bids[0].price >= book.asks[0].price:
        raise ValueError(f"a frame is crossed: bid {book.bids[0].price} >= ask "
                         f"{book.asks[0].price}")
    return (tuple((lv.price, lv.size) for lv in book.bids),
            tuple((lv.price, lv.size) for lv in book.asks))
