"""The paper venue's settings, parsed once from the deployment's venue table.

Every key is documented in docs/venues/paper.md. Parsing fails with a ``ConfigError`` that
names the key and what would be valid, so a typo never silently becomes a default.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from attrs import field, frozen

from arbexec.api import ONE, ZERO, ConfigError, did_you_mean, to_decimal, utc_datetime
from arbexec_paper.fees import FeeModel, KalshiFees, NoFees, PolymarketFees


@frozen(kw_only=True)
class WalkMarket:
    """A market whose YES book follows a seeded random walk of the best bid."""

    market: str
    mid: Decimal
    tick_size: Decimal = Decimal("0.01")
    spread_ticks: int = 2
    depth: tuple[Decimal, ...] = (Decimal(200), Decimal(400), Decimal(700), Decimal(1000))
    volatility: float = 0.3  # probability of a one-tick move per step
    quantity_step: Decimal = ONE
    min_quantity: Decimal = ONE
    event: str | None = None
    #: what the catalogue lists (``arbexec markets sync``): a title, close time and rules
    title: str = ""
    close_time: str | None = None
    rules: str = ""
    resolution_source: str = ""


@frozen(kw_only=True)
class Realism:
    """Seeded switches that make the venue misbehave the way real ones do."""

    latency: tuple[float, float] = (0.0, 0.0)  # seconds, min and max
    reject_rate: float = 0.0
    ambiguous_rate: float = 0.0
    outage: bool = False


@frozen(kw_only=True)
class Shadow:
    """Books fetched from another installed venue type; fills simulated here."""

    venue: str
    options: Mapping[str, Any] = field(factory=dict, repr=False)
    markets: tuple[str, ...] = ()  # empty: any market the upstream venue knows
    refresh_seconds: float = 2.0


@frozen(kw_only=True)
class PaperConfig:
    seed: int = 0
    cash: Decimal = Decimal(10_000)
    fees: FeeModel = field(factory=NoFees)
    markets: tuple[WalkMarket, ...] = ()
    snapshot: str | None = None
    shadow: Shadow | None = None
    step_seconds: float = 1.0
    steps_per_order: int = 0
    replenish: Decimal = Decimal("0.5")
    max_catchup_steps: int = 1000
    flush_interval: float = 0.0  # save before acknowledging: a crash never loses a fill
    realism: Realism = field(factory=Realism)
    #: a sell beyond the contracts held: refused (Polymarket), or its excess bought as the
    #: other outcome at 1 - p (Kalshi's single YES book)
    sells_beyond_position: str = "refuse"


#: What a sell beyond the contracts held does (``sells_beyond_position``).
SELLS_BEYOND_POSITION = ("refuse", "open_opposite")


DEFAULT_MARKETS: tuple[WalkMarket, ...] = (
    WalkMarket(
        market="PAPER-ELECTION",
        mid=Decimal("0.52"),
        depth=(Decimal(300), Decimal(600), Decimal(900), Decimal(1500), Decimal(2500)),
        event="PAPER-POLITICS",
    ),
    WalkMarket(
        market="PAPER-FED-CUT",
        mid=Decimal("0.35"),
        depth=(Decimal(250), Decimal(500), Decimal(800), Decimal(1200)),
        event="PAPER-MACRO",
    ),
    WalkMarket(
        market="PAPER-BTC-100K",
        mid=Decimal("0.22"),
        volatility=0.5,
        depth=(Decimal(400), Decimal(700), Decimal(1000), Decimal(1600), Decimal(2000)),
        event="PAPER-CRYPTO",
    ),
    WalkMarket(
        market="PAPER-RAIN-NYC",
        mid=Decimal("0.64"),
        depth=(Decimal(150), Decimal(300), Decimal(450), Decimal(600)),
        event="PAPER-WEATHER",
    ),
    WalkMarket(
        market="PAPER-WORLD-CUP",
        mid=Decimal("0.78"),
        spread_ticks=3,
        depth=(Decimal(200), Decimal(350), Decimal(500), Decimal(800), Decimal(1200)),
        event="PAPER-SPORTS",
    ),
)

#: Upper bounds of the venue's numbers: every wait it makes is bounded, and an amount past
#: these is a typo, not a simulation.
MAX_SECONDS = 3600.0  # step_seconds, shadow refresh_seconds
MAX_FLUSH_INTERVAL = 3600.0
MAX_LATENCY_MS = 60_000  # a simulated send takes at most a minute
MAX_STEPS = 1_000_000
MAX_SPREAD_TICKS = 1000
MAX_LEVELS = 1000
MAX_FEE_FACTOR = Decimal(100)
MAX_AMOUNT = Decimal(10) ** 12  # cash, depth sizes (the core's quantity bound)


def _shown(value: Any) -> str:
    """A configured value in a message: short, one line, ASCII."""
    if isinstance(value, int) and abs(value) >= 10**30:
        return f"a {len(str(abs(value)))}-digit number"
    text = repr(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    return text.encode("ascii", "backslashreplace").decode("ascii")


_TOP_KEYS = frozenset(
    {
        "type",
        "seed",
        "cash",
        "fees",
        "markets",
        "include_default_markets",
        "snapshot",
        "shadow",
        "step_seconds",
        "steps_per_order",
        "replenish",
        "max_catchup_steps",
        "flush_interval",
        "latency_ms",
        "reject_rate",
        "ambiguous_rate",
        "outage",
        "sells_beyond_position",
    }
)
_MARKET_KEYS = frozenset(
    {"mid", "tick_size", "spread_ticks", "depth", "volatility", "quantity_step",
     "min_quantity", "event", "title", "close_time", "rules", "resolution_source"}
)
_SHADOW_KEYS = frozenset({"venue", "options", "markets", "refresh_seconds"})


class _Reader:
    """Typed reads from one table, with errors naming the full key."""

    def __init__(self, table: Mapping[str, Any], prefix: str, source: str | None) -> None:
        self.table = table
        self.prefix = prefix
        self.source = source

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(message, source=self.source, key=f"{self.prefix}{key}")

    def check_keys(self, allowed: frozenset[str]) -> None:
        for key in self.table:
            if key not in allowed:
                raise self.fail(key, f"unknown key{did_you_mean(key, allowed)}; valid keys are "
                                     f"{', '.join(sorted(allowed))}")

    def decimal(self, key: str, default: Decimal, *, low: Decimal | None = None,
                high: Decimal | None = None, strict: bool = False) -> Decimal:
        if key not in self.table:
            return default
        raw = self.table[key]
        if isinstance(raw, float):
            raise self.fail(key, f"write {raw!r} as a string (\"{raw!r}\") so it stays exact")
        if isinstance(raw, bool):
            raise self.fail(key, "must be a number, not true or false")
        try:
            value = to_decimal(raw)
        except (TypeError, ValueError) as exc:
            raise self.fail(key, f"{_shown(raw)} is not a number ({exc})") from None
        if high is None and abs(value) >= MAX_AMOUNT:
            raise self.fail(key, f"{value:.6g} must be below {MAX_AMOUNT:,f}")
        if low is not None and (value <= low if strict else value < low):
            raise self.fail(key, f"{value} must be {'above' if strict else 'at least'} {low}")
        if high is not None and (value >= high if strict else value > high):
            raise self.fail(key, f"{value} must be {'below' if strict else 'at most'} {high}")
        return value

    def number(self, key: str, default: float, *, high: float, low: float = 0.0) -> float:
        """A float in [low, high]: NaN, infinities and absurd values are refused."""
        if key not in self.table:
            return default
        raw = self.table[key]
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise self.fail(key, f"{_shown(raw)} must be a number")
        if (isinstance(raw, float) and not math.isfinite(raw)) or not low <= raw <= high:
            raise self.fail(key, f"{_shown(raw)} must be in [{low}, {high}]")
        return float(raw)

    def integer(self, key: str, default: int, *, high: int, low: int = 0) -> int:
        if key not in self.table:
            return default
        raw = self.table[key]
        if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
            raise self.fail(key, f"{_shown(raw)} must be a whole number from {low} to {high}")
        return raw

    def boolean(self, key: str, default: bool) -> bool:
        raw = self.table.get(key, default)
        if not isinstance(raw, bool):
            raise self.fail(key, f"{raw!r} must be true or false")
        return raw

    def string(self, key: str) -> str | None:
        raw = self.table.get(key)
        if raw is not None and (not isinstance(raw, str) or not raw.strip()):
            raise self.fail(key, f"{raw!r} must be a non-empty string")
        return raw

    def table_at(self, key: str) -> Mapping[str, Any]:
        raw = self.table.get(key, {})
        if not isinstance(raw, Mapping):
            raise self.fail(key, "must be a table")
        return raw


def parse_config(options: Mapping[str, Any], *, source: str | None = None,
                 prefix: str = "") -> PaperConfig:
    """Build a ``PaperConfig`` from a venue table (``[venues.<name>]``)."""
    top = _Reader(options, prefix, source)
    top.check_keys(_TOP_KEYS)
    seed = options.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int | str):
        raise top.fail("seed", f"{seed!r} must be a whole number or a string")
    shadow = _parse_shadow(top) if "shadow" in options else None
    markets = _parse_markets(top)
    if shadow is not None and ("markets" in options or "snapshot" in options):
        raise top.fail("shadow", "shadow mode takes its markets from the upstream venue; "
                       "remove 'markets' and 'snapshot'")
    if "snapshot" in options and "markets" in options:
        raise top.fail("snapshot", "a snapshot file brings its own markets; remove 'markets'")
    if shadow is not None or "snapshot" in options:
        markets = ()
    return PaperConfig(
        seed=_seed_int(seed),
        cash=top.decimal("cash", Decimal(10_000), low=ZERO),
        fees=_parse_fees(top),
        markets=markets,
        snapshot=top.string("snapshot"),
        shadow=shadow,
        step_seconds=top.number("step_seconds", 1.0, high=MAX_SECONDS),
        steps_per_order=top.integer("steps_per_order", 0, high=MAX_STEPS),
        replenish=top.decimal("replenish", Decimal("0.5"), low=ZERO, high=ONE),
        max_catchup_steps=top.integer("max_catchup_steps", 1000, low=1, high=MAX_STEPS),
        flush_interval=top.number("flush_interval", 0.0, high=MAX_FLUSH_INTERVAL),
        realism=Realism(
            latency=_parse_latency(top),
            reject_rate=top.number("reject_rate", 0.0, high=1.0),
            ambiguous_rate=top.number("ambiguous_rate", 0.0, high=1.0),
            outage=top.boolean("outage", False),
        ),
        sells_beyond_position=_sells_beyond_position(top),
    )


def _sells_beyond_position(top: _Reader) -> str:
    raw = top.table.get("sells_beyond_position", "refuse")
    if raw not in SELLS_BEYOND_POSITION:
        raise top.fail("sells_beyond_position",
                       f"{_shown(raw)} is not a choice; use \"refuse\" (a sell beyond the "
                       "contracts held is refused, as on Polymarket) or \"open_opposite\" "
                       "(its excess buys the other outcome at 1 - p, as on Kalshi)")
    return str(raw)


def _seed_int(seed: int | str) -> int:
    if isinstance(seed, int):
        return seed
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big")


def _parse_latency(top: _Reader) -> tuple[float, float]:
    raw = top.table.get("latency_ms", 0)
    if isinstance(raw, bool):
        raise top.fail("latency_ms", "must be milliseconds or [min, max]")
    if isinstance(raw, int | float):
        values = [raw, raw]
    elif isinstance(raw, list | tuple) and len(raw) == 2:
        values = list(raw)
    else:
        raise top.fail("latency_ms", f"{raw!r} must be milliseconds or [min, max]")
    if any(isinstance(v, bool) or not isinstance(v, int | float)
           or (isinstance(v, float) and not math.isfinite(v)) or not 0 <= v <= MAX_LATENCY_MS
           for v in values):
        raise top.fail("latency_ms", f"{_shown(raw)} must be milliseconds from 0 to "
                       f"{MAX_LATENCY_MS} (or a [min, max] pair of them)")
    low, high = (float(v) / 1000 for v in values)
    if low > high:
        raise top.fail("latency_ms", f"minimum {values[0]} is above maximum {values[1]}")
    return low, high


def _parse_fees(top: _Reader) -> FeeModel:
    raw = top.table.get("fees", "none")
    table: Mapping[str, Any] = {"model": raw} if isinstance(raw, str) else top.table_at("fees")
    reader = _Reader(table, f"{top.prefix}fees.", top.source)
    model = table.get("model", "none")
    if model == "none":
        reader.check_keys(frozenset({"model"}))
        return NoFees()
    if model == "kalshi":
        reader.check_keys(frozenset({"model", "taker_rate", "maker_rate", "multiplier",
                                     "maker_fees"}))
        maker_default = Decimal("0.0175") if reader.boolean("maker_fees", False) else ZERO
        return KalshiFees(
            taker_rate=reader.decimal("taker_rate", Decimal("0.07"), low=ZERO, high=ONE),
            maker_rate=reader.decimal("maker_rate", maker_default, low=ZERO, high=ONE),
            multiplier=reader.decimal("multiplier", ONE, low=ZERO, high=MAX_FEE_FACTOR),
        )
    if model == "polymarket":
        reader.check_keys(frozenset({"model", "rate", "exponent", "taker_only"}))
        return PolymarketFees(
            rate=reader.decimal("rate", Decimal("0.02"), low=ZERO, high=ONE),
            exponent=reader.decimal("exponent", ONE, low=ZERO, high=MAX_FEE_FACTOR),
            taker_only=reader.boolean("taker_only", True),
        )
    raise reader.fail("model", f"{model!r} is not a fee model; use none, kalshi or polymarket")


def _parse_markets(top: _Reader) -> tuple[WalkMarket, ...]:
    configured = top.table_at("markets")
    include_defaults = top.boolean("include_default_markets", not configured)
    markets = {m.market: m for m in DEFAULT_MARKETS} if include_defaults else {}
    for name, table in configured.items():
        if not isinstance(table, Mapping):
            raise top.fail(f"markets.{name}", "must be a table (mid, tick_size, depth, ...)")
        markets[name] = _parse_market(name, _Reader(table, f"{top.prefix}markets.{name}.",
                                                   top.source))
    return tuple(markets.values())


def _parse_market(name: str, reader: _Reader) -> WalkMarket:
    reader.check_keys(_MARKET_KEYS)
    tick = reader.decimal("tick_size", Decimal("0.01"), low=ZERO, high=Decimal("0.1"),
                          strict=True)
    if ONE % tick:
        raise reader.fail("tick_size", f"{tick} must divide 1 exactly (0.01, 0.001, ...)")
    if "mid" not in reader.table:
        raise reader.fail("mid", "is required: the starting mid price, e.g. \"0.45\"")
    mid = reader.decimal("mid", Decimal("0.5"), low=ZERO, high=ONE, strict=True)
    if mid % tick:
        raise reader.fail("mid", f"{mid} is not a multiple of the tick size {tick}")
    raw_depth = reader.table.get("depth", [200, 400, 700, 1000])
    if not isinstance(raw_depth, list) or not raw_depth:
        raise reader.fail("depth", "must be a non-empty list of sizes, best level first")
    if len(raw_depth) > MAX_LEVELS:
        raise reader.fail("depth", f"{len(raw_depth)} levels; the limit is {MAX_LEVELS}")
    try:
        depth = tuple(to_decimal(v) for v in raw_depth)
    except (TypeError, ValueError) as exc:
        raise reader.fail("depth", str(exc)) from None
    if any(d >= MAX_AMOUNT for d in depth):
        raise reader.fail("depth", f"sizes must be below {MAX_AMOUNT:,f}")
    step = reader.decimal("quantity_step", ONE, low=ZERO, strict=True)
    if any(d <= 0 or d % step for d in depth):
        raise reader.fail("depth", f"sizes must be positive multiples of {step}")
    return WalkMarket(
        market=name,
        mid=mid,
        tick_size=tick,
        spread_ticks=reader.integer("spread_ticks", 2, low=1, high=MAX_SPREAD_TICKS),
        depth=depth,
        volatility=reader.number("volatility", 0.3, high=1.0),
        quantity_step=step,
        min_quantity=reader.decimal("min_quantity", step, low=ZERO, strict=True),
        event=reader.string("event"),
        title=reader.string("title") or "",
        close_time=_close_time(reader),
        rules=reader.string("rules") or "",
        resolution_source=reader.string("resolution_source") or "",
    )


def _close_time(reader: _Reader) -> str | None:
    value = reader.table.get("close_time")
    if value is None:
        return None
    try:
        return utc_datetime(value).isoformat()
    except (TypeError, ValueError) as exc:
        raise reader.fail("close_time", f"{exc} (ISO-8601 with a timezone, e.g. "
                                        "2026-12-31T23:00:00Z)") from None


def _parse_shadow(top: _Reader) -> Shadow:
    table = top.table_at("shadow")
    reader = _Reader(table, f"{top.prefix}shadow.", top.source)
    reader.check_keys(_SHADOW_KEYS)
    venue = reader.string("venue")
    if venue is None:
        raise reader.fail("venue", "is required: the upstream venue type, e.g. \"polymarket\"")
    if venue == "paper":
        raise reader.fail("venue", "a paper venue cannot shadow another paper venue")
    markets = table.get("markets", [])
    if not isinstance(markets, list) or not all(isinstance(m, str) and m for m in markets):
        raise reader.fail("markets", "must be a list of the upstream venue's market ids")
    return Shadow(
        venue=venue,
        options=reader.table_at("options"),
        markets=tuple(markets),
        refresh_seconds=reader.number("refresh_seconds", 2.0, high=MAX_SECONDS),
    )
