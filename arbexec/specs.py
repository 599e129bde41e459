"""The small records plugins hand to the host: a name, a factory, a description.

Hooks are called once at start-up and return these; the deployment's config then decides
which of them run. Installing a plugin therefore never silently adds a risk rule or a sink.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from attrs import field, frozen

if TYPE_CHECKING:
    from arbexec.exchange import Capabilities, Exchange, ExchangeSettings
    from arbexec.risk.base import RiskRule
    from arbexec.shared import SharedSettings, SharedState
    from arbexec.sinks.base import Sink, SinkSettings
    from arbexec.sources.base import Source, SourceSettings

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


def _valid_name(_inst: object, _attr: Any, value: str) -> None:
    if not _NAME.match(value):
        raise ValueError(
            f"plugin name {value!r} must be lower-case letters, digits, '-' or '_', "
            "starting with a letter"
        )


@frozen(kw_only=True)
class ExchangeSpec:
    """A venue type. ``factory(settings)`` builds a configured ``Exchange``.

    ``capabilities()`` returns what the venue type can do, for ``arbexec plugins``; it is
    called only there, so it may import the venue's module (the host's load stays cheap)."""

    name: str = field(validator=_valid_name)
    factory: Callable[[ExchangeSettings], Exchange] = field(eq=False)
    description: str = ""
    capabilities: Callable[[], Capabilities] | None = field(default=None, eq=False)


@frozen(kw_only=True)
class RiskRuleSpec:
    """A risk rule type. ``factory(params)`` builds a rule from its policy parameters and
    raises ``ValueError`` naming the parameter when one is wrong. ``parameters`` documents
    each parameter (name -> description) for ``arbexec plugins`` and the docs."""

    name: str = field(validator=_valid_name)
    factory: Callable[[Mapping[str, Any]], RiskRule] = field(eq=False)
    description: str = ""
    parameters: Mapping[str, str] = field(factory=dict, hash=False)


@frozen(kw_only=True)
class SinkSpec:
    """A result sink type: where events and results go (a file, stdout, a stream)."""

    name: str = field(validator=_valid_name)
    factory: Callable[[SinkSettings], Sink] = field(eq=False)
    description: str = ""


@frozen(kw_only=True)
class SourceSpec:
    """A request source type: where requests come from (a file, stdin, a stream)."""

    name: str = field(validator=_valid_name)
    factory: Callable[[SourceSettings], Source] = field(eq=False)
    description: str = ""


@frozen(kw_only=True)
class LedgerSpec:
    """A shared ledger type: the exposure ledger and the halt flag several engines share
    (``[ledger] type = ...``). ``factory(settings)`` builds a ``SharedState``."""

    name: str = field(validator=_valid_name)
    factory: Callable[[SharedSettings], SharedState] = field(eq=False)
    description: str = ""
