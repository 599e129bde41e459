"""No credential, signature or API-key value may appear in a recorded cassette."""

from __future__ import annotations

import json
import re
from pathlib import Path

from arbexec.testing import recording

ROOT = Path(__file__).resolve().parents[2]
CASSETTES = ROOT / "cassettes" / "polymarket"
VECTORS = json.loads((Path(__file__).parent / "data" / "vectors.json").read_text())

_ECDSA_HEX = re.compile(r"0x[0-9a-fA-F]{130}(?![0-9a-fA-F])")
_HMAC_B64 = re.compile(r"^[A-Za-z0-9_-]{43}=$")
_SECRET_HEADER_VALUE = re.compile(
    r"^\s*(POLY_[A-Z_]+|authorization|cookie):\s*\n\s*-\s*(.+)$", re.MULTILINE | re.IGNORECASE
)


def _known_secrets() -> list[str]:
    inputs = VECTORS["vectors"][0]["inputs"]
    key = VECTORS["test_key"]["private_key"]
    return [
        key,
        key[2:],
        inputs["api_key"],
        inputs["api_secret"],
        inputs["api_passphrase"],
        *recording.secret_values(),
    ]


def _cassette_files() -> list[Path]:
    return sorted(CASSETTES.rglob("*.yaml"))


def test_cassettes_exist() -> None:
    assert len(_cassette_files()) >= 20


def test_no_credential_value_in_any_cassette() -> None:
    secrets = _known_secrets()
    for path in _cassette_files():
        text = path.read_text()
        leaked = recording.find_secrets_in_text(text, secrets)
        assert not leaked, f"{path.relative_to(ROOT)} contains a credential value"


def test_no_signature_in_any_cassette() -> None:
    for path in _cassette_files():
        text = path.read_text()
        assert not _ECDSA_HEX.search(text), f"{path.relative_to(ROOT)} holds an ECDSA signature"
        for line in text.splitlines():
            token = line.strip().strip("-' ").strip()
            assert not _HMAC_B64.match(token), f"{path.relative_to(ROOT)} holds an HMAC"


def test_auth_headers_are_redacted() -> None:
    for path in _cassette_files():
        for name, value in _SECRET_HEADER_VALUE.findall(path.read_text()):
            assert value.strip() == recording.REDACTED, f"{path.name}: {name} not redacted"


def test_every_cassette_folder_has_a_readme() -> None:
    folders = {p.parent for p in _cassette_files()}
    assert folders
    for folder in folders:
        assert (folder / "README.md").is_file(), f"{folder.relative_to(ROOT)} lacks README.md"
