"""Every recorded Kalshi exchange holds to kalshi-python-sync 3.34.0's models, and the
oracle itself can fail."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import kalshi_sdk_models as sdk
import pytest
import yaml

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "kalshi"
#: exchanges a test sends on purpose although the SDK no longer knows them
RETIRED = {("POST", "/trade-api/v2/portfolio/orders")}


def _interactions() -> list[dict]:
    found = []
    for path in sorted(CASSETTES.rglob("*.yaml")):
        for item in yaml.safe_load(path.read_text())["interactions"]:
            found.append({"cassette": path.name, **item})
    return found


def _body(value: object) -> bytes | None:
    if value in (None, ""):
        return None
    return value.encode() if isinstance(value, str) else value  # type: ignore[return-value]


def test_every_recorded_exchange_validates_against_the_sdk_models() -> None:
    problems, successes = [], 0
    for item in _interactions():
        request, response = item["request"], item["response"]
        url = urlsplit(request["uri"])
        if (request["method"], url.path) in RETIRED:
            continue
        query = parse_qs(url.query)
        problems += sdk.check_request(request["method"], url.path, query, _body(request["body"]))
        status = response["status"]["code"]
        body = response["body"]["string"]
        problems += sdk.check_response(request["method"], url.path, status, body)
        successes += 200 <= status < 300
    assert problems == []
    assert successes >= 95  # every success body recorded, not a sample


def test_the_oracle_refuses_what_kalshi_refuses() -> None:
    path = "/trade-api/v2/portfolio/events/orders"
    good = {"ticker": "T", "side": "bid", "count": "1.00", "price": "0.5000",
            "time_in_force": "good_till_canceled", "self_trade_prevention_type": "maker"}
    assert sdk.check_request("POST", path, {}, json.dumps(good).encode()) == []
    for bad in ({**good, "count": 1}, {**good, "side": "buy"}, {**good, "action": "buy"},
                {**good, "time_in_force": "GTT"}):
        assert sdk.check_request("POST", path, {}, json.dumps(bad).encode()), bad
    cancel = "/trade-api/v2/portfolio/events/orders/abc"
    assert sdk.check_request("DELETE", cancel, {"market_ticker": ["T"]}, None) == []
    assert sdk.check_request("DELETE", cancel, {"ticker": ["T"]}, None)
    series = {"series": {"ticker": "S", "frequency": "daily", "title": "t", "category": "c",
                         "categories": [], "tags": [], "settlement_sources": [],
                         "contract_url": "u", "contract_terms_url": "u", "fee_type": "quadratic",
                         "fee_multiplier": 0.5, "additional_prohibitions": []}}
    assert sdk.check_response("GET", "/trade-api/v2/series/S", 200, json.dumps(series)) == []
    as_string = {"series": {**series["series"], "fee_multiplier": "1"}}
    assert sdk.check_response("GET", "/trade-api/v2/series/S", 200, json.dumps(as_string))
    fill = {"fills": [{"fill_id": "f", "trade_id": "t", "order_id": "o", "ticker": "T",
                       "outcome_side": "yes", "book_side": "bid", "count_fp": "1.00",
                       "yes_price_dollars": "0.5000", "no_price_dollars": "0.5000",
                       "is_taker": True, "fee_cost": "0.0175"}], "cursor": ""}
    assert sdk.check_response("GET", "/trade-api/v2/portfolio/fills", 200, json.dumps(fill))
    with pytest.raises(AssertionError):
        assert sdk.check_response("GET", "/trade-api/v2/no/such", 200, "{}") == []
