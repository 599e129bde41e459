"""The catalogue file and the sync driver: pages stored with their cursor, an interrupted
pass resumed where it stopped, closed markets noticed, venues that misbehave refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from arbexec.catalog.listing import MarketListing, MarketPage, MarketStatus
from arbexec.catalog.store import Catalog
from arbexec.catalog.sync import sync_venue
from arbexec.errors import ExchangeError, NetworkError, UserError
from arbexec.exchange import Capabilities


def _market(venue: str, n: int, **kw: object) -> MarketListing:
    fields: dict[str, object] = {"title": f"Will thing {n} happen by Dec 31, 2026?",
                                 "close_time": "2026-12-31T23:00:00Z", "status": "open"}
    fields.update(kw)
    return MarketListing(venue=venue, market=f"M{n}", **fields)  # type: ignore[arg-type]


class PagedVenue:
    """A venue listing ``count`` markets ``size`` a page; ``fail_at`` raises on that page."""

    capabilities = Capabilities(list_markets=True)

    def __init__(self, count: int, size: int, name: str = "venue") -> None:
        self.name, self.count, self.size = name, count, size
        self.fail_at: int | None = None
        self.asked: list[str | None] = []

    async def list_markets(self, cursor: str | None = None,
                           limit: int | None = None) -> MarketPage:
        self.asked.append(cursor)
        start = int(cursor or 0)
        if self.fail_at is not None and start // self.size == self.fail_at:
            raise NetworkError("the venue went away", venue=self.name)
        end = min(start + self.size, self.count)
        return MarketPage(tuple(_market(self.name, n) for n in range(start, end)),
                          str(end) if end < self.count else None)


def test_a_listing_round_trips_every_field(tmp_path: Path) -> None:
    listing = MarketListing(
        venue="kalshi", market="KXBTC-26DEC31-T100000", title="Bitcoin above $100,000?",
        question="sub", outcomes=("Above $100,000", "Above $100,000"), event="KXBTC-26DEC31",
        event_title="Bitcoin on Dec 31", series="KXBTC", close_time="2026-12-31T23:00:00Z",
        expiration_time="2027-01-07T23:00:00Z", resolution_time="2027-01-01T00:00:00Z",
        resolution_source="CF Benchmarks", rules="If BRTI is above...", tick_size="0.01",
        price_grid="linear_cent", neg_risk=True, group="g1", status="open",
        venue_status="active", volume="123.45", liquidity="9.5",
        updated_at="2026-12-01T00:00:00Z", extra={"strike_type": "greater"})
    with Catalog.open(tmp_path / "m.sqlite3") as catalog:
        state = catalog.begin_sync("kalshi")
        catalog.store_page(state, [listing], None)
        back = catalog.get("kalshi", listing.market)
    assert back == listing and dict(back.extra) == {"strike_type": "greater"}


async def test_an_interrupted_sync_resumes_at_the_page_it_had_not_stored(tmp_path: Path) -> None:
    venue = PagedVenue(count=2_500, size=100)
    venue.fail_at = 7
    with Catalog.open(tmp_path / "m.sqlite3") as catalog:
        with pytest.raises(NetworkError):
            await sync_venue(catalog, venue)
        state = catalog.sync_state("venue")
        assert state is not None and state.interrupted and state.cursor == "700"
        assert catalog.counts() == {"venue": 700}
        venue.fail_at, venue.asked = None, []
        result = await sync_venue(catalog, venue)
        assert result.resumed and result.complete
        assert venue.asked[0] == "700" and result.pages == 18 and result.total == 2_500
        assert catalog.counts() == {"venue": 2_500}
        assert catalog.sync_state("venue").finished_at is not None  # type: ignore[union-attr]
        venue.asked = []
        again = await sync_venue(catalog, venue)  # a finished pass starts afresh
        assert not again.resumed and venue.asked[0] is None and again.total == 2_500


async def test_restart_begins_a_new_pass_and_max_pages_leaves_it_resumable(
        tmp_path: Path) -> None:
    venue = PagedVenue(count=500, size=100)
    with Catalog.open(tmp_path / "m.sqlite3") as catalog:
        partial = await sync_venue(catalog, venue, max_pages=2)
        assert not partial.complete and catalog.sync_state("venue").cursor == "200"  # type: ignore[union-attr]
        venue.asked = []
        fresh = await sync_venue(catalog, venue, restart=True)
        assert venue.asked[0] is None and fresh.complete and not fresh.resumed


async def test_a_complete_pass_closes_open_markets_the_venue_no_longer_lists(
        tmp_path: Path) -> None:
    venue = PagedVenue(count=300, size=100)
    with Catalog.open(tmp_path / "m.sqlite3") as catalog:
        await sync_venue(catalog, venue)
        venue.count = 250
        result = await sync_venue(catalog, venue)
        assert result.unlisted == 50
        gone = catalog.get("venue", "M260")
        assert gone is not None and gone.status is MarketStatus.CLOSED
        assert gone.venue_status == "unlisted"
        assert catalog.get("venue", "M10").status is MarketStatus.OPEN  # type: ignore[union-attr]


async def test_a_venue_that_repeats_its_cursor_or_lists_another_venue_is_refused(
        tmp_path: Path) -> None:
    class Looping(PagedVenue):
        async def list_markets(self, cursor: str | None = None,
                               limit: int | None = None) -> MarketPage:
            return MarketPage((_market(self.name, 1),), "same")

    class Foreign(PagedVenue):
        async def list_markets(self, cursor: str | None = None,
                               limit: int | None = None) -> MarketPage:
            return MarketPage((_market("other", 1),), None)

    with Catalog.open(tmp_path / "m.sqlite3") as catalog:
        with pytest.raises(ExchangeError, match="repeated the cursor"):
            await sync_venue(catalog, Looping(1, 1))
        with pytest.raises(ExchangeError, match="another venue"):
            await sync_venue(catalog, Foreign(1, 1))
        assert catalog.get("venue", "M1") is not None  # what it did list is kept
        assert catalog.get("other", "M1") is None


async def test_a_venue_without_the_capability_is_a_user_error(tmp_path: Path) -> None:
    class Plain:
        name = "plain"
        capabilities = Capabilities()

    with Catalog.open(tmp_path / "m.sqlite3") as catalog, pytest.raises(UserError):
        await sync_venue(catalog, Plain())


def test_search_needs_every_word_and_escapes_wildcards(tmp_path: Path) -> None:
    with Catalog.open(tmp_path / "m.sqlite3") as catalog:
        state = catalog.begin_sync("v")
        catalog.store_page(state, [_market("v", 1, title="Bitcoin above 100%"),
                                   _market("v", 2, title="Bitcoin above 1000"),
                                   _market("v", 3, title="Ether above 100",
                                           status="closed")], None)
        assert [m.market for m in catalog.search(["bitcoin", "100%"])] == ["M1"]
        assert sorted(m.market for m in catalog.search(["above"], open_only=True)) == [
            "M1", "M2"]
        assert [m.market for m in catalog.search(["ether"])] == ["M3"]


async def test_overlapping_pages_count_each_market_once(tmp_path: Path) -> None:
    class Overlapping(PagedVenue):
        async def list_markets(self, cursor: str | None = None,
                               limit: int | None = None) -> MarketPage:
            page = await super().list_markets(cursor, limit)
            if page.cursor is None:
                return page
            return MarketPage(page.markets, str(int(page.cursor) - 10))  # 10 read again

    with Catalog.open(tmp_path / "m.sqlite3") as catalog:
        result = await sync_venue(catalog, Overlapping(count=450, size=100))
        assert result.complete and result.total == 450 and result.markets == 450
        assert catalog.counts() == {"venue": 450}


class ChangingVenue(PagedVenue):
    """A venue that can also list the markets changed since a time: ``changed``."""

    capabilities = Capabilities(list_markets=True, list_markets_since=True)

    def __init__(self, count: int, size: int) -> None:
        super().__init__(count, size)
        self.changed: list[MarketListing] = []
        self.since: list[object] = []

    async def list_markets(self, cursor: str | None = None, limit: int | None = None,
                           updated_since: object = None) -> MarketPage:
        self.since.append(updated_since)
        if updated_since is None:
            return await super().list_markets(cursor, limit)
        return MarketPage(tuple(self.changed), None)


async def test_after_a_complete_pass_only_the_changed_markets_are_asked_for(
        tmp_path: Path) -> None:
    from datetime import datetime

    from arbexec.catalog.sync import CLOCK_SLACK

    venue = ChangingVenue(count=300, size=100)
    with Catalog.open(tmp_path / "m.sqlite3") as catalog:
        first = await sync_venue(catalog, venue)
        started = datetime.fromisoformat(catalog.sync_state("venue").started_at)  # type: ignore[union-attr]
        assert not first.incremental and venue.since == [None, None, None]
        venue.changed = [_market("venue", 7, status="settled", venue_status="finalized"),
                         _market("venue", 900)]
        venue.since = []
        second = await sync_venue(catalog, venue)
        assert second.incremental and second.complete and second.total == 2
        assert venue.since == [started - CLOCK_SLACK]
        assert catalog.get("venue", "M7").status is MarketStatus.SETTLED  # type: ignore[union-attr]
        assert catalog.get("venue", "M900") is not None
        assert second.unlisted == 0  # markets not changed are not taken for closed
        assert catalog.get("venue", "M8").status is MarketStatus.OPEN  # type: ignore[union-attr]
        venue.since = []
        full = await sync_venue(catalog, venue, full=True)
        assert not full.incremental and venue.since[0] is None
        assert full.unlisted == 1  # M900 is not in the full listing of open markets
