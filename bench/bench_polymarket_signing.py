"""Build and sign one Polymarket CLOB V2 order: arbexec-polymarket vs py-clob-client-v2.

Each side does the whole per-order path: maker/taker amounts, EIP-712 order hash, ECDSA
signature, the JSON post body, and the L2 HMAC headers over that body. Both run in this
process with the same key, salt and timestamps, and every run first checks that they
produce byte-identical signatures, bodies and headers.

    .venv/bin/pip install -r bench/requirements-polymarket.txt   # for the comparison
    .venv/bin/python bench/bench_polymarket_signing.py [--orders 2000] [--repeats 7]

Reports through bench/report.py; the run fails if the two differ in any byte.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from arbexec_polymarket.amounts import limit_amounts
from arbexec_polymarket.auth import ApiCredentials, L2Signer
from arbexec_polymarket.eip712 import KECCAK_BACKEND, ExchangeKind, exchange_address
from arbexec_polymarket.orders import OrderFields, OrderSigner, OrderType, post_body
from arbexec_polymarket.signer import Signer
from report import Report, sized

from arbexec.model import Side

KEY = "0xac0974bec39a17e36ba4a84b4d1d1ec6b0b1fd7ed6b9e4b8f6e7b2b1b0b1b2b3"  # public test key
API = ApiCredentials(
    api_key="00000000-0000-4000-8000-000000000001",
    secret="dGVzdC1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZmdoaWo=",
    passphrase="0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
)
TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
PRICE, SIZE, TICK = "0.57", "10.13", "0.01"
SALT, TS = 123456789, 1760000000
ZERO32 = "0x" + "00" * 32


def ours() -> Callable[[], tuple[str, str, dict[str, str]]]:
    signer = Signer.from_hex(KEY)
    order_signer = OrderSigner(signer, chain_id=137)
    l2 = L2Signer(signer.address, API)
    price, size, tick = Decimal(PRICE), Decimal(SIZE), Decimal(TICK)

    def one() -> tuple[str, str, dict[str, str]]:
        maker, taker = limit_amounts(Side.BUY, price, size, tick)
        fields = OrderFields(
            token_id=int(TOKEN),
            side=Side.BUY,
            maker_amount=maker,
            taker_amount=taker,
            salt=SALT,
            timestamp_ms=TS * 1000,
        )
        signed = order_signer.sign(fields, ExchangeKind.STANDARD)
        body = post_body(signed, API.api_key, OrderType.GTC)
        headers = l2.headers("POST", "/order", body.encode(), timestamp=TS)
        return signed.order_hash, body, headers

    return one


def official() -> Callable[[], tuple[str, str, dict[str, str]]] | None:
    try:
        from py_clob_client_v2.clob_types import ApiCreds, RequestArgs
        from py_clob_client_v2.headers.headers import create_level_2_headers
        from py_clob_client_v2.order_builder.builder import ROUNDING_CONFIG, OrderBuilder
        from py_clob_client_v2.order_utils import ExchangeOrderBuilderV2, OrderDataV2
        from py_clob_client_v2.order_utils.model import SignatureTypeV2
        from py_clob_client_v2.order_utils.model.order_data_v2 import order_to_json_v2
        from py_clob_client_v2.signer import Signer as OfficialSigner
    except ImportError:
        return None
    signer = OfficialSigner(KEY, 137)
    builder = OrderBuilder(signer)
    creds = ApiCreds(api_key=API.api_key, api_secret=API.secret, api_passphrase=API.passphrase)
    exchange = exchange_address(137, ExchangeKind.STANDARD)
    address = signer.address()

    def one() -> tuple[str, str, dict[str, str]]:
        side, maker, taker = builder.get_order_amounts(
            "BUY", float(SIZE), float(PRICE), ROUNDING_CONFIG[TICK]
        )
        data = OrderDataV2(
            maker=address,
            tokenId=TOKEN,
            makerAmount=str(maker),
            takerAmount=str(taker),
            side=side,
            signer=address,
            signatureType=SignatureTypeV2.EOA,
            timestamp=str(TS * 1000),
            metadata=ZERO32,
            builder=ZERO32,
            expiration="0",
        )
        order_builder = ExchangeOrderBuilderV2(exchange, 137, signer, generate_salt=lambda: SALT)
        signed = order_builder.build_signed_order(data)
        order_hash = order_builder.build_order_hash(order_builder.build_order_typed_data(signed))
        payload = order_to_json_v2(signed, API.api_key, "GTC", False, False)
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        headers = create_level_2_headers(
            signer, creds, RequestArgs("POST", "/order", payload, body), timestamp=TS
        )
        return order_hash, body, dict(headers)

    return one


def per_order_us(fn: Callable[[], Any], orders: int, repeats: int) -> list[float]:
    fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for _ in range(orders):
            fn()
        samples.append((time.perf_counter_ns() - start) / orders / 1000)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=sized(2000, 200))
    parser.add_argument("--repeats", type=int, default=sized(7, 3))
    args = parser.parse_args()

    mine = ours()
    theirs = official()
    report = Report("polymarket_signing")
    report.fact("python", sys.version.split()[0])
    report.fact("keccak backend", KECCAK_BACKEND)
    if theirs is not None:
        a, b = mine(), theirs()
        if a != b:
            print("MISMATCH between arbexec-polymarket and py-clob-client-v2:", a, b)
            return 1
        report.fact("order hash, signature, post body and L2 headers identical", True)
        report.add("py-clob-client-v2, one order", "us",
                   per_order_us(theirs, max(args.orders // 10, 20), args.repeats))
    else:
        report.fact("py-clob-client-v2", "not installed: comparison skipped "
                    "(pip install -r bench/requirements-polymarket.txt)")
    report.add("arbexec-polymarket, one order", "us",
               per_order_us(mine, args.orders, args.repeats),
               against=None if theirs is None else "py-clob-client-v2, one order")
    report.finish()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
