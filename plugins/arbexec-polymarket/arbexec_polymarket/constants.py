"""Polymarket CLOB V2 constants: hosts, chains and the contracts orders are signed for.

Addresses are the ones the official clients configure (see docs/venues/polymarket.md).
"""

from __future__ import annotations

from typing import Final

CLOB_HOST: Final = "https://clob.polymarket.com"
GAMMA_HOST: Final = "https://gamma-api.polymarket.com"
USER_WS_URL: Final = "wss://ws-subscriptions-clob.polymarket.com/ws/user"

POLYGON: Final = 137
AMOY: Final = 80002

#: Outcome shares and pUSD collateral both use 6 decimals.
UNIT_DECIMALS: Final = 6

ZERO_BYTES32: Final = "0x" + "00" * 32

#: Pagination: the first cursor and the sentinel the server sends after the last page.
FIRST_CURSOR: Final = "MA=="
END_CURSOR: Final = "LTE="

#: Exchange contracts per chain: (standard V2, neg-risk V2, Exchange V3 for position ids).
EXCHANGES: Final[dict[int, tuple[str, str, str]]] = {
    POLYGON: (
        "0xE111180000d2663C0091e4f400237545B87B996B",
        "0xe2222d279d744050d28e00520010520000310F59",
        "0xe3333700cA9d93003F00f0F71f8515005F6c00Aa",
    ),
    AMOY: (
        "0xE111180000d2663C0091e4f400237545B87B996B",
        "0xe2222d279d744050d28e00520010520000310F59",
        "0x9fE6e61422AdB6F610d8597F9684b16912D50C3D",
    ),
}

EXCHANGE_DOMAIN_NAME: Final = "Polymarket CTF Exchange"
CLOB_AUTH_DOMAIN_NAME: Final = "ClobAuthDomain"
CLOB_AUTH_MESSAGE: Final = "This message attests that I control the given wallet"
DEPOSIT_WALLET_DOMAIN_NAME: Final = "DepositWallet"
