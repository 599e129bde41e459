"""A keystore named in a deployment is found relative to the deployment file, wherever the
command runs (the path-option convention: names ending in ``_path``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from arbexec_polymarket.credentials import load_signer
from eth_account import Account

from arbexec.config import load_deployment

KEY = "0x" + "33" * 32


def test_a_relative_keystore_path_is_relative_to_the_deployment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "desk"
    folder.mkdir()
    keystore = Account.encrypt(KEY, "pass", kdf="pbkdf2", iterations=2)
    (folder / "wallet.json").write_text(json.dumps(keystore))
    (folder / "deploy.toml").write_text(
        '[venues.polymarket]\nkeystore_path = "wallet.json"\nkeystore_passphrase = "pass"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    venue = next(v for v in load_deployment(folder / "deploy.toml").venues
                 if v.name == "polymarket")
    signer = load_signer(venue.options, env={})
    assert signer is not None
    assert signer.address == Account.from_key(KEY).address
