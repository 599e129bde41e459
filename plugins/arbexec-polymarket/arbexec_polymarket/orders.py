"""Building and signing CLOB V2 orders, and the exact bytes posted for them.

``OrderSigner`` precomputes everything that does not change between orders (address words,
domain separators) so signing one order is two keccaks and one ECDSA signature. The order
hash it returns is the venue's order id, known before anything is sent.
"""

from __future__ import annotations

import enum
import hashlib
import json
from typing import Any

from attrs import field, frozen

from arbexec.api import Side
from arbexec_polymarket.constants import ZERO_BYTES32
from arbexec_polymarket.eip712 import (
    POLY_1271_TRAILER,
    ExchangeKind,
    address_word,
    bytes32,
    exchange_domain_separator,
    order_struct_hash,
    poly_1271_digest,
    to_checksum_address,
    typed_digest,
)
from arbexec_polymarket.signer import Signer

_MAX_SALT = (1 << 53) - 1  # the salt is a JSON number: keep it exact in every parser


class SignatureType(enum.IntEnum):
    """Who the maker is and how the exchange checks the signature."""

    EOA = 0
    POLY_PROXY = 1
    POLY_GNOSIS_SAFE = 2
    POLY_1271 = 3

    @classmethod
    def parse(cls, value: Any) -> SignatureType:
        if isinstance(value, SignatureType):
            return value
        text = str(value).strip().upper()
        if text.isdigit():
            try:
                return cls(int(text))
            except ValueError:
                pass
        aliases = {
            "PROXY": "POLY_PROXY",
            "SAFE": "POLY_GNOSIS_SAFE",
            "GNOSIS_SAFE": "POLY_GNOSIS_SAFE",
            "1271": "POLY_1271",
            "DEPOSIT_WALLET": "POLY_1271",
        }
        name = aliases.get(text, text)
        if name in cls.__members__:
            return cls[name]
        raise ValueError(
            f"signature type {value!r} is unknown; use 0/EOA, 1/POLY_PROXY, "
            "2/POLY_GNOSIS_SAFE or 3/POLY_1271"
        )


class OrderType(enum.StrEnum):
    GTC = "GTC"
    GTD = "GTD"
    FOK = "FOK"
    FAK = "FAK"

    @property
    def is_market(self) -> bool:
        return self in (OrderType.FOK, OrderType.FAK)


def _bytes32_text(value: str) -> str:
    bytes32(value)
    return "0x" + value[2:].lower() if value[:2] in ("0x", "0X") else "0x" + value.lower()


def _non_negative_int(_inst: object, attribute: Any, value: int) -> None:
    if not isinstance(value, int) or value < 0:
        raise ValueError(f"{attribute.name} must be a non-negative integer")


def salt_from_key(idempotency_key: str) -> int:
    """A salt fixed by the request's idempotency key: the same request, the same order hash."""
    digest = hashlib.sha256(b"arbexec-polymarket-salt\x00" + idempotency_key.encode()).digest()
    return int.from_bytes(digest[:8], "big") & _MAX_SALT


@frozen(kw_only=True)
class OrderFields:
    """What one order says, in venue units (amounts in 1e-6, timestamp in milliseconds)."""

    token_id: int = field(validator=_non_negative_int)
    side: Side = field(converter=Side)
    maker_amount: int = field(validator=_non_negative_int)
    taker_amount: int = field(validator=_non_negative_int)
    salt: int = field(validator=_non_negative_int)
    timestamp_ms: int = field(validator=_non_negative_int)
    expiration: int = field(default=0, validator=_non_negative_int)  # unix seconds, not signed
    metadata: str = field(default=ZERO_BYTES32, converter=_bytes32_text)
    builder: str = field(default=ZERO_BYTES32, converter=_bytes32_text)

    def __attrs_post_init__(self) -> None:
        if self.salt > _MAX_SALT:
            raise ValueError("salt must stay below 2**53 so it survives JSON number parsing")


