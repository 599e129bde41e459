"""The declared plugin API: everything a plugin (or an example) may import from arbexec.

Plugins import from here and, in their tests, from ``arbexec.testing``; nothing else in
the core is a promise. ``./dev lint`` enforces it (an import-linter contract in
pyproject.toml), and the core may move its modules freely behind this list.

Names are resolved on first use (PEP 562): a plugin's ``plugin.py`` that needs only
``hookimpl`` and ``ExchangeSpec`` does not import the risk rules or click, so loading the
plugin host stays cheap. Type checkers see the imports below as ordinary ones.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arbexec import cli_options, testing
    from arbexec.catalog.listing import MarketListing, MarketPage, MarketStatus
    from arbexec.cli_lazy import LazyCommand
    from arbexec.errors import (
        AmbiguousSubmission,
        ArbexecError,
        AuthenticationError,
        ConfigError,
        DeprecatedEndpoint,
        DuplicateOrder,
        ExchangeError,
        InsufficientFunds,
        InvalidOrder,
        MarketClosed,
        NetworkError,
        NoLiquidity,
        OffGridOrder,
        OrderNotFound,
        PermissionDenied,
        PluginError,
        PostOnlyWouldCross,
        RateLimited,
        UnknownNameError,
        UserError,
        VenueUnavailable,
    )
    from arbexec.events import (
        MONEY_PATH,
        Event,
    )
    from arbexec.exchange import (
        Capabilities,
        Exchange,
        ExchangeSettings,
        MarketRules,
        PreparedOrder,
        StreamedBook,
    )
    from arbexec.fees import POLYMARKET_FEE_STEP, polymarket_fee
    from arbexec.hookspecs import hookimpl
    from arbexec.ledger import ExposureLedger, LedgerUnavailable, merge_claims
    from arbexec.model import (
        ONE,
        ZERO,
        Balance,
        ExecutionResult,
        Fill,
        Liquidity,
        OrderBook,
        OrderRequest,
        OrderState,
        OrderStatus,
        Outcome,
        Position,
        PriceLevel,
        RequestError,
        Side,
        TimeInForce,
        now_utc,
        optional_datetime,
        optional_decimal,
        to_decimal,
        utc_datetime,
    )
    from arbexec.names import check_venue_name
    from arbexec.network_errors import describe_network_error
    from arbexec.risk.base import (
        Claim,
        ClaimKind,
        Need,
        OrderOutcome,
        OutcomeObserver,
        RiskContext,
        RiskRule,
        VenueHealth,
        Verdict,
        money_at_risk,
    )
    from arbexec.risk.rules.common import ParamRule
    from arbexec.risk.rules.params import (
        ParameterError,
        count,
        flag,
        fraction,
        money,
        money_by_name,
        names,
        price,
        require_any,
        require_order,
        seconds,
        time_of_day,
        weekdays,
        zone,
    )
    from arbexec.shared import SharedSettings, SharedState
    from arbexec.sinks.base import (
        Sink,
        SinkSettings,
    )
    from arbexec.sources.base import (
        Source,
        SourceItem,
        SourceSettings,
    )
    from arbexec.sources.jsonl import parse_line
    from arbexec.sources.parse import request_from_json, request_from_mapping
    from arbexec.specs import (
        ExchangeSpec,
        LedgerSpec,
        RiskRuleSpec,
        SinkSpec,
        SourceSpec,
    )
    from arbexec.suggest import did_you_mean
    from arbexec.venue.batch import BatchMatch, match_by_identity
    from arbexec.venue.client import VenueClient, venue_client
    from arbexec.venue.delivery import NOT_SENT, transport_failure, was_not_sent
    from arbexec.venue.numbers import MalformedNumber, loads_exact, venue_decimal
    from arbexec.venue.ratelimit import RateLimiter, TokenBucket, Window, batch_size
    from arbexec.venue.refusals import BASELINE_REFUSALS, SERVER_ERRORS, Refusal, refusal_for
    from arbexec.venue.retry import ReadRetry, retry_after, with_read_retries
    from arbexec.venue.stream import (
        RESYNC,
        LatestStates,
        ReconnectingStream,
        Resync,
        Sequences,
        StreamBroken,
        StreamTiming,
    )
    from arbexec.venue.streams import StreamTransport
    from arbexec.venue_tools import VenueToolSettings, venue_tool_settings

__all__ = [
    "BASELINE_REFUSALS",
    "MONEY_PATH",
    "NOT_SENT",
    "ONE",
    "POLYMARKET_FEE_STEP",
    "RESYNC",
    "SERVER_ERRORS",
    "ZERO",
    "AmbiguousSubmission",
    "ArbexecError",
    "AuthenticationError",
    "Balance",
    "BatchMatch",
    "Capabilities",
    "Claim",
    "ClaimKind",
    "ConfigError",
    "DeprecatedEndpoint",
    "DuplicateOrder",
    "Event",
    "Exchange",
    "ExchangeError",
    "ExchangeSettings",
    "ExchangeSpec",
    "ExecutionResult",
    "ExposureLedger",
    "Fill",
    "InsufficientFunds",
    "InvalidOrder",
    "LatestStates",
    "LazyCommand",
    "LedgerSpec",
    "LedgerUnavailable",
    "Liquidity",
    "MalformedNumber",
    "MarketClosed",
    "MarketListing",
    "MarketPage",
    "MarketRules",
    "MarketStatus",
    "Need",
    "NetworkError",
    "NoLiquidity",
    "OffGridOrder",
    "OrderBook",
    "OrderNotFound",
    "OrderOutcome",
    "OrderRequest",
    "OrderState",
    "OrderStatus",
    "Outcome",
    "OutcomeObserver",
    "ParamRule",
    "ParameterError",
    "PermissionDenied",
    "PluginError",
    "Position",
    "PostOnlyWouldCross",
    "PreparedOrder",
    "PriceLevel",
    "RateLimited",
    "RateLimiter",
    "ReadRetry",
    "ReconnectingStream",
    "Refusal",
    "RequestError",
    "Resync",
    "RiskContext",
    "RiskRule",
    "RiskRuleSpec",
    "Sequences",
    "SharedSettings",
    "SharedState",
    "Side",
    "Sink",
    "SinkSettings",
    "SinkSpec",
    "Source",
    "SourceItem",
    "SourceSettings",
    "SourceSpec",
    "StreamBroken",
    "StreamTiming",
    "StreamTransport",
    "StreamedBook",
    "TimeInForce",
    "TokenBucket",
    "UnknownNameError",
    "UserError",
    "VenueClient",
    "VenueHealth",
    "VenueToolSettings",
    "VenueUnavailable",
    "Verdict",
    "Window",
    "batch_size",
    "check_venue_name",
    "cli_options",
    "count",
    "describe_network_error",
    "did_you_mean",
    "flag",
    "fraction",
    "hookimpl",
    "loads_exact",
    "match_by_identity",
    "merge_claims",
    "money",
    "money_at_risk",
    "money_by_name",
    "names",
    "now_utc",
    "optional_datetime",
    "optional_decimal",
    "parse_line",
    "polymarket_fee",
    "price",
    "refusal_for",
    "request_from_json",
    "request_from_mapping",
    "require_any",
    "require_order",
    "retry_after",
    "seconds",
    "testing",
    "time_of_day",
    "to_decimal",
    "transport_failure",
    "utc_datetime",
    "venue_client",
    "venue_decimal",
    "venue_tool_settings",
    "was_not_sent",
    "weekdays",
    "with_read_retries",
    "zone",
]

#: Where each name lives, for the lazy lookup (a test checks it matches ``__all__``).
_SOURCES: dict[str, tuple[str, ...]] = {
    "arbexec.model": (
        "ONE", "ZERO", "Balance", "ExecutionResult", "Fill", "Liquidity", "OrderBook",
        "OrderRequest", "OrderState", "OrderStatus", "Outcome", "Position", "PriceLevel",
        "RequestError", "Side", "TimeInForce", "now_utc", "optional_datetime",
        "optional_decimal", "to_decimal", "utc_datetime",
    ),
    "arbexec.errors": (
        "AmbiguousSubmission", "ArbexecError", "AuthenticationError", "ConfigError",
        "DeprecatedEndpoint", "DuplicateOrder", "ExchangeError", "InsufficientFunds",
        "InvalidOrder", "MarketClosed", "NetworkError", "NoLiquidity", "OffGridOrder",
        "OrderNotFound", "PermissionDenied", "PluginError", "PostOnlyWouldCross", "RateLimited",
        "UnknownNameError", "UserError", "VenueUnavailable",
    ),
    "arbexec.exchange": (
        "Capabilities", "Exchange", "ExchangeSettings", "MarketRules", "PreparedOrder",
        "StreamedBook",
    ),
    "arbexec.specs": (
        "ExchangeSpec", "RiskRuleSpec", "SinkSpec", "SourceSpec", "LedgerSpec",
    ),
    "arbexec.hookspecs": ("hookimpl",),
    "arbexec.names": ("check_venue_name",),
    "arbexec.fees": ("POLYMARKET_FEE_STEP", "polymarket_fee"),
    "arbexec.cli_lazy": ("LazyCommand",),
    "arbexec.risk.base": (
        "Claim", "Need", "OrderOutcome", "OutcomeObserver", "RiskContext", "RiskRule",
        "VenueHealth", "Verdict", "money_at_risk", "ClaimKind",
    ),
    "arbexec.risk.rules.common": ("ParamRule",),
    "arbexec.risk.rules.params": (
        "ParameterError", "count", "flag", "fraction", "money", "money_by_name", "names",
        "price", "require_any", "require_order", "seconds", "time_of_day", "weekdays", "zone",
    ),
    "arbexec.events": (
        "MONEY_PATH", "Event",
    ),
    "arbexec.sinks.base": (
        "Sink", "SinkSettings",
    ),
    "arbexec.sources.base": (
        "Source", "SourceItem", "SourceSettings",
    ),
    "arbexec.sources.parse": (
        "request_from_json", "request_from_mapping",
    ),
    "arbexec.venue.batch": ("BatchMatch", "match_by_identity"),
    "arbexec.venue.delivery": ("NOT_SENT", "transport_failure", "was_not_sent"),
    "arbexec.venue.numbers": ("MalformedNumber", "loads_exact", "venue_decimal"),
    "arbexec.venue.ratelimit": ("RateLimiter", "TokenBucket", "Window", "batch_size"),
    "arbexec.venue.refusals": ("BASELINE_REFUSALS", "SERVER_ERRORS", "Refusal", "refusal_for"),
    "arbexec.venue.retry": ("ReadRetry", "retry_after", "with_read_retries"),
    "arbexec.venue.client": ("VenueClient", "venue_client"),
    "arbexec.venue.streams": ("StreamTransport",),
    "arbexec.catalog.listing": ("MarketListing", "MarketPage", "MarketStatus"),
    "arbexec.ledger": ("ExposureLedger", "LedgerUnavailable", "merge_claims"),
    "arbexec.shared": ("SharedSettings", "SharedState"),
    "arbexec.sources.jsonl": ("parse_line",),
    "arbexec.network_errors": ("describe_network_error",),
    "arbexec.suggest": ("did_you_mean",),
    "arbexec.venue_tools": ("VenueToolSettings", "venue_tool_settings"),
    "arbexec.venue.stream": (
        "RESYNC", "LatestStates", "ReconnectingStream", "Resync", "Sequences", "StreamBroken",
        "StreamTiming",
    ),
}
_HOME = {name: module for module, names in _SOURCES.items() for name in names}
#: The testing kit (conformance suite, scripted venue, recording fixtures, fault transport,
#: request helpers) is declared as a module: ``from arbexec.api import testing``.
_HOME["testing"] = "arbexec"
#: The shared command-line vocabulary (``--price``, ``--quantity``, ``--tif``, doctor
#: options): ``from arbexec.api import cli_options``.
_HOME["cli_options"] = "arbexec"


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"arbexec.api has no {name!r} (the plugin API is its __all__)")
    if name in ("testing", "cli_options"):
        importlib.import_module(f"arbexec.{name}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)
