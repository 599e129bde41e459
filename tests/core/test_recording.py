"""The recording helpers plugin authors get: placement, scrubbing, the JSON body matcher."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from arbexec.testing import recording


def test_cassettes_go_under_the_plugin_folder(tmp_path: Path) -> None:
    (tmp_path / "cassettes").mkdir()
    test = tmp_path / "tests" / "kalshi" / "test_http.py"
    assert recording.cassette_dir_for(test) == tmp_path / "cassettes" / "kalshi" / "test_http"
    core = tmp_path / "tests" / "test_engine.py"
    assert recording.cassette_dir_for(core) == tmp_path / "cassettes" / "core" / "test_engine"


def test_secret_body_values_are_redacted_at_any_depth() -> None:
    body = json.dumps({"order": {"salt": 1, "signature": "0xabc"}, "owner": "uuid-key",
                       "orderType": "GTC", "creds": [{"secret": "s", "passphrase": "p"}]})
    scrubbed = json.loads(recording.redact_json(body))
    assert scrubbed["order"]["signature"] == "REDACTED"
    assert scrubbed["owner"] == "REDACTED"
    assert scrubbed["creds"][0] == {"secret": "REDACTED", "passphrase": "REDACTED"}
    assert scrubbed["orderType"] == "GTC" and scrubbed["order"]["salt"] == 1
    assert recording.redact_json("not json") == "not json"


def test_recorded_requests_and_responses_are_scrubbed() -> None:
    config = recording.vcr_config()
    request = SimpleNamespace(body=b'{"owner": "k", "size": "5"}')
    config["before_record_request"](request)
    assert json.loads(request.body) == {"owner": "REDACTED", "size": "5"}
    response = {"headers": {"Set-Cookie": ["a=b"], "Content-Type": ["json"]},
                "body": {"string": b'{"apiKey": "x", "secret": "y", "passphrase": "z"}'}}
    config["before_record_response"](response)
    assert "Set-Cookie" not in response["headers"]
    assert json.loads(response["body"]["string"]) == {
        "apiKey": "REDACTED", "secret": "REDACTED", "passphrase": "REDACTED"}


def test_the_body_matcher_ignores_volatile_and_secret_keys() -> None:
    recorded = SimpleNamespace(body=b'{"salt": 1, "timestamp": "1", "owner": "REDACTED", "a": 1}')
    replayed = SimpleNamespace(body=b'{"salt": 2, "timestamp": "2", "owner": "dummy", "a": 1}')
    recording.stable_json_body(recorded, replayed)
    changed = SimpleNamespace(body=b'{"salt": 2, "a": 2}')
    with pytest.raises(AssertionError, match="differ"):
        recording.stable_json_body(recorded, changed)


def test_credentials_in_the_environment_are_filtered_everywhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KALSHI_API_KEY_ID", "0123456789-key-id")
    filtered = recording.vcr_config()["filter_sensitive_data"]
    assert "0123456789-key-id" in filtered.values()
