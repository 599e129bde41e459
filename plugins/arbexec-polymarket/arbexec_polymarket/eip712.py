"""EIP-712 hashing for Polymarket's typed data, computed directly with keccak.

Every struct the venue signs has a fixed shape, so its type hash and domain separators are
computed once and a struct hash is one keccak over concatenated 32-byte words. This is the
hot path of order signing; generic EIP-712 encoders spend most of their time re-deriving
what is constant here.
"""

from __future__ import annotations

import enum
from functools import lru_cache

from arbexec_polymarket.constants import (
    CLOB_AUTH_DOMAIN_NAME,
    CLOB_AUTH_MESSAGE,
    DEPOSIT_WALLET_DOMAIN_NAME,
    EXCHANGE_DOMAIN_NAME,
    EXCHANGES,
)

try:  # safe-pysha3, when installed, hashes about twice as fast as pycryptodome
    from sha3 import keccak_256 as _keccak_256  # type: ignore[import-not-found,unused-ignore]

    KECCAK_BACKEND = "safe-pysha3"

    def keccak(data: bytes) -> bytes:
        """keccak-256 (Ethereum's, not NIST SHA3-256)."""
        return _keccak_256(data).digest()  # type: ignore[no-any-return,unused-ignore]

except ImportError:  # pragma: no cover - depends on the environment
    from Crypto.Hash import keccak as _keccak_mod

    _new_keccak = _keccak_mod.new
    KECCAK_BACKEND = "pycryptodome"

    def keccak(data: bytes) -> bytes:
        """keccak-256 (Ethereum's, not NIST SHA3-256)."""
        return _new_keccak(digest_bits=256, data=data).digest()


ORDER_TYPE = (
    "Order(uint256 salt,address maker,address signer,uint256 tokenId,uint256 makerAmount,"
    "uint256 takerAmount,uint8 side,uint8 signatureType,uint256 timestamp,bytes32 metadata,"
    "bytes32 builder)"
)
ORDER_TYPEHASH = keccak(ORDER_TYPE.encode())

