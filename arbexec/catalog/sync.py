"""Refresh the catalogue from one venue's listing, page by page, resumable.

Each page is stored with the cursor of the next one (``Catalog.store_page``), so a sync
stopped by Ctrl-C, a crash or a venue error resumes at the first page it had not stored.
A full pass that reaches the last page marks the open markets it no longer saw as closed
(the listings serve open markets; one that left the listing stopped trading).

After a complete pass, a venue that can list the markets changed since a time
(``Capabilities.list_markets_since``) is asked only for those: an incremental pass, which
also brings the markets that closed or settled meanwhile. ``full`` asks for a full pass.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from attrs import frozen

from arbexec.catalog.listing import MarketPage
from arbexec.catalog.store import Catalog, SyncState
from arbexec.errors import ExchangeError, UserError

#: Called after each stored page: (state so far, markets on this page).
OnPage = Callable[[SyncState, int], None]


@frozen
class SyncResult:
    venue: str
    resumed: bool
    complete: bool
    pages: int  # in this run
    markets: int  # new to this pass, in this run
    total: int  # in the whole pass, resumed pages included
    unlisted: int  # open markets the complete pass no longer listed
    incremental: bool = False  # only the markets changed since the last pass


#: Clocks differ: an incremental pass reaches back this much before the last pass began.
CLOCK_SLACK = timedelta(minutes=5)


def supports_changes(exchange: Any) -> bool:
    return bool(getattr(getattr(exchange, "capabilities", None), "list_markets_since", False))


def supports_listing(exchange: Any) -> bool:
    capabilities = getattr(exchange, "capabilities", None)
    return bool(getattr(capabilities, "list_markets", False)) and hasattr(
        exchange, "list_markets")


async def sync_venue(catalog: Catalog, exchange: Any, *, restart: bool = False,
                     full: bool = False, page_size: int | None = None,
                     max_pages: int | None = None,
                     on_page: OnPage | None = None) -> SyncResult:
    """One pass over ``exchange``'s listing (continuing an interrupted one unless
    ``restart`` or ``full``; incremental after a complete pass where the venue can, unless
    ``full``). ``max_pages`` stops early, leaving the pass resumable."""
    name = exchange.name
    if not supports_listing(exchange):
        raise UserError(f"venue {name!r} does not list its markets (its plugin has no "
                        "list_markets capability)")
    previous = catalog.sync_state(name)
    resumed = previous is not None and previous.interrupted and not (restart or full) and (
        previous.cursor is not None)
    if resumed and previous is not None:
        state = previous
    else:
        since = None
        if not full and previous is not None and not previous.interrupted and (
                supports_changes(exchange)):
            since = (datetime.fromisoformat(previous.started_at) - CLOCK_SLACK).isoformat()
        state = catalog.begin_sync(name, since)
    changed = {} if state.since is None else {
        "updated_since": datetime.fromisoformat(state.since)}
    cursor = state.cursor
    pages = markets = 0
    seen: set[str] = set()
    while True:
        page = await exchange.list_markets(cursor=cursor, limit=page_size, **changed)
        if not isinstance(page, MarketPage):
            raise ExchangeError(f"venue {name!r} answered list_markets with "
                                f"{type(page).__name__}, not a MarketPage", venue=name)
        foreign = [m.key for m in page.markets if m.venue != name]
        if foreign:
            raise ExchangeError(f"venue {name!r} listed markets of another venue "
                                f"({foreign[0]})", venue=name)
        before = state.markets
        state = catalog.store_page(state, page.markets, page.cursor)
        pages += 1
        markets += state.markets - before  # a market a venue lists twice counts once
        if on_page is not None:
            on_page(state, state.markets - before)
        if page.cursor is None:
            break
        if page.cursor in seen or page.cursor == cursor:
            raise ExchangeError(f"venue {name!r} repeated the cursor {page.cursor!r}; the "
                                "listing cannot be completed", venue=name)
        seen.add(page.cursor)
        cursor = page.cursor
        if max_pages is not None and pages >= max_pages:
            return SyncResult(name, resumed, False, pages, markets, state.markets, 0,
                              bool(changed))
    unlisted = 0 if changed else catalog.mark_unlisted(name, state.started_at)
    return SyncResult(name, resumed, True, pages, markets, state.markets, unlisted,
                      bool(changed))