@frozen(kw_only=True)
class SignedOrder:
    """A signed order: its fields, who signs, its hash (the venue order id), its signature."""

    fields: OrderFields
    maker: str
    signer: str
    signature_type: SignatureType
    exchange: ExchangeKind
    order_hash: str
    signature: str = field(repr=False)

    def to_json(self) -> str:
        """The ``order`` object exactly as posted (compact, the official key order)."""
        f = self.fields
        return (
            f'{{"salt":{f.salt},"maker":"{self.maker}","signer":"{self.signer}",'
            f'"tokenId":"{f.token_id}","makerAmount":"{f.maker_amount}",'
            f'"takerAmount":"{f.taker_amount}","side":"{f.side.value}",'
            f'"expiration":"{f.expiration}","signatureType":{int(self.signature_type)},'
            f'"timestamp":"{f.timestamp_ms}","metadata":"{f.metadata}",'
            f'"builder":"{f.builder}","signature":"{self.signature}"}}'
        )

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.to_json())
        return result


def post_body(
    order: SignedOrder, owner: str, order_type: OrderType, *, post_only: bool = False
) -> str:
    """The ``POST /order`` body: serialised once; these exact bytes are signed and sent."""
    return (
        f'{{"order":{order.to_json()},"owner":{json.dumps(owner)},'
        f'"orderType":"{order_type.value}","deferExec":false,'
        f'"postOnly":{"true" if post_only else "false"}}}'
    )


def batch_body(entries: list[str]) -> str:
    """``POST /orders`` body from single-order bodies (each already compact JSON)."""
    return "[" + ",".join(entries) + "]"


class OrderSigner:
    """Signs orders for one wallet on one chain.

    ``funder`` is the maker (proxy, Safe or deposit wallet); for EOA orders it is the
    signing address itself. For POLY_1271 the deposit wallet is also ``order.signer`` and
    the EOA signs the ERC-7739 wrapper.
    """

    __slots__ = (
        "_domains",
        "_maker_word",
        "_signer",
        "_signer_word",
        "chain_id",
        "maker",
        "order_signer",
        "signature_type",
    )

    def __init__(
        self,
        signer: Signer,
        *,
        chain_id: int,
        signature_type: SignatureType = SignatureType.EOA,
        funder: str | None = None,
    ) -> None:
        self._signer = signer
        self.chain_id = chain_id
        self.signature_type = SignatureType.parse(signature_type)
        if funder:
            funder = to_checksum_address(funder)
        if self.signature_type is SignatureType.EOA:
            if funder and funder != signer.address:
                raise ValueError(
                    "an EOA order (signature type 0) is made by the key's own address; "
                    "a different funder needs signature type 1, 2 or 3"
                )
            self.maker = signer.address
        else:
            if not funder:
                raise ValueError(
                    f"signature type {self.signature_type.name} needs the funder address "
                    "(the proxy, Safe or deposit wallet holding the funds)"
                )
            self.maker = funder
        self.order_signer = (
            self.maker if self.signature_type is SignatureType.POLY_1271 else signer.address
        )
        self._maker_word = address_word(self.maker)
        self._signer_word = address_word(self.order_signer)
        self._domains = {kind: exchange_domain_separator(chain_id, kind) for kind in ExchangeKind}

    @property
    def address(self) -> str:
        """The EOA that signs (and owns the API key)."""
        return self._signer.address

    def sign(self, fields: OrderFields, exchange: ExchangeKind) -> SignedOrder:
        domain = self._domains[exchange]
        contents = order_struct_hash(
            salt=fields.salt,
            maker=self._maker_word,
            signer=self._signer_word,
            token_id=fields.token_id,
            maker_amount=fields.maker_amount,
            taker_amount=fields.taker_amount,
            side=0 if fields.side is Side.BUY else 1,
            signature_type=int(self.signature_type),
            timestamp_ms=fields.timestamp_ms,
            metadata=bytes.fromhex(fields.metadata[2:]),
            builder=bytes.fromhex(fields.builder[2:]),
        )
        order_hash = typed_digest(domain, contents)
        if self.signature_type is SignatureType.POLY_1271:
            digest = poly_1271_digest(domain, contents, self.chain_id, self.maker)
            raw = self._signer.sign(digest) + domain + contents + POLY_1271_TRAILER
        else:
            raw = self._signer.sign(order_hash)
        return SignedOrder(
            fields=fields,
            maker=self.maker,
            signer=self.order_signer,
            signature_type=self.signature_type,
            exchange=exchange,
            order_hash="0x" + order_hash.hex(),
            signature="0x" + raw.hex(),
        )

    def __repr__(self) -> str:
        return (
            f"OrderSigner(address={self.address}, maker={self.maker}, "
            f"signature_type={self.signature_type.name}, chain_id={self.chain_id})"
        )
