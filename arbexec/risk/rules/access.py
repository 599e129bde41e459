"""Allow and deny lists of venues, markets and events."""

from __future__ import annotations

from attrs import frozen

from arbexec.model import OrderRequest
from arbexec.risk.base import Need, RiskContext, Verdict
from arbexec.risk.rules.common import ParamRule, event_of
from arbexec.risk.rules.params import names, require_any

_LISTS = ("allow_venues", "deny_venues", "allow_markets", "deny_markets", "allow_events",
          "deny_events")


@frozen(kw_only=True)
class AccessListsParams:
    allow_venues: frozenset[str] | None = names("only these venues may be traded")
    deny_venues: frozenset[str] | None = names("these venues may not be traded")
    allow_markets: frozenset[str] | None = names(
        "only these markets may be traded ('<market>' or '<venue>:<market>')"
    )
    deny_markets: frozenset[str] | None = names(
        "these markets may not be traded ('<market>' or '<venue>:<market>')"
    )
    allow_events: frozenset[str] | None = names(
        "only markets of these events may be traded (a market whose event is unknown is refused)"
    )
    deny_events: frozenset[str] | None = names("markets of these events may not be traded")

    def __attrs_post_init__(self) -> None:
        require_any(self, *_LISTS)


def _listed(names: frozenset[str], venue: str, name: str) -> bool:
    return name in names or f"{venue}:{name}" in names


class AccessLists(ParamRule[AccessListsParams]):
    """Refuses venues, markets and events outside the allow lists or on the deny lists."""

    name = "access_lists"
    Params = AccessListsParams
    __slots__ = ("_allow_e", "_allow_m", "_allow_v", "_deny_e", "_deny_m", "_deny_v", "_events")

    def __init__(self, params: AccessListsParams) -> None:
        super().__init__(params)
        self._allow_v, self._deny_v = params.allow_venues, params.deny_venues
        self._allow_m, self._deny_m = params.allow_markets, params.deny_markets
        self._allow_e, self._deny_e = params.allow_events, params.deny_events
        self._events = self._allow_e is not None or self._deny_e is not None

    def needs_for(self, params: AccessListsParams) -> frozenset[Need]:
        if params.allow_events is None and params.deny_events is None:
            return frozenset()
        return frozenset({Need.MARKET_RULES})

    def check(self, request: OrderRequest, ctx: RiskContext) -> Verdict:
        venue, market = request.venue, request.market
        if self._allow_v is not None and venue not in self._allow_v:
            return self.deny(
                "venue_not_allowed", f"venue {venue} is not on the allow list",
                allowed=",".join(sorted(self._allow_v)), actual=venue,
            )
        if self._deny_v is not None and venue in self._deny_v:
            return self.deny("venue_denied", f"venue {venue} is on the deny list", actual=venue)
        if self._allow_m is not None and not _listed(self._allow_m, venue, market):
            return self.deny(
                "market_not_allowed", f"market {market} on {venue} is not on the allow list",
                actual=market,
            )
        if self._deny_m is not None and _listed(self._deny_m, venue, market):
            return self.deny(
                "market_denied", f"market {market} on {venue} is on the deny list", actual=market,
            )
        if self._events:
            event = event_of(ctx)
            if self._allow_e is not None and (event is None or event not in self._allow_e):
                return self.deny(
                    "event_not_allowed",
                    f"event {event} of market {market} is not on the allow list"
                    if event is not None
                    else f"the event of market {market} is unknown and events are allow-listed",
                    actual=event,
                )
            if self._deny_e is not None and event is not None and event in self._deny_e:
                return self.deny(
                    "event_denied", f"event {event} of market {market} is on the deny list",
                    actual=event,
                )
        return self._ok
