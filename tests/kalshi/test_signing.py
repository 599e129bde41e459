"""Every signing vector: RSA-PSS verified with the public key, Ed25519 byte-exact."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from arbexec_kalshi import signing
from arbexec_kalshi.signing import Signer
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from arbexec.errors import ConfigError


def _verify_pss(public_pem: str, signature_b64: str, message: bytes, salt: int = 32) -> None:
    key = serialization.load_pem_public_key(public_pem.encode())
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt)
    key.verify(base64.b64decode(signature_b64), message, pss, hashes.SHA256())  # type: ignore[call-arg,arg-type,union-attr]


def test_every_auth_vector_message_and_rsa_signature(
    vectors: dict[str, Any], rsa_key: dict[str, Any]
) -> None:
    signer = Signer.from_pem(rsa_key["key_id"], rsa_key["private_key_pem"])
    assert len(vectors["auth_vectors"]) == 13
    for vector in vectors["auth_vectors"]:
        msg = signing.message(vector["timestamp_ms"], vector["method"], vector["url"])
        assert msg == vector["string_to_sign"].encode(), vector["id"]
        assert signing.signed_path(vector["url"]) == vector["path_signed"]
        headers = signer.headers(vector["method"], vector["url"], vector["timestamp_ms"])
        expected = vector["headers_without_signature"]
        assert headers["KALSHI-ACCESS-KEY"] == expected["KALSHI-ACCESS-KEY"]
        assert headers["KALSHI-ACCESS-TIMESTAMP"] == expected["KALSHI-ACCESS-TIMESTAMP"]
        # PSS is randomised: verify ours, and the published sample, with the public key
        _verify_pss(rsa_key["public_key_pem"], headers["KALSHI-ACCESS-SIGNATURE"], msg)
        _verify_pss(rsa_key["public_key_pem"], vector["sample_signature_b64"], msg)


def test_rsa_signature_uses_salt_32_not_max(rsa_key: dict[str, Any]) -> None:
    signer = Signer.from_pem(rsa_key["key_id"], rsa_key["private_key_pem"])
    msg = signing.message(1, "GET", "/trade-api/v2/portfolio/balance")
    sig = signer.signature(1, "GET", "/trade-api/v2/portfolio/balance")
    from cryptography.exceptions import InvalidSignature

    with pytest.raises(InvalidSignature):
        _verify_pss(rsa_key["public_key_pem"], sig, msg, salt=222)
    _verify_pss(rsa_key["public_key_pem"], sig, msg, salt=32)


def test_pkcs1_pem_signs_the_same_key(rsa_key: dict[str, Any]) -> None:
    signer = Signer.from_pem(rsa_key["key_id"], rsa_key["private_key_pem_pkcs1"])
    msg = signing.message(5, "POST", "/trade-api/v2/portfolio/events/orders")
    _verify_pss(rsa_key["public_key_pem"], signer.signature(5, "POST", msg.decode()[5:]), msg)


def test_ed25519_vectors_are_byte_exact(ed_key: dict[str, Any]) -> None:
    signer = Signer.from_pem(ed_key["key_id"], ed_key["private_key_pem"])
    assert signer.key_type == "ed25519"
    for vector in ed_key["deterministic_vectors"]:
        headers = signer.headers(vector["method"], vector["url"], vector["timestamp_ms"])
        assert headers["KALSHI-ACCESS-SIGNATURE"] == vector["signature_b64"], vector["id"]
        assert (
            signing.message(vector["timestamp_ms"], vector["method"], vector["url"])
            == vector["string_to_sign"].encode()
        )


def test_common_mistakes_are_not_made(vectors: dict[str, Any]) -> None:
    for case in vectors["common_mistakes"]:
        correct = case["correct_string_to_sign"].encode()
        ts = int(case["correct_string_to_sign"][:13])
        rest = case["correct_string_to_sign"][13:]
        method = "".join(ch for ch in rest.split("/", 1)[0])
        path = "/" + rest.split("/", 1)[1]
        url = f"https://external-api.kalshi.com{path}?ticker=X&limit=5"
        assert signing.message(ts, method.lower(), url) == correct
        assert signing.message(ts, method, path) == correct
        assert case["wrong_string_to_sign"].encode() != correct


def test_fresh_timestamp_and_signature_every_call(ed_key: dict[str, Any]) -> None:
    ticks = iter([1_000, 2_000])
    signer = Signer.from_pem(ed_key["key_id"], ed_key["private_key_pem"], clock=lambda: next(ticks))
    first = signer.headers("GET", "/trade-api/v2/portfolio/balance")
    second = signer.headers("GET", "/trade-api/v2/portfolio/balance")
    assert first["KALSHI-ACCESS-TIMESTAMP"] == "1000"
    assert second["KALSHI-ACCESS-TIMESTAMP"] == "2000"
    assert first["KALSHI-ACCESS-SIGNATURE"] != second["KALSHI-ACCESS-SIGNATURE"]


def test_encrypted_pem_needs_its_passphrase() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"open sesame"),
    ).decode()
    with pytest.raises(ConfigError, match="KALSHI_PRIVATE_KEY_PASSPHRASE"):
        Signer.from_pem("kid", pem)
    with pytest.raises(ConfigError, match="wrong passphrase"):
        Signer.from_pem("kid", pem, "wrong")
    signer = Signer.from_pem("kid", pem, "open sesame")
    msg = signing.message(7, "GET", "/trade-api/v2/x")
    key.public_key().verify(
        base64.b64decode(signer.signature(7, "GET", "/trade-api/v2/x")),
        msg,
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
        hashes.SHA256(),
    )


def test_bad_pem_error_does_not_echo_the_key(rsa_key: dict[str, Any]) -> None:
    broken = rsa_key["private_key_pem"].replace("MII", "XXX", 1)
    with pytest.raises(ConfigError) as info:
        Signer.from_pem("kid", broken)
    assert "XXX" not in str(info.value) and "BEGIN PRIVATE KEY-----\n" not in str(info.value)


def test_pem_with_escaped_newlines_loads(ed_key: dict[str, Any]) -> None:
    one_line = ed_key["private_key_pem"].replace("\n", "\\n")
    signer = Signer.from_pem(ed_key["key_id"], one_line)
    vector = ed_key["deterministic_vectors"][0]
    assert (
        signer.signature(vector["timestamp_ms"], vector["method"], vector["url"])
        == (vector["signature_b64"])
    )


def test_repr_hides_key_id_and_key(rsa_key: dict[str, Any]) -> None:
    signer = Signer.from_pem(rsa_key["key_id"], rsa_key["private_key_pem"])
    assert rsa_key["key_id"] not in repr(signer)
    assert "PRIVATE" not in repr(signer)
