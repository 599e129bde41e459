"""A loopback stand-in for Polymarket's CLOB, Gamma and Data APIs, used only to record
cassettes. It serves the response shapes of the protocol reference and checks what it
receives the way the venue does: L2 HMAC headers over the exact body bytes, and order
signatures recovered to the maker's signing address. Refusals and lost answers are
injected outside it, in ``transport(*faults)`` (``arbexec.testing.faults``), so they also
act on replay.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
from coincurve import PublicKey

from arbexec.api import Side, TimeInForce
from arbexec.testing.matching import Book, Taker
from arbexec.testing.standin import StandInVenue, offset_page
from arbexec_polymarket.eip712 import (
    ExchangeKind,
    address_word,
    bytes32,
    exchange_domain_separator,
    keccak,
    order_struct_hash,
    to_checksum_address,
    typed_digest,
)

CONDITION_ID = "0x" + "5e" * 32
YES_TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
NO_TOKEN = "52114319501245915516055106046884209969926127482827954674443846427813813222426"
FEE_CONDITION_ID = CONDITION_ID
PAGE_SIZE = 2
_UNIT = Decimal(10) ** 6
_TIME_IN_FORCE = {"GTC": TimeInForce.GTC, "GTD": TimeInForce.GTD, "FOK": TimeInForce.FOK,
                  "FAK": TimeInForce.IOC}


def _recover(digest: bytes, signature: bytes) -> str:
    sig = signature[:64] + bytes((signature[64] - 27,))
    public = PublicKey.from_signature_and_message(sig, digest, hasher=None)
    return to_checksum_address("0x" + keccak(public.format(compressed=False)[1:])[-20:].hex())


class FakeClob(StandInVenue):
    """Holds orders, trades and books of one test account and answers httpx requests;
    routes added with ``route`` (the shared stand-in base) answer before the CLOB's own."""

    def __init__(self, *, address: str, api_key: str, secret: str, passphrase: str) -> None:
        super().__init__()
        self.address = address
        self.api_key = api_key
        self.secret = secret
        self.passphrase = passphrase
        self.orders: dict[str, dict[str, Any]] = {}
        self.trades: dict[str, dict[str, Any]] = {}
        self.asks = [("0.52", "150"), ("0.55", "200")]
        self.bids = [("0.48", "100"), ("0.45", "300")]
        self.heartbeat = "hb-1"
        self.tick = "0.01"
        self.clock = 1_763_000_000
        self._own_routes()

    # ------------------------------------------------------------------ checks

    def _check_l2(self, request: httpx.Request) -> httpx.Response | None:
        h = request.headers
        if h.get("POLY_API_KEY") != self.api_key or h.get("POLY_PASSPHRASE") != self.passphrase:
            return _json(401, {"error": "Unauthorized/Invalid api key"})
        key = base64.urlsafe_b64decode(self.secret + "=" * (-len(self.secret) % 4))
        message = (h["POLY_TIMESTAMP"] + request.method + request.url.path).encode()
        expected = base64.urlsafe_b64encode(
            hmac.new(key, message + request.content, hashlib.sha256).digest()
        ).decode()
        if h.get("POLY_SIGNATURE") != expected or h.get("POLY_ADDRESS") != self.address:
            return _json(401, {"error": "Unauthorized/Invalid api key"})
        return None

    def _order_hash_and_signer(self, order: dict[str, Any], neg_risk: bool) -> tuple[str, str]:
        kind = ExchangeKind.NEG_RISK if neg_risk else ExchangeKind.STANDARD
        contents = posted_struct_hash(order)
        digest = typed_digest(exchange_domain_separator(137, kind), contents)
        signer = _recover(digest, bytes.fromhex(order["signature"][2:132]))
        return "0x" + digest.hex(), signer

    # ------------------------------------------------------------------ routing

    def _own_routes(self) -> None:
        """The venue's answers as base routes (a test's routes, added later, answer first).
        Everything but the public reads and the key derivation needs valid L2 headers."""
        def public(method: str, path: str, answer: Callable[..., Any], *,
                   host: str | None = None) -> None:
            self.route(method, path, host=host)(
                lambda request, **names: _json(200, answer(_query(request), **names)))

        def private(method: str, path: str, answer: Callable[..., Any]) -> None:
            def checked(request: httpx.Request, **names: str) -> httpx.Response:
                denied = self._check_l2(request)
                if denied is not None:
                    return denied
                body: Any = json.loads(request.content) if request.content else {}
                return answer(body, _query(request), **names)

            self.route(method, path)(checked)

        public("GET", "/markets", self._gamma, host="gamma-api.polymarket.com")
        public("GET", "/positions", lambda _q: [self._position()], host="data-api.polymarket.com")
        public("GET", "/tick-size", lambda _q: {"minimum_tick_size": float(self.tick)})
        public("GET", "/neg-risk", lambda _q: {"neg_risk": False})
        public("GET", "/book", lambda q: self._book(q["token_id"]))
        public("GET", "/midpoint", lambda _q: {"mid": "0.5"})
        public("GET", f"/clob-markets/{CONDITION_ID}", self._clob_market)
        for method, path in (("GET", "/auth/derive-api-key"), ("POST", "/auth/api-key")):
            public(method, path, lambda _q: {"apiKey": self.api_key, "secret": self.secret,
                                             "passphrase": self.passphrase})
        private("POST", "/order", lambda body, _q: _json(200, self._place(body)))
        private("POST", "/orders",
                lambda body, _q: _json(200, [self._place(item) for item in body]))
        private("GET", "/data/order/{order_id}",
                lambda _b, _q, order_id: _json(200, self.orders.get(order_id)))
        private("GET", "/data/orders", lambda _b, q: _json(200, _page(
            [o for o in self.orders.values() if o["status"] == "LIVE"],
            q.get("next_cursor", "MA=="))))
        private("GET", "/data/trades", lambda _b, q: _json(200, _page(
            [t for t in self.trades.values() if "id" not in q or t["id"] == q["id"]],
            q.get("next_cursor", "MA=="))))
        private("DELETE", "/order", lambda body, _q: _json(200, self._cancel([body["orderID"]])))
        private("DELETE", "/orders", lambda body, _q: _json(200, self._cancel(body)))
        private("DELETE", "/cancel-all", lambda _b, _q: _json(200, self._cancel(
            [k for k, o in self.orders.items() if o["status"] == "LIVE"])))
        private("DELETE", "/cancel-market-orders", lambda body, _q: _json(200, self._cancel(
            [k for k, o in self.orders.items()
             if o["status"] == "LIVE" and o["market"] == body.get("market")])))
        private("GET", "/balance-allowance", lambda _b, _q: _json(200, {
            "balance": "250000000",
            "allowances": {"0xE111180000d2663C0091e4f400237545B87B996B":
                           "115792089237316195423570985"}}))
        private("GET", "/balance-allowance/update", lambda _b, _q: _json(200, ""))
        private("POST", "/v1/heartbeats", lambda body, _q: self._heartbeat(body))

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.log(request)
        answer = self.dispatch(request)
        if answer is not None:
            return answer
        denied = self._check_l2(request)
        if denied is not None:
            return denied
        return _json(404, {"error": f"no route {request.method} {request.url.path}"})

    def _heartbeat(self, body: dict[str, Any]) -> httpx.Response:
        if body.get("heartbeat_id") not in ("", self.heartbeat):
            return _json(400, {"error_msg": "Invalid Heartbeat ID", "heartbeat_id": self.heartbeat})
        self.heartbeat = f"hb-{int(self.heartbeat[3:]) + 1}"
        return _json(200, {"heartbeat_id": self.heartbeat})

    # ------------------------------------------------------------------ venue behaviour

    def _gamma(self, query: dict[str, str]) -> list[dict[str, Any]]:
        wanted = query.get("condition_ids") or query.get("clob_token_ids")
        if wanted not in (CONDITION_ID, YES_TOKEN, NO_TOKEN):
            return []
        return [
            {
                "id": "512340",
                "question": "Will the test market resolve YES?",
                "conditionId": CONDITION_ID,
                "slug": "test-market",
                "outcomes": json.dumps(["Yes", "No"]),
                "clobTokenIds": json.dumps([YES_TOKEN, NO_TOKEN]),
                "negRisk": False,
                "orderMinSize": 5,
                "orderPriceMinTickSize": float(self.tick),
                "active": True,
                "closed": False,
                "acceptingOrders": True,
                "endDate": "2027-01-01T00:00:00Z",
                "version": "v1",
            }
        ]

    def _clob_market(self, _query: dict[str, str]) -> dict[str, Any]:
        return {
            "c": CONDITION_ID,
            "t": [{"t": YES_TOKEN, "o": "Yes"}, {"t": NO_TOKEN, "o": "No"}],
            "mts": float(self.tick),
            "nr": False,
            "fd": {"r": 0.02, "e": 1, "to": True},
        }

    def _book(self, token: str) -> dict[str, Any]:
        bids = [{"price": p, "size": s} for p, s in reversed(self.bids)]  # best last, as served
        asks = [{"price": p, "size": s} for p, s in reversed(self.asks)]
        return {
            "market": CONDITION_ID,
            "asset_id": token,
            "timestamp": "1763000000000",
            "hash": "0f" * 20,
            "bids": bids,
            "asks": asks,
            "min_order_size": "5",
            "tick_size": self.tick,
            "neg_risk": False,
            "last_trade_price": "0.50",
        }

    def _position(self) -> dict[str, Any]:
        return {
            "proxyWallet": self.address,
            "asset": YES_TOKEN,
            "conditionId": CONDITION_ID,
            "size": 12.5,
            "avgPrice": 0.41,
            "initialValue": 5.125,
            "currentValue": 6.25,
            "realizedPnl": 0.75,
            "curPrice": 0.5,
            "outcome": "Yes",
            "outcomeIndex": 0,
        }

    def _place(self, body: dict[str, Any]) -> dict[str, Any]:
        order = body["order"]
        order_hash, signer = self._order_hash_and_signer(order, neg_risk=False)
        if signer != order["signer"]:
            return {
                "success": False,
                "errorMsg": "invalid signature",
                "orderID": "",
                "status": "",
                "makingAmount": "",
                "takingAmount": "",
                "transactionsHashes": [],
                "tradeIDs": [],
            }
        maker, taker = Decimal(order["makerAmount"]) / _UNIT, Decimal(order["takerAmount"]) / _UNIT
        side = order["side"]
        shares = taker if side == "BUY" else maker
        price = (maker / taker) if side == "BUY" else (taker / maker)
        if body["orderType"] in ("FOK", "FAK") and side == "BUY":
            price = (maker / taker).quantize(Decimal(self.tick), rounding="ROUND_DOWN")
        price = price.quantize(Decimal(self.tick))
        best_ask = Decimal(self.asks[0][0])
        match = self._market_side().submit(Taker(
            order_hash, Side.BUY if side == "BUY" else Side.SELL, price, shares,
            _TIME_IN_FORCE[body["orderType"]], rest=False))
        if match.refused == "fill or kill" and side == "BUY" and price >= best_ask:
            return {
                "success": False,
                "errorMsg": "order couldn't be fully filled. FOK orders are fully filled "
                "or killed.",
                "orderID": order_hash,
                "status": "",
                "makingAmount": "0",
                "takingAmount": "0",
                "transactionsHashes": [],
                "tradeIDs": [],
            }
        if body["orderType"] in ("FOK", "FAK") and not match.fills:
            return {
                "success": False,
                "errorMsg": "no orders found to match with FAK order. FAK "
                "orders are partially filled or killed if no match is found.",
                "orderID": order_hash,
                "status": "",
                "makingAmount": "0",
                "takingAmount": "0",
                "transactionsHashes": [],
                "tradeIDs": [],
            }
        matched = match.filled
        trade_ids = []
        if matched > 0:
            trade_id = f"trade-{len(self.trades) + 1:04d}"
            self.trades[trade_id] = self._trade(trade_id, order_hash, order, matched, best_ask)
            trade_ids.append(trade_id)
        status = "matched" if matched > 0 else "live"
        self.orders[order_hash] = {
            "id": order_hash,
            "status": "LIVE" if matched < shares else "MATCHED",
            "owner": body["owner"],
            "maker_address": order["maker"],
            "market": CONDITION_ID,
            "asset_id": order["tokenId"],
            "side": side,
            "original_size": str(shares),
            "size_matched": str(matched),
            "price": str(price),
            "outcome": "Yes" if order["tokenId"] == YES_TOKEN else "No",
            "expiration": order["expiration"],
            "order_type": body["orderType"],
            "associate_trades": trade_ids,
            "created_at": self.clock,
        }
        if body["orderType"] == "FAK" and 0 < matched < shares:
            self.orders[order_hash]["status"] = "MATCHED"
        return {
            "success": True,
            "errorMsg": "",
            "orderID": order_hash,
            "status": status,
            "makingAmount": str(matched * best_ask) if matched else "0",
            "takingAmount": str(matched) if matched else "0",
            "transactionsHashes": [],
            "tradeIDs": trade_ids,
        }

    def _market_side(self) -> Book:
        """What a placement meets: the best ask of ``asks``, as deep as listed and the same
        for every placement (the stand-in's book does not move, so ``GET /book`` and every
        recorded answer stay what they were; a SELL meets no bid)."""
        book = Book()
        price, size = self.asks[0]
        book.rest("best-ask", Side.SELL, Decimal(price), Decimal(size), "members")
        return book

    def _trade(
        self, trade_id: str, order_hash: str, order: dict[str, Any], size: Decimal, price: Decimal
    ) -> dict[str, Any]:
        return {
            "id": trade_id,
            "taker_order_id": order_hash,
            "market": CONDITION_ID,
            "asset_id": order["tokenId"],
            "side": order["side"],
            "size": str(size),
            "price": str(price),
            "fee_rate_bps": "0",
            "status": "TRADE_STATUS_MATCHED",
            "match_time": str(self.clock),
            "last_update": str(self.clock),
            "outcome": "Yes",
            "owner": self.api_key,
            "maker_address": order["maker"],
            "trader_side": "TAKER",
            "transaction_hash": "",
            "bucket_index": 0,
            "maker_orders": [
                {
                    "order_id": "0x" + "ab" * 32,
                    "owner": "someone-else",
                    "maker_address": "0x" + "11" * 20,
                    "matched_amount": str(size),
                    "price": str(price),
                    "fee_rate_bps": "0",
                    "asset_id": order["tokenId"],
                    "outcome": "Yes",
                    "side": "SELL",
                }
            ],
        }

    def confirm_trades(self) -> None:
        for trade in self.trades.values():
            trade["status"] = "TRADE_STATUS_CONFIRMED"
            trade["transaction_hash"] = "0x" + "cd" * 32

    def _cancel(self, ids: list[str]) -> dict[str, Any]:
        canceled, not_canceled = [], {}
        for order_id in ids:
            order = self.orders.get(order_id)
            if order is None:
                not_canceled[order_id] = "order not found"
            elif order["status"] != "LIVE":
                not_canceled[order_id] = "already canceled or matched"
            else:
                order["status"] = "CANCELED"
                canceled.append(order_id)
        return {"canceled": canceled, "not_canceled": not_canceled}


