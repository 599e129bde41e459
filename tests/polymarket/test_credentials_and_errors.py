"""Credentials from options, environment or keystore (never leaked); venue error mapping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from arbexec_polymarket import parsing
from arbexec_polymarket.config import PolymarketConfig
from arbexec_polymarket.credentials import ENV_PRIVATE_KEY, load_credentials
from arbexec_polymarket.orders import SignatureType
from arbexec_polymarket.venue_errors import classify

from arbexec import errors
from arbexec.model import OrderStatus

VECTORS = json.loads((Path(__file__).parent / "data" / "vectors.json").read_text())
KEY = VECTORS["test_key"]["private_key"]
ADDRESS = VECTORS["test_key"]["address"]
API = VECTORS["vectors"][0]["inputs"]
ENV = {
    "POLYMARKET_PRIVATE_KEY": KEY,
    "POLYMARKET_API_KEY": API["api_key"],
    "POLYMARKET_API_SECRET": API["api_secret"],
    "POLYMARKET_API_PASSPHRASE": API["api_passphrase"],
    "POLYMARKET_SIGNATURE_TYPE": "POLY_GNOSIS_SAFE",
    "POLYMARKET_FUNDER": "0x90f79bf6eb2c4f870365e785982e1f101e93b906",
}


def test_credentials_from_environment_never_show_secrets() -> None:
    creds = load_credentials({}, ENV)
    assert creds.address == ADDRESS
    assert creds.signature_type is SignatureType.POLY_GNOSIS_SAFE
    assert creds.funder == "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
    shown = repr(creds) + str(creds) + repr(creds.api) + repr(creds.signer)
    for secret in (KEY, KEY[2:], API["api_secret"], API["api_passphrase"], API["api_key"]):
        assert secret not in shown


def test_options_win_over_environment() -> None:
    creds = load_credentials({"signature_type": 0, "funder": ""}, {**ENV, "POLYMARKET_FUNDER": ""})
    assert creds.signature_type is SignatureType.EOA


def test_keystore(tmp_path: Path) -> None:
    from eth_account import Account

    keyfile = Account.encrypt(KEY, "correct horse", kdf="pbkdf2", iterations=2)
    path = tmp_path / "key.json"
    path.write_text(json.dumps(keyfile))
    env = {"POLYMARKET_KEYSTORE": str(path), "POLYMARKET_KEYSTORE_PASSPHRASE": "correct horse"}
    assert load_credentials({}, env).address == ADDRESS
    with pytest.raises(errors.ConfigError, match="wrong passphrase") as caught:
        load_credentials({}, {**env, "POLYMARKET_KEYSTORE_PASSPHRASE": "wrong"})
    assert "correct horse" not in str(caught.value)


def test_bad_key_message_does_not_echo_the_key() -> None:
    bad = "0x" + "zz" * 32
    with pytest.raises(errors.ConfigError) as caught:
        load_credentials({}, {ENV_PRIVATE_KEY: bad})
    assert bad not in str(caught.value)


def test_incomplete_api_key_names_what_is_missing() -> None:
    with pytest.raises(errors.ConfigError, match="POLYMARKET_API_PASSPHRASE"):
        load_credentials({}, {"POLYMARKET_API_KEY": "k", "POLYMARKET_API_SECRET": "s"})


def test_config_rejects_unknown_and_bad_options() -> None:
    with pytest.raises(errors.ConfigError, match="unknown option"):
        PolymarketConfig.from_options({"hots": "x"})
    with pytest.raises(errors.ConfigError, match="137"):
        PolymarketConfig.from_options({"chain_id": 1})
    config = PolymarketConfig.from_options(
        {"chain_id": 80002, "proxy_url": "socks5://user:pw@127.0.0.1:1080"}
    )
    assert config.chain_id == 80002 and "pw" not in repr(config)
    assert PolymarketConfig.from_options({}, {"POLYMARKET_PROXY_URL": "socks5://h:1"}).proxy_url


@pytest.mark.parametrize(
    ("message", "status", "expected"),
    [
        ("invalid signature", 400, errors.AuthenticationError),
        (
            "the order signer address has to be the address of the API KEY",
            400,
            errors.AuthenticationError,
        ),
        ("not enough balance / allowance", 400, errors.InsufficientFunds),
        ("INVALID_ORDER_NOT_ENOUGH_BALANCE", 200, errors.InsufficientFunds),
        (
            "no orders found to match with FAK order. FAK orders are partially filled or killed "
            "if no match is found.",
            200,
            errors.NoLiquidity,
        ),
        (
            "order couldn't be fully filled. FOK orders are fully filled or killed.",
            200,
            errors.NoLiquidity,
        ),
        ("INVALID_ORDER_MIN_TICK_SIZE", 200, errors.OffGridOrder),
        (
            "invalid amounts, the market buy orders maker amount supports a max accuracy of 2 "
            "decimals, taker amount a max of 4 decimals",
            400,
            errors.OffGridOrder,
        ),
        ("Size (1.08) lower than the minimum: 5", 400, errors.OffGridOrder),
        ("the market is not yet ready to process new orders", 400, errors.MarketClosed),
        ("Trading is currently cancel-only", 503, errors.MarketClosed),
        ("order_version_mismatch", 400, errors.InvalidOrder),
        ("invalid post-only order: order crosses book", 400, errors.PostOnlyWouldCross),
        ("INVALID_ORDER_DUPLICATED", 200, errors.DuplicateOrder),
        ("Unauthorized/Invalid api key", 401, errors.AuthenticationError),
        ("something new", 403, errors.AuthenticationError),
    ],
)
def test_refusals_map_onto_the_error_hierarchy(
    message: str, status: int, expected: type[errors.ExchangeError]
) -> None:
    error = classify(message, http_status=status)
    assert type(error) is expected
    assert error.venue_message == message and error.venue == "polymarket"


@pytest.mark.parametrize(
    ("status", "matched", "order_type", "expected"),
    [
        ("LIVE", "0", "GTC", OrderStatus.OPEN),
        ("ORDER_STATUS_LIVE", "3", "GTC", OrderStatus.PARTIALLY_FILLED),
        ("MATCHED", "10", "GTC", OrderStatus.FILLED),
        ("MATCHED", "4", "FAK", OrderStatus.CANCELLED),
        ("CANCELED", "4", "GTC", OrderStatus.CANCELLED),
        ("CANCELED_EXPIRED_ORDER", "0", "GTD", OrderStatus.EXPIRED),
        ("INVALID", "0", "GTC", OrderStatus.REJECTED),
        ("SOMETHING_NEW", "0", "GTC", OrderStatus.OPEN),
    ],
)
def test_order_status_mapping(status: str, matched: str, order_type: str, expected: OrderStatus):
    raw = {"status": status, "order_type": order_type}
    assert parsing.order_status(raw, parsing.dec(matched), parsing.dec("10")) is expected


def test_fills_dedupe_by_trade_and_drop_failed() -> None:
    me = "0x" + "aa" * 32
    trades = [
        {"id": "t1", "taker_order_id": me, "size": "5", "price": "0.5", "status": "MATCHED"},
        {
            "id": "t1",
            "taker_order_id": me,
            "size": "5",
            "price": "0.5",
            "status": "TRADE_STATUS_CONFIRMED",
        },
        {
            "id": "t2",
            "taker_order_id": "0xother",
            "status": "MINED",
            "maker_orders": [{"order_id": me, "matched_amount": "2", "price": "0.49"}],
        },
        {"id": "t3", "taker_order_id": me, "size": "1", "price": "0.5", "status": "MATCHED"},
        {"id": "t3", "taker_order_id": me, "size": "1", "price": "0.5", "status": "FAILED"},
    ]
    fills = parsing.fills_for(me, trades)
    assert [(f.trade_id, f.quantity, f.final, f.liquidity.value) for f in fills] == [
        ("t1", parsing.dec("5"), True, "TAKER"),
        ("t2", parsing.dec("2"), False, "MAKER"),
    ]
