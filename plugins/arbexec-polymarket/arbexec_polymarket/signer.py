"""The wallet key: secp256k1 signing of 32-byte digests with coincurve.

The key never appears in a repr, a log line or an exception message.
"""

from __future__ import annotations

from coincurve import PrivateKey

from arbexec_polymarket.eip712 import keccak, to_checksum_address


class InvalidKey(ValueError):
    """The private key text is malformed (the message never contains the key)."""


class Signer:
    """An EOA private key. ``address`` is its EIP-55 address; ``sign`` gives r||s||v."""

    __slots__ = ("_key", "address")

    def __init__(self, private_key: bytes) -> None:
        if len(private_key) != 32:
            raise InvalidKey("a private key is 32 bytes (64 hex characters)")
        try:
            self._key = PrivateKey(private_key)
        except Exception:
            raise InvalidKey("the private key is not a valid secp256k1 key") from None
        public = self._key.public_key.format(compressed=False)[1:]
        self.address: str = to_checksum_address("0x" + keccak(public)[-20:].hex())

    @classmethod
    def from_hex(cls, text: str) -> Signer:
        cleaned = text.strip()
        if cleaned[:2] in ("0x", "0X"):
            cleaned = cleaned[2:]
        try:
            raw = bytes.fromhex(cleaned)
        except ValueError:
            raise InvalidKey("the private key must be 64 hex characters (0x optional)") from None
        return cls(raw)

    @classmethod
    def from_keystore(cls, path: str, passphrase: str) -> Signer:
        """Decrypt an eth-account (web3 secret storage) keystore file."""
        import json

        from eth_account import Account

        try:
            with open(path, encoding="utf-8") as handle:
                keyfile = json.load(handle)
        except OSError as exc:
            raise InvalidKey(f"cannot read keystore {path}: {exc.strerror}") from None
        except ValueError:
            raise InvalidKey(f"keystore {path} is not JSON") from None
        try:
            raw = Account.decrypt(keyfile, passphrase)
        except ValueError:
            raise InvalidKey(f"cannot decrypt keystore {path}: wrong passphrase?") from None
        return cls(bytes(raw))

    def sign(self, digest: bytes) -> bytes:
        """65-byte r||s||v (v = 27 or 28) signature of a 32-byte digest, no further hashing."""
        sig = self._key.sign_recoverable(digest, hasher=None)
        return sig[:64] + bytes((sig[64] + 27,))

    def __repr__(self) -> str:
        return f"Signer(address={self.address})"

    def __reduce__(self) -> None:  # type: ignore[override]
        raise TypeError("a Signer holds a private key and cannot be pickled")