def _page(items: list[dict[str, Any]], cursor: str) -> dict[str, Any]:
    if cursor == "LTE=":  # the venue's "no more pages"
        chunk: list[dict[str, Any]] = []
        end: int | None = None
    else:
        chunk, end = offset_page(items, int(base64.b64decode(cursor).decode()), PAGE_SIZE)
    next_cursor = "LTE=" if end is None else base64.b64encode(str(end).encode()).decode()
    return {"data": chunk, "next_cursor": next_cursor, "limit": PAGE_SIZE, "count": len(chunk)}


def _query(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(payload, separators=(",", ":")).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def fill_resting_as_maker(clob: FakeClob, order_id: str, size: str, *, confirmed: bool) -> None:
    """Someone sells into our resting order (used between stream connections).

    Only while recording does the stand-in hold the order; in replay this does nothing.
    """
    order = clob.orders.get(order_id)
    if order is None:
        return
    trade_id = f"trade-{len(clob.trades) + 1:04d}"
    trade = clob._trade(
        trade_id,
        "0x" + "99" * 32,
        {"tokenId": order["asset_id"], "side": "SELL", "maker": "0x" + "22" * 20},
        Decimal(size),
        Decimal(order["price"]),
    )
    trade["maker_orders"] = [
        {
            "order_id": order_id,
            "owner": clob.api_key,
            "maker_address": order["maker_address"],
            "matched_amount": size,
            "price": order["price"],
            "asset_id": order["asset_id"],
            "outcome": "Yes",
            "side": "BUY",
        }
    ]
    trade["trader_side"] = "MAKER"
    if confirmed:
        trade["status"] = "TRADE_STATUS_CONFIRMED"
    clob.trades[trade_id] = trade
    order["size_matched"] = size
    order["associate_trades"] = [*order["associate_trades"], trade_id]


# ---------------------------------------------------------------------------- verification


class RequestVerifier:
    """Checks a request the way the venue does, so a replayed test still proves the adapter
    signs correctly: cassettes hold ``REDACTED`` in place of every signature, so the replay
    matcher cannot compare them; this recomputes them from the test's own credentials.

    - L2 calls (``POLY_API_KEY`` present): API key, passphrase, address, and the HMAC over
      timestamp + method + path + the exact body bytes;
    - ``POST /order`` and ``POST /orders``: each order's signature recovers to its ``signer``
      under one of the chain's three exchange domains (standard, neg-risk, V3).
    """

    def __init__(
        self, *, address: str, api_key: str, secret: str, passphrase: str, chain_id: int = 137
    ) -> None:
        self.address = address
        self.api_key = api_key
        self.passphrase = passphrase
        self._key = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
        self._domains = [exchange_domain_separator(chain_id, kind) for kind in ExchangeKind]

    def problems(self, request: httpx.Request) -> list[str]:
        found: list[str] = []
        h = request.headers
        if "POLY_API_KEY" in h:
            if h.get("POLY_API_KEY") != self.api_key:
                found.append("POLY_API_KEY is not the test key")
            if h.get("POLY_PASSPHRASE") != self.passphrase:
                found.append("POLY_PASSPHRASE is wrong")
            if h.get("POLY_ADDRESS") != self.address:
                found.append("POLY_ADDRESS is not the key's address")
            message = (h.get("POLY_TIMESTAMP", "") + request.method + request.url.path).encode()
            expected = base64.urlsafe_b64encode(
                hmac.new(self._key, message + request.content, hashlib.sha256).digest()
            ).decode()
            if h.get("POLY_SIGNATURE") != expected:
                found.append("POLY_SIGNATURE does not verify over the sent bytes")
        if request.method == "POST" and request.url.path in ("/order", "/orders"):
            try:
                body = json.loads(request.content)
            except ValueError:
                return [*found, "order body is not JSON"]
            for item in body if isinstance(body, list) else [body]:
                found.extend(self._order_problems(item.get("order") or {}))
        return found

    def _order_problems(self, order: dict[str, Any]) -> list[str]:
        try:
            contents = posted_struct_hash(order)
            signature = bytes.fromhex(order["signature"][2:132])
        except (KeyError, TypeError, ValueError) as exc:
            return [f"order cannot be read ({type(exc).__name__}: {exc})"]
        for domain in self._domains:
            try:
                if _recover(typed_digest(domain, contents), signature) == order["signer"]:
                    return []
            except Exception:  # not a valid signature at all
                continue
        return [f"order signature does not recover to {order['signer']}"]


class VerifyingTransport(httpx.AsyncBaseTransport):
    """Fails the test (``AssertionError``) on any request that ``RequestVerifier`` rejects;
    passes the rest to ``inner`` (the cassette, or the stand-in while recording)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, verifier: RequestVerifier) -> None:
        self.inner = inner
        self.verifier = verifier
        self.rejected: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        problems = self.verifier.problems(request)
        if problems:
            self.rejected.extend(problems)
            raise AssertionError(
                f"{request.method} {request.url.path} would be refused by the venue: "
                + "; ".join(problems)
            )
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def posted_struct_hash(order: dict[str, Any]) -> bytes:
    """The EIP-712 struct hash of an order as posted (the JSON body's field names)."""
    return order_struct_hash(
        salt=int(order["salt"]),
        maker=address_word(order["maker"]),
        signer=address_word(order["signer"]),
        token_id=int(order["tokenId"]),
        maker_amount=int(order["makerAmount"]),
        taker_amount=int(order["takerAmount"]),
        side=0 if order["side"] == "BUY" else 1,
        signature_type=int(order["signatureType"]),
        timestamp_ms=int(order["timestamp"]),
        metadata=bytes32(order["metadata"]),
        builder=bytes32(order["builder"]),
    )