DOMAIN_TYPEHASH = keccak(
    b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
DOMAIN_TYPEHASH_NO_CONTRACT = keccak(b"EIP712Domain(string name,string version,uint256 chainId)")

CLOB_AUTH_TYPEHASH = keccak(
    b"ClobAuth(address address,string timestamp,uint256 nonce,string message)"
)
_CLOB_AUTH_MESSAGE_HASH = keccak(CLOB_AUTH_MESSAGE.encode())

#: ERC-7739 nested typed data used by deposit wallets (signature type POLY_1271).
TYPED_DATA_SIGN_TYPEHASH = keccak(
    (
        "TypedDataSign(Order contents,string name,string version,uint256 chainId,"
        "address verifyingContract,bytes32 salt)" + ORDER_TYPE
    ).encode()
)
_DEPOSIT_WALLET_NAME_HASH = keccak(DEPOSIT_WALLET_DOMAIN_NAME.encode())
_VERSION_1_HASH = keccak(b"1")
_ZERO_WORD = bytes(32)

#: Trailer of a POLY_1271 signature: the Order type string and its length (uint16 BE).
POLY_1271_TRAILER = ORDER_TYPE.encode() + len(ORDER_TYPE).to_bytes(2, "big")


class ExchangeKind(enum.Enum):
    """Which exchange contract an order is signed for; it decides the EIP-712 domain."""

    STANDARD = "standard"  # CTF markets (token ids), domain version "2"
    NEG_RISK = "neg_risk"  # neg-risk CTF markets, domain version "2"
    V3 = "v3"  # PositionManager markets (position ids), domain version "3"

    @property
    def domain_version(self) -> str:
        return "3" if self is ExchangeKind.V3 else "2"


def exchange_address(chain_id: int, kind: ExchangeKind) -> str:
    try:
        standard, neg_risk, v3 = EXCHANGES[chain_id]
    except KeyError:
        raise ValueError(
            f"chain id {chain_id} is not supported; use 137 (Polygon) or 80002 (Amoy)"
        ) from None
    return {ExchangeKind.STANDARD: standard, ExchangeKind.NEG_RISK: neg_risk}.get(kind, v3)


def address_word(address: str) -> bytes:
    """An address as a left-padded 32-byte ABI word."""
    raw = bytes.fromhex(address[2:] if address[:2] in ("0x", "0X") else address)
    if len(raw) != 20:
        raise ValueError(f"{address!r} is not a 20-byte address")
    return bytes(12) + raw


def bytes32(value: str) -> bytes:
    raw = bytes.fromhex(value[2:] if value[:2] in ("0x", "0X") else value)
    if len(raw) != 32:
        raise ValueError(f"{value!r} is not 32 bytes of hex")
    return raw


def uint_word(value: int) -> bytes:
    return value.to_bytes(32, "big")


@lru_cache(maxsize=32)
def domain_separator(name: str, version: str, chain_id: int, contract: str | None) -> bytes:
    """hashStruct(EIP712Domain); without ``contract`` the three-field domain (ClobAuth)."""
    words = keccak(name.encode()) + keccak(version.encode()) + uint_word(chain_id)
    if contract is None:
        return keccak(DOMAIN_TYPEHASH_NO_CONTRACT + words)
    return keccak(DOMAIN_TYPEHASH + words + address_word(contract))


def exchange_domain_separator(chain_id: int, kind: ExchangeKind) -> bytes:
    return domain_separator(
        EXCHANGE_DOMAIN_NAME, kind.domain_version, chain_id, exchange_address(chain_id, kind)
    )


def order_struct_hash(
    *,
    salt: int,
    maker: bytes,
    signer: bytes,
    token_id: int,
    maker_amount: int,
    taker_amount: int,
    side: int,
    signature_type: int,
    timestamp_ms: int,
    metadata: bytes,
    builder: bytes,
) -> bytes:
    """hashStruct(Order) for the V2/V3 struct. ``maker``/``signer`` are 32-byte words."""
    return keccak(
        b"".join(
            (
                ORDER_TYPEHASH,
                salt.to_bytes(32, "big"),
                maker,
                signer,
                token_id.to_bytes(32, "big"),
                maker_amount.to_bytes(32, "big"),
                taker_amount.to_bytes(32, "big"),
                side.to_bytes(32, "big"),
                signature_type.to_bytes(32, "big"),
                timestamp_ms.to_bytes(32, "big"),
                metadata,
                builder,
            )
        )
    )


def typed_digest(domain_sep: bytes, struct_hash: bytes) -> bytes:
    """keccak(0x1901 || domainSeparator || hashStruct): what the EIP-712 signer signs."""
    return keccak(b"\x19\x01" + domain_sep + struct_hash)


def poly_1271_digest(
    exchange_domain_sep: bytes, contents_hash: bytes, chain_id: int, wallet: str
) -> bytes:
    """The ERC-7739 TypedDataSign digest a deposit wallet's owner signs for an order."""
    tds_hash = keccak(
        TYPED_DATA_SIGN_TYPEHASH
        + contents_hash
        + _DEPOSIT_WALLET_NAME_HASH
        + _VERSION_1_HASH
        + uint_word(chain_id)
        + address_word(wallet)
        + _ZERO_WORD
    )
    return typed_digest(exchange_domain_sep, tds_hash)


def clob_auth_digest(address: str, timestamp: str, nonce: int, chain_id: int) -> bytes:
    """The L1 ``ClobAuth`` digest (API-key creation and derivation)."""
    struct_hash = keccak(
        CLOB_AUTH_TYPEHASH
        + address_word(address)
        + keccak(timestamp.encode())
        + uint_word(nonce)
        + _CLOB_AUTH_MESSAGE_HASH
    )
    return typed_digest(domain_separator(CLOB_AUTH_DOMAIN_NAME, "1", chain_id, None), struct_hash)


def to_checksum_address(address: str) -> str:
    """EIP-55 mixed-case form of a 0x-prefixed hex address."""
    hex_lower = address[2:].lower() if address[:2] in ("0x", "0X") else address.lower()
    if len(hex_lower) != 40 or any(c not in "0123456789abcdef" for c in hex_lower):
        raise ValueError(f"{address!r} is not a 20-byte hex address")
    digest = keccak(hex_lower.encode()).hex()
    return "0x" + "".join(
        c.upper() if int(digest[i], 16) >= 8 else c for i, c in enumerate(hex_lower)
    )
