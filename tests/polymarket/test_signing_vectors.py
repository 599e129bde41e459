"""Every V2, V3 and header vector from the official clients, reproduced byte for byte."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from arbexec_polymarket.amounts import limit_amounts, market_amounts
from arbexec_polymarket.auth import ApiCredentials, L2Signer, hmac_signature, l1_headers
from arbexec_polymarket.eip712 import ExchangeKind, clob_auth_digest, exchange_domain_separator
from arbexec_polymarket.orders import (
    OrderFields,
    OrderSigner,
    OrderType,
    SignatureType,
    post_body,
)
from arbexec_polymarket.signer import Signer

from arbexec.errors import OffGridOrder
from arbexec.model import Side

VECTORS = json.loads((Path(__file__).parent / "data" / "vectors.json").read_text())["vectors"]
ORDER_IDS = [v["id"] for v in VECTORS if v["kind"] == "order"]
AUTH_IDS = [v["id"] for v in VECTORS if v["kind"] == "auth"]
BY_ID = {v["id"]: v for v in VECTORS}

#: Vectors whose amounts the official client computes differently on purpose (see tests below).
LIBRARY_AMOUNTS_ONLY = {"v2_market_buy_fak_t0001_5dp_taker", "v2_buy_t01_float_artifact"}


#: Domain separators of the exchanges on Polygon, as computed by the official clients
#: (protocol notes §5, [SRC][VEC]).
DOMAIN_SEPARATORS_137 = {
    ExchangeKind.STANDARD: "0x3264e159346253e26a64e00b69032db0e7d32f94628de3e6eecb50304d7af3d2",
    ExchangeKind.NEG_RISK: "0x9b858f53327b0bd13af8ec14cfb35234fb9eb7b0504d1a4e61f433840d30e81a",
    ExchangeKind.V3: "0x466c63910185bbd55e8679264200c4e0abdcbb0c6264eb3d41d13326022e095b",
}


@pytest.mark.parametrize("kind", list(DOMAIN_SEPARATORS_137))
def test_exchange_domain_separators_are_the_official_ones(kind: ExchangeKind) -> None:
    assert "0x" + exchange_domain_separator(137, kind).hex() == DOMAIN_SEPARATORS_137[kind]


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


def _exchange(inputs: dict[str, Any]) -> ExchangeKind:
    if "position_id" in inputs:
        return ExchangeKind.V3
    return ExchangeKind.NEG_RISK if inputs["neg_risk"] else ExchangeKind.STANDARD


def _order_signer(inputs: dict[str, Any]) -> OrderSigner:
    return OrderSigner(
        Signer.from_hex(inputs["private_key"]),
        chain_id=inputs["chain_id"],
        signature_type=SignatureType(inputs["signature_type"]),
        funder=inputs.get("funder"),
    )


def _fields(inputs: dict[str, Any], maker: int, taker: int) -> OrderFields:
    return OrderFields(
        token_id=int(inputs.get("position_id") or inputs["token_id"]),
        side=inputs["side"],
        maker_amount=maker,
        taker_amount=taker,
        salt=inputs["salt"],
        timestamp_ms=inputs["timestamp"] * 1000,
        expiration=inputs.get("expiration", 0),
        builder=inputs.get("builder_code", "0x" + "00" * 32),
    )


def _our_amounts(inputs: dict[str, Any]) -> tuple[int, int]:
    side = Side(inputs["side"])
    tick = Decimal(inputs["tick_size"])
    if inputs.get("order_kind") == "market":
        return market_amounts(side, _dec(inputs["price"]), _dec(inputs["amount"]), tick)
    size = _dec(inputs["size"])
    if size % Decimal("0.01"):
        size = size.quantize(Decimal("0.01"), rounding="ROUND_FLOOR")  # see test_fine_size_*
    return limit_amounts(side, _dec(inputs["price"]), size, tick)


def _check_signed(inputs: dict[str, Any], expected: dict[str, Any], maker: int, taker: int):
    signer = _order_signer(inputs)
    signed = signer.sign(_fields(inputs, maker, taker), _exchange(inputs))
    assert signed.order_hash == expected["order_hash"]
    assert signed.signature == expected["signature"]
    body = post_body(
        signed,
        inputs["api_key"],
        OrderType(inputs.get("order_type", "GTC")),
        post_only=inputs.get("post_only", False),
    )
    assert body == expected["post_body"]
    l2 = L2Signer(
        signer.address,
        ApiCredentials(
            api_key=inputs["api_key"],
            secret=inputs["api_secret"],
            passphrase=inputs["api_passphrase"],
        ),
    )
    headers = l2.headers("POST", "/order", body.encode(), timestamp=inputs["timestamp"])
    return signed, headers


@pytest.mark.parametrize("vector_id", ORDER_IDS)
def test_order_vector_signature_body_and_headers(vector_id: str) -> None:
    vector = BY_ID[vector_id]
    inputs, expected = vector["inputs"], vector["expected"]
    maker, taker = int(expected["makerAmount"]), int(expected["takerAmount"])
    signed, headers = _check_signed(inputs, expected, maker, taker)
    assert signed.to_dict() == expected["order"]
    assert headers == expected["post_order_l2_headers"]
    if inputs["chain_id"] == 137:
        separator = exchange_domain_separator(137, _exchange(inputs))
        assert "0x" + separator.hex() == DOMAIN_SEPARATORS_137[_exchange(inputs)]
    assert signed.maker == expected["order"]["maker"]


@pytest.mark.parametrize("vector_id", sorted(set(ORDER_IDS) - LIBRARY_AMOUNTS_ONLY))
def test_order_vector_amounts_from_decimal_inputs(vector_id: str) -> None:
    vector = BY_ID[vector_id]
    expected = vector["expected"]
    assert _our_amounts(vector["inputs"]) == (
        int(expected["makerAmount"]),
        int(expected["takerAmount"]),
    )


@pytest.mark.parametrize("vector_id", ORDER_IDS)
def test_vector_l1_headers(vector_id: str) -> None:
    inputs, expected = BY_ID[vector_id]["inputs"], BY_ID[vector_id]["expected"]
    signer = Signer.from_hex(inputs["private_key"])
    assert signer.address == BY_ID[vector_id]["signer_address"]
    headers = l1_headers(signer, inputs["chain_id"], timestamp=inputs["timestamp"])
    assert headers == expected["l1_headers"]


@pytest.mark.parametrize("vector_id", AUTH_IDS)
def test_auth_vector(vector_id: str) -> None:
    vector = BY_ID[vector_id]
    inputs, expected = vector["inputs"], vector["expected"]
    signer = Signer.from_hex(inputs["private_key"])
    nonce = inputs.get("l1_nonce", 0)
    digest = clob_auth_digest(signer.address, str(inputs["timestamp"]), nonce, inputs["chain_id"])
    assert "0x" + digest.hex() == expected["clob_auth_digest"]
    assert (
        l1_headers(signer, inputs["chain_id"], timestamp=inputs["timestamp"], nonce=nonce)
        == expected["l1_headers"]
    )
    if "l2_headers" not in expected:
        return
    body = json.dumps(inputs["body"], separators=(",", ":")).encode() if "body" in inputs else b""
    assert (str(inputs["timestamp"]) + inputs["method"] + inputs["path"]).encode() + body == (
        expected["hmac_message"].encode()
    )
    creds = ApiCredentials(
        api_key=inputs["api_key"], secret=inputs["api_secret"], passphrase=inputs["api_passphrase"]
    )
    l2 = L2Signer(signer.address, creds)
    assert (
        l2.headers(inputs["method"], inputs["path"], body, timestamp=inputs["timestamp"])
        == expected["l2_headers"]
    )
    assert (
        hmac_signature(
            inputs["api_secret"], str(inputs["timestamp"]), inputs["method"], inputs["path"], body
        )
        == expected["l2_headers"]["POLY_SIGNATURE"]
    )


def test_l2_path_ignores_query_string() -> None:
    vector = BY_ID["l2_get_open_orders"]
    inputs = vector["inputs"]
    creds = ApiCredentials(
        api_key=inputs["api_key"], secret=inputs["api_secret"], passphrase=inputs["api_passphrase"]
    )
    l2 = L2Signer(vector["signer_address"], creds)
    headers = l2.headers(
        "GET", "/data/orders?market=0xabc&next_cursor=MA==", timestamp=inputs["timestamp"]
    )
    assert headers == vector["expected"]["l2_headers"]


def test_float_artifact_decimal_variant_byte_for_byte() -> None:
    """1242.1 shares stay 1242.10 here; the float-based official client signs 1242.09.

    py-clob-client-v2 computes floor(1242.1 * 100) / 100 on doubles, which is 1242.09
    (124209.99999999999 floored). Exact decimals give the unified SDK's amounts, whose
    signature, hash and body the vector records as ``decimal_variant``.
    """
    vector = BY_ID["v2_buy_t01_float_artifact"]
    inputs, expected = vector["inputs"], vector["expected"]
    variant = expected["decimal_variant"]
    ours = _our_amounts(inputs)
    assert ours == (int(variant["makerAmount"]), int(variant["takerAmount"]))
    assert ours != (int(expected["makerAmount"]), int(expected["takerAmount"]))
    assert (ours[1] - int(expected["takerAmount"])) == 10_000  # one share cent
    assert int(expected["takerAmount"]) == int(1242.1 * 100) * 10_000  # the float artifact
    _, headers = _check_signed(inputs, {**expected, **variant}, *ours)
    assert headers == variant["post_order_l2_headers"]


def test_market_buy_on_fine_tick_floors_taker_to_four_decimals() -> None:
    """The official clients emit 10.13197 shares here; the venue rejects a market BUY whose
    taker has more than 4 decimals, so the derived side is floored to 10.1319."""
    vector = BY_ID["v2_market_buy_fak_t0001_5dp_taker"]
    inputs, expected = vector["inputs"], vector["expected"]
    maker, taker = _our_amounts(inputs)
    assert maker == int(expected["makerAmount"])
    assert int(expected["takerAmount"]) == 10_131_970
    assert taker == 10_131_900
    implied = Decimal(maker) / Decimal(taker)  # the most this order pays per share
    price = _dec(inputs["price"])
    assert price <= implied < price + Decimal(inputs["tick_size"])  # matches the same levels


def test_fine_size_is_refused_not_floored() -> None:
    """The official client floors 33.337 shares to 33.33 silently; here it is refused."""
    inputs = BY_ID["v2_sell_t0001_negrisk_eoa"]["inputs"]
    with pytest.raises(OffGridOrder, match="more than 2 decimals"):
        limit_amounts(Side.SELL, _dec(inputs["price"]), _dec(inputs["size"]), Decimal("0.001"))
