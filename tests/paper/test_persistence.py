"""The account survives a restart; several paper venues never share state; the CLI settles."""

from __future__ import annotations

from decimal import Decimal

import pytest
from arbexec_paper.cli import paper_group
from click.testing import CliRunner

from arbexec.errors import UserError
from arbexec.model import OrderStatus

D = Decimal
WALK = {"M": {"mid": "0.50", "depth": [100, 200, 300], "volatility": 0.5}}


async def test_restart_keeps_balances_positions_and_resting_orders(
    make_venue, request_for, submit, tmp_path
):
    first = make_venue(state_dir=str(tmp_path), markets=WALK, replenish="0.5")
    await first.advance(7)
    partial = await submit(first, request_for(quantity=150, price="0.55"))
    prepared = await first.prepare_order(request_for(quantity=5, price="0.30"))
    resting = await first.create_order(prepared)
    before = (await first.fetch_balance(), await first.fetch_positions(),
              await first.fetch_order_book("M"))
    await first.aclose()

    second = make_venue(state_dir=str(tmp_path), markets=WALK, replenish="0.5")
    assert (await second.fetch_balance(), await second.fetch_positions(),
            await second.fetch_order_book("M")) == before
    assert {o.venue_order_id for o in await second.fetch_open_orders()} >= {
        resting.venue_order_id}
    assert await second.lookup_order(prepared.identity) == resting
    assert (await second.fetch_order(partial.venue_order_id)).fills == partial.fills
    # The resting order keeps its place and its reservation after the restart.
    assert (await second.fetch_balance()).reserved == before[0].reserved
    cancelled = await second.cancel_order(resting.venue_order_id)
    assert cancelled.status is OrderStatus.CANCELLED


async def test_the_process_continues_where_it_stopped(make_venue, tmp_path):
    first = make_venue(state_dir=str(tmp_path), markets=WALK, seed=3)
    await first.advance(5)
    await first.aclose()
    resumed = make_venue(state_dir=str(tmp_path), markets=WALK, seed=3)
    await resumed.advance(5)

    straight = make_venue(markets=WALK, seed=3)
    await straight.advance(10)
    assert (await resumed.fetch_order_book("M")).bids == (
        await straight.fetch_order_book("M")).bids


async def test_flush_interval_zero_writes_every_change(make_venue, request_for, submit,
                                                       tmp_path):
    running = make_venue(state_dir=str(tmp_path), flush_interval=0)
    await submit(running, request_for(quantity=10, price="0.51"))
    # A second reader sees the fill although the first venue was never closed.
    reader = make_venue(name="paper", state_dir=str(tmp_path), read_only=True)
    assert (await reader.fetch_balance()).total == D(10_000) - D("5.10")


async def test_a_second_writer_of_one_account_is_refused(make_venue, tmp_path):
    make_venue(state_dir=str(tmp_path))
    with pytest.raises(UserError, match=r"paper account .* is in use by another engine"):
        make_venue(state_dir=str(tmp_path))
    make_venue(state_dir=str(tmp_path), read_only=True)  # readers need no lock
    make_venue(name="other", state_dir=str(tmp_path))  # another account in the folder


async def test_write_behind_flushes_on_close(make_venue, request_for, submit, tmp_path):
    running = make_venue(state_dir=str(tmp_path), flush_interval=3600)
    await submit(running, request_for(quantity=10, price="0.51"))
    await running.aclose()
    assert (await make_venue(state_dir=str(tmp_path)).fetch_balance()).total == (
        D(10_000) - D("5.10"))


async def test_two_paper_venues_are_independent(make_venue, request_for, submit, tmp_path):
    a = make_venue(name="paper-a", state_dir=str(tmp_path), cash="1000")
    b = make_venue(name="paper-b", state_dir=str(tmp_path), cash="2000")
    await submit(a, request_for(quantity=100, price="0.51"))

    assert (await b.fetch_balance()).total == 2000
    assert await b.fetch_positions() == []
    assert (await b.fetch_order_book("M")).asks[0].size == 100
    assert (await a.fetch_order_book("M")).asks[0].price == D("0.52")
    await a.aclose()
    await b.aclose()
    assert (tmp_path / "paper-paper-a.sqlite3").exists()
    assert (tmp_path / "paper-paper-b.sqlite3").exists()
    assert (await make_venue(name="paper-b", state_dir=str(tmp_path)).fetch_balance()).total == (
        2000)


