"""Seeded misbehaviour: latency, simulated rejects, lost acknowledgements, outages."""

from __future__ import annotations

import pytest

from arbexec.errors import AmbiguousSubmission, InvalidOrder, VenueUnavailable
from arbexec.model import OrderStatus


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """Record the delays the venue asks for instead of waiting them out."""
    recorded: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr("arbexec_paper.switches.asyncio.sleep", fake_sleep)
    return recorded


async def test_fixed_latency_delays_every_venue_call(make_venue, request_for, submit, sleeps):
    venue = make_venue(latency_ms=25)
    await submit(venue, request_for(price="0.40"))
    await venue.fetch_balance()
    assert sleeps == [0.025, 0.025]  # prepare_order is local; create and fetch are calls


async def test_latency_range_is_seeded(make_venue, request_for, submit, sleeps):
    for name in ("a", "b"):
        venue = make_venue(name=name, latency_ms=[5, 50], seed=3)
        for _ in range(5):
            await venue.fetch_balance()
    first, second = sleeps[:5], sleeps[5:]
    assert first == second
    assert all(0.005 <= s <= 0.05 for s in first) and len(set(first)) > 1


async def test_no_latency_means_no_sleep(make_venue, request_for, submit, sleeps):
    venue = make_venue()
    await submit(venue, request_for(price="0.40"))
    assert sleeps == []


async def test_simulated_rejects_are_venue_rejections(make_venue, request_for):
    venue = make_venue(reject_rate=1.0)
    prepared = await venue.prepare_order(request_for(price="0.40"))
    with pytest.raises(InvalidOrder, match="simulated reject") as refused:
        await venue.create_order(prepared)
    assert refused.value.venue_code == "simulated_reject"
    assert await venue.lookup_order(prepared.identity) is None


async def test_reject_rate_is_a_seeded_fraction(make_venue, request_for, submit):
    outcomes = []
    for name in ("a", "b"):
        venue = make_venue(name=name, reject_rate=0.5, seed=8)
        run = []
        for _ in range(40):
            try:
                await submit(venue, request_for(quantity=1, price="0.40"))
                run.append(True)
            except InvalidOrder:
                run.append(False)
        outcomes.append(run)
    assert outcomes[0] == outcomes[1]
    assert 5 < outcomes[0].count(False) < 35


async def test_ambiguous_submission_lands_and_is_found_by_identity(make_venue, request_for):
    venue = make_venue(ambiguous_rate=1.0)
    prepared = await venue.prepare_order(request_for(quantity=150, price="0.51"))
    with pytest.raises(AmbiguousSubmission):
        await venue.create_order(prepared)
    found = await venue.lookup_order(prepared.identity)
    assert found is not None and found.venue_order_id == prepared.venue_order_id
    assert found.status is OrderStatus.PARTIALLY_FILLED and found.filled_quantity == 100


async def test_outage_refuses_every_call_until_lifted(make_venue, request_for):
    venue = make_venue(outage=True)
    prepared = await venue.prepare_order(request_for(price="0.40"))
    with pytest.raises(VenueUnavailable):
        await venue.create_order(prepared)
    with pytest.raises(VenueUnavailable):
        await venue.fetch_balance()
    venue.switches.outage = False
    assert await venue.lookup_order(prepared.identity) is None  # never received
    assert (await venue.create_order(prepared)).status is OrderStatus.OPEN
