import pytest

from arbexec.model import RequestError
from arbexec.sources.jsonl import parse_line
from arbexec.sources.parse import request_from_json, request_from_mapping

GOOD = {"request_id": "r1", "venue": "paper", "market": "M", "outcome": "yes", "side": "buy",
        "quantity": 40, "limit_price": "0.55"}


def test_a_good_line_parses_and_the_key_defaults_to_the_request_id() -> None:
    request = request_from_mapping(GOOD)
    assert request.idempotency_key == "r1"
    assert request.outcome.value == "YES"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"limit_prce": "0.5"}, "limit_prce", "unknown field"),
        ({"limit_price": None}, "limit_price", "required"),
        ({"quantity": "forty"}, "quantity", "not a number"),
        ({"quantity": True}, "quantity", "must be a number"),
        ({"limit_price": "1.2"}, "limit_price", "outside (0, 1)"),
        ({"outcome": "MAYBE"}, "outcome", "not one of YES, NO"),
        ({"side": "HOLD"}, "side", "not one of BUY, SELL"),
        ({"time_in_force": "DAY"}, "time_in_force", "not one of"),
        ({"post_only": "yes"}, "post_only", "true or false"),
        ({"time_in_force": "GTD", "expires_at": "tomorrow"}, "expires_at", "ISO-8601"),
    ],
)
def test_each_mistake_names_its_field(change: dict, field: str, words: str) -> None:
    data = {**GOOD, **change}
    with pytest.raises(RequestError) as info:
        request_from_mapping(data)
    assert info.value.field == field
    assert words in info.value.message


def test_a_request_without_any_key_is_refused() -> None:
    data = {k: v for k, v in GOOD.items() if k != "request_id"}
    with pytest.raises(RequestError, match="idempotency_key"):
        request_from_mapping(data)


def test_bad_json_is_a_request_error() -> None:
    with pytest.raises(RequestError, match="not valid JSON"):
        request_from_json("{nope")


def test_a_bad_line_becomes_an_item_with_its_position() -> None:
    item = parse_line('{"venue": "paper"}', "requests.jsonl:7")
    assert item.request is None
    assert item.position == "requests.jsonl:7"
    assert item.error_field == "market" and "required" in (item.error or "")
