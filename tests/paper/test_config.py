"""The default markets, every config key's validation, and snapshot files."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from arbexec_paper.config import parse_config
from arbexec_paper.exchange import PaperExchange, identity_for, make_exchange
from arbexec_paper.fees import KalshiFees, PolymarketFees

from arbexec.errors import ConfigError
from arbexec.exchange import ExchangeSettings

DEFAULT_IDS = {"PAPER-ELECTION", "PAPER-FED-CUT", "PAPER-BTC-100K", "PAPER-RAIN-NYC",
               "PAPER-WORLD-CUP"}


async def test_no_options_means_five_seeded_markets_and_ten_thousand_dollars():
    venue = make_exchange(ExchangeSettings(name="paper", options={"type": "paper"}))
    assert (await venue.fetch_balance()).total == Decimal(10_000)
    assert {m.market for m in venue.config.markets} == DEFAULT_IDS
    for market in DEFAULT_IDS:
        rules = await venue.market_rules(market)
        assert rules.tick_size == Decimal("0.01")
        book = await venue.fetch_order_book(market)
        assert Decimal("0.2") <= book.mid() <= Decimal("0.8")
        assert len(book.bids) >= 4 and len(book.asks) >= 4
        depth = sum(lv.size for lv in book.bids)
        assert book.bids[0].size >= 100 and depth >= 1000
    await venue.aclose()


def test_the_default_markets_are_spread_out():
    mids = sorted(m.mid for m in parse_config({}).markets)
    assert mids[0] >= Decimal("0.2") and mids[-1] <= Decimal("0.8")
    assert len(set(mids)) == 5


def test_configured_markets_replace_the_defaults_unless_asked():
    only = parse_config({"markets": {"X": {"mid": "0.4"}}})
    assert [m.market for m in only.markets] == ["X"]
    both = parse_config({"markets": {"X": {"mid": "0.4"}}, "include_default_markets": True})
    assert {m.market for m in both.markets} == DEFAULT_IDS | {"X"}


def test_fee_models_from_config():
    assert isinstance(parse_config({"fees": "kalshi"}).fees, KalshiFees)
    maker = parse_config({"fees": {"model": "kalshi", "maker_fees": True}}).fees
    assert maker.maker_rate == Decimal("0.0175")
    poly = parse_config({"fees": {"model": "polymarket", "rate": "0.03", "exponent": "2"}}).fees
    assert isinstance(poly, PolymarketFees) and poly.exponent == 2


@pytest.mark.parametrize(
    ("options", "key", "message"),
    [
        ({"cahs": "1"}, "venues.p.cahs", "unknown key"),
        ({"cash": 10.5}, "venues.p.cash", "as a string"),
        ({"cash": "-1"}, "venues.p.cash", "at least 0"),
        ({"fees": "binance"}, "venues.p.fees.model", "none, kalshi or polymarket"),
        ({"fees": {"model": "kalshi", "rate": "1"}}, "venues.p.fees.rate", "unknown key"),
        ({"markets": {"X": {}}}, "venues.p.markets.X.mid", "required"),
        ({"markets": {"X": {"mid": "0.405"}}}, "venues.p.markets.X.mid", "tick size"),
        ({"markets": {"X": {"mid": "0.4", "tick_size": "0.03"}}},
         "venues.p.markets.X.tick_size", "divide 1"),
        ({"markets": {"X": {"mid": "0.4", "depth": [10, -1]}}}, "venues.p.markets.X.depth",
         "positive"),
        ({"latency_ms": [50, 5]}, "venues.p.latency_ms", "above maximum"),
        ({"reject_rate": 2}, "venues.p.reject_rate", "[0.0, 1.0]"),
        ({"shadow": {"options": {}}}, "venues.p.shadow.venue", "required"),
        ({"shadow": {"venue": "paper"}}, "venues.p.shadow.venue", "cannot shadow"),
        ({"shadow": {"venue": "kalshi"}, "markets": {"X": {"mid": "0.4"}}}, "venues.p.shadow",
         "remove"),
        ({"outage": "yes"}, "venues.p.outage", "true or false"),
        ({"sells_beyond_position": "short"}, "venues.p.sells_beyond_position",
         '"refuse"'),
        ({"sells_beyond_position": True}, "venues.p.sells_beyond_position", '"open_opposite"'),
    ],
)
def test_bad_options_name_the_key(options, key, message):
    with pytest.raises(ConfigError) as failure:
        parse_config(options, source="deploy.toml", prefix="venues.p.")
    assert failure.value.key == key
    assert message in failure.value.detail
    assert str(failure.value).startswith(f"deploy.toml:{key}")


def test_the_seed_may_be_a_string():
    assert parse_config({"seed": "demo"}).seed == parse_config({"seed": "demo"}).seed
    assert parse_config({"seed": "demo"}).seed != parse_config({"seed": "other"}).seed


async def test_snapshot_file_markets(tmp_path):
    path = tmp_path / "snap.json"
    path.write_text(json.dumps({"markets": {
        "SNAP": {"tick_size": "0.001", "quantity_step": "0.01", "min_quantity": "5",
                 "event": "E", "bids": [["0.451", "10.5"], ["0.452", "3"]],
                 "asks": [["0.460", "7"]]},
    }}))
    venue = PaperExchange(ExchangeSettings(name="p", options={"snapshot": str(path)}))
    rules = await venue.market_rules("SNAP")
    assert (rules.tick_size, rules.quantity_step, rules.min_quantity, rules.event) == (
        Decimal("0.001"), Decimal("0.01"), Decimal(5), "E")
    book = await venue.fetch_order_book("SNAP")
    assert [lv.price for lv in book.bids] == [Decimal("0.452"), Decimal("0.451")]
    with pytest.raises(Exception, match="unknown market"):
        await venue.market_rules("PAPER-ELECTION")  # a snapshot replaces the defaults
    await venue.aclose()


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"nope": 1}, "markets"),
        ({"markets": {"S": {"bids": [["0.455", "1"]], "asks": []}}}, "off the grid"),
        ({"markets": {"S": {"bids": [["0.50", "1"]], "asks": [["0.49", "1"]]}}}, "crossed"),
        ({"markets": {"S": {"frames": []}}}, "non-empty"),
    ],
)
def test_bad_snapshots_are_refused(tmp_path, document, message):
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ConfigError, match=message):
        PaperExchange(ExchangeSettings(name="p", options={"snapshot": str(path)}))


def test_identity_is_a_short_hash_of_the_idempotency_key():
    assert identity_for("abc") == identity_for("abc")
    assert identity_for("abc") != identity_for("abd")
    assert identity_for("abc").startswith("paper-") and len(identity_for("abc")) == 30