async def test_cli_resolve_pays_out_from_the_state_dir(make_venue, request_for, submit,
                                                       tmp_path):
    venue = make_venue(name="paper-a", state_dir=str(tmp_path))
    await submit(venue, request_for(quantity=100, price="0.51"))
    await venue.aclose()

    result = CliRunner().invoke(
        paper_group, ["resolve", "paper-a", "M", "yes", "--state-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "paid $100" in result.output

    after = make_venue(name="paper-a", state_dir=str(tmp_path), read_only=True)
    assert (await after.fetch_balance()).total == D(10_000) - D(51) + D(100)
    [position] = await after.fetch_positions()
    assert position.quantity == 0 and position.realised_pnl == 49

    again = CliRunner().invoke(
        paper_group, ["resolve", "paper-a", "M", "NO", "--state-dir", str(tmp_path)]
    )
    assert again.exit_code == 1 and "already resolved" in again.output

    engine = make_venue(name="paper-a", state_dir=str(tmp_path))  # an engine drives it
    refused = CliRunner().invoke(
        paper_group, ["resolve", "paper-a", "M", "NO", "--state-dir", str(tmp_path)])
    assert refused.exit_code == 1 and "is in use by another engine" in refused.output
    assert "Traceback" not in refused.output
    await engine.aclose()


def test_cli_resolve_without_an_account_says_so(tmp_path):
    result = CliRunner().invoke(
        paper_group, ["resolve", "paper-x", "M", "YES", "--state-dir", str(tmp_path)]
    )
    assert result.exit_code == 1 and "no paper account" in result.output


async def test_cli_account_lists_cash_and_positions(make_venue, request_for, submit, tmp_path):
    venue = make_venue(state_dir=str(tmp_path))
    await submit(venue, request_for(quantity=100, price="0.51"))
    await venue.aclose()
    result = CliRunner().invoke(paper_group, ["account", "paper", "--state-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "cash $9949" in result.output and "M YES: 100" in result.output


async def test_a_reconfigured_market_starts_afresh(make_venue, tmp_path):
    first = make_venue(state_dir=str(tmp_path), markets=WALK, seed=3)
    await first.advance(30)
    moved = await first.fetch_order_book("M")
    await first.aclose()

    same = make_venue(state_dir=str(tmp_path), markets=WALK, seed=3)
    assert await same.fetch_order_book("M") == moved
    await same.aclose()
    changed = make_venue(state_dir=str(tmp_path), markets={"M": dict(WALK["M"], mid="0.70")},
                         seed=3)
    assert (await changed.fetch_order_book("M")).mid() == D("0.70")


async def test_liquidity_taken_from_a_snapshot_book_stays_taken_after_a_restart(
    make_venue, request_for, submit, tmp_path
):
    snapshot = tmp_path / "book.json"
    snapshot.write_text('{"markets": {"S": {"bids": [["0.40", "10"]], '
                        '"asks": [["0.60", "10"]]}}}')
    first = make_venue(state_dir=str(tmp_path), snapshot=str(snapshot), replenish="0")
    taken = await submit(first, request_for(market="S", quantity=10, price="0.60",
                                            time_in_force="IOC"))
    assert taken.filled_quantity == 10
    await first.aclose()

    second = make_venue(state_dir=str(tmp_path), snapshot=str(snapshot), replenish="0")
    assert (await second.fetch_order_book("S")).asks == ()
    again = await submit(second, request_for(market="S", quantity=10, price="0.60",
                                             time_in_force="IOC"))
    assert again.filled_quantity == 0  # the same 10 contracts are not sold twice


async def test_liquidity_taken_from_a_walk_book_stays_taken_after_a_restart(
    make_venue, request_for, submit, tmp_path
):
    first = make_venue(state_dir=str(tmp_path), replenish="0", steps_per_order=0)
    await submit(first, request_for(quantity=10, price="0.51", time_in_force="IOC"))
    left = (await first.fetch_order_book("M")).asks
    await first.aclose()
    second = make_venue(state_dir=str(tmp_path), replenish="0", steps_per_order=0)
    assert (await second.fetch_order_book("M")).asks == left
    assert left[0].size == 90
