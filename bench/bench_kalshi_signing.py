"""Kalshi request-signing cost: the plugin's signer beside `cryptography` alone.

Run: python bench/bench_kalshi_signing.py [--rounds N] [--update-docs]

Reports through bench/report.py; the run fails if a signature the signer made does not
verify with the key's public half.

For each key type it times (a) ``Signer.headers`` - what every private request pays: a
fresh timestamp, the message, the signature and base64 - and (b) the bare
``private_key.sign`` call on the same message, the floor. ``--update-docs`` writes the
table into the "Benchmark" section of docs/venues/kalshi.md. Throwaway keys are generated
on the spot.
"""

from __future__ import annotations

import argparse
import base64
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import cryptography
from arbexec_kalshi.signing import Signer
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from report import Report, sized

DOCS = Path(__file__).resolve().parents[1] / "docs" / "venues" / "kalshi.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
PATH = "/trade-api/v2/portfolio/events/orders"


def _pem(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def per_call_us(func: Callable[[], object], rounds: int, repeats: int = 5) -> list[float]:
    """The mean cost of one call in each of ``repeats`` runs, in microseconds."""
    func()  # warm up
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(rounds):
            func()
        samples.append((time.perf_counter() - start) / rounds * 1e6)
    return samples


def verified(signer: Signer, key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> None:
    """The signer's headers carry a signature the public key accepts, else the run fails."""
    headers = signer.headers("POST", PATH)
    message = f"{headers['KALSHI-ACCESS-TIMESTAMP']}POST{PATH}".encode()
    signature = base64.b64decode(headers["KALSHI-ACCESS-SIGNATURE"])
    if isinstance(key, rsa.RSAPrivateKey):
        key.public_key().verify(signature, message, padding.PSS(
            mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH),
            hashes.SHA256())
    else:
        key.public_key().verify(signature, message)


def measure(rounds: int) -> list[tuple[str, list[float], list[float]]]:
    rows = []
    message = f"1795348803333POST{PATH}".encode()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
    rsa_signer = Signer.from_pem("bench-key", _pem(rsa_key))
    verified(rsa_signer, rsa_key)
    rows.append(
        (
            "RSA-2048 (PSS, SHA-256, salt 32)",
            per_call_us(lambda: rsa_signer.headers("POST", PATH), max(rounds // 20, 50)),
            per_call_us(lambda: rsa_key.sign(message, pss, hashes.SHA256()), max(rounds // 20, 50)),
        )
    )
    ed_key = ed25519.Ed25519PrivateKey.generate()
    ed_signer = Signer.from_pem("bench-key", _pem(ed_key))
    verified(ed_signer, ed_key)
    rows.append(
        (
            "Ed25519",
            per_call_us(lambda: ed_signer.headers("POST", PATH), rounds),
            per_call_us(lambda: ed_key.sign(message), rounds),
        )
    )
    return rows


def table(rows: list[tuple[str, list[float], list[float]]]) -> str:
    lines = [
        "| key | arbexec signer, per request | `cryptography` sign alone (floor) | overhead |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, ours_samples, floor_samples in rows:
        ours, floor = statistics.median(ours_samples), statistics.median(floor_samples)
        lines.append(f"| {name} | {ours:,.1f} µs | {floor:,.1f} µs | {ours - floor:+,.1f} µs |")
    lines.append("")
    lines.append(
        f"Measured with `python bench/bench_kalshi_signing.py` on {platform.machine()}, "
        f"Python {platform.python_version()}, cryptography {cryptography.__version__} "
        "(median of 5 runs)."
    )
    return "\n".join(lines)


def update_docs(text: str) -> None:
    doc = DOCS.read_text(encoding="utf-8")
    if BEGIN not in doc or END not in doc:
        raise SystemExit(f"{DOCS} has no {BEGIN} ... {END} markers")
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOCS.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=sized(5000, 500))
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args()
    rows = measure(args.rounds)
    report = Report("kalshi_signing")
    for name, ours, floor in rows:
        report.add(f"{name}, cryptography sign alone (floor)", "us", floor)
        report.add(f"{name}, arbexec signer", "us", ours,
                   against=f"{name}, cryptography sign alone (floor)")
    report.fact("signatures verified with the public keys", True)
    report.finish()
    text = table(rows)
    if args.update_docs:
        update_docs(text)
        print(f"\nwritten to {DOCS}")


if __name__ == "__main__":
    main()
