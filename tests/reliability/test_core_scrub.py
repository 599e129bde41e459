"""The engine's own scrubbing: a venue's known secrets never reach the journal or a sink,
whatever text its plugin lets through (an unscrubbed refusal, an unexpected exception)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from attrs import define

from arbexec.engine import Engine, EngineSettings
from arbexec.errors import InvalidOrder
from arbexec.exchange import PreparedOrder
from arbexec.halt import JournalHaltFlag
from arbexec.journal import Journal
from arbexec.model import OrderRequest, OrderState
from arbexec.secrets import REDACTED, SecretScrubber, venue_secrets
from arbexec.sinks.builtin import JsonlSink
from arbexec.sinks.hub import SinkHub
from arbexec.testing.scripted_venue import ScriptedVenue

SECRET = "pass-phrase-7f3a91c2d4e5b6a8"
FORMS = (SECRET, SECRET.encode().hex(), base64.b64encode(SECRET.encode()).decode(),
         base64.urlsafe_b64encode(SECRET.encode()).decode().rstrip("="), SECRET.upper())


@define
class EchoingVenue(ScriptedVenue):
    """A plugin that forgot to scrub: its errors quote the secret in every encoding."""

    crash: bool = False

    def known_secrets(self) -> list[str]:
        return [SECRET]

    async def create_order(self, order: PreparedOrder) -> OrderState:
        text = "proxy said: " + " / ".join(FORMS)
        if self.crash:
            raise RuntimeError(text)
        raise InvalidOrder(text, venue=self.name, venue_message=text)


def request(key: str) -> OrderRequest:
    return OrderRequest(request_id=f"req-{key}", idempotency_key=key, venue="scripted",
                        market="M", outcome="YES", side="BUY", quantity=1, limit_price="0.5")


@pytest.mark.parametrize("crash", [False, True], ids=["refusal", "plugin-exception"])
async def test_known_secrets_never_reach_journal_or_sink(tmp_path: Path, crash: bool) -> None:
    journal = Journal.open(tmp_path / "journal.sqlite")
    sink = tmp_path / "events.jsonl"
    engine = Engine(journal=journal, venues={"scripted": EchoingVenue(crash=crash)},
                    halt=JournalHaltFlag(journal), hub=SinkHub([JsonlSink("s", sink)]),
                    settings=EngineSettings(wait_budget=0.05, unknown_grace=0.0,
                                            background_tracking=False))
    await engine.start()
    result = await engine.submit(request("k1"))
    await engine.aclose()
    journal.close()
    assert REDACTED in (result.reason or "")
    for path in (tmp_path / "journal.sqlite", sink):
        text = path.read_bytes().decode("utf-8", "replace").lower()
        assert not [form for form in FORMS if form.lower() in text], path.name
    assert str(result).lower().count(SECRET.lower()) == 0


def test_scrubber_forms_and_short_values() -> None:
    scrub = SecretScrubber([SECRET, "short", None])
    assert scrub.text(" ".join(FORMS)) == " ".join([REDACTED] * len(FORMS))
    assert scrub.text("a short word") == "a short word"  # below the minimum length
    assert scrub.value({"a": [SECRET, 1], "b": (SECRET,)}) == {"a": [REDACTED, 1],
                                                                 "b": (REDACTED,)}
    assert not SecretScrubber([])


def test_a_failing_known_secrets_adds_nothing() -> None:
    class Broken:
        def known_secrets(self) -> Any:
            raise RuntimeError("plugin bug")

    assert not venue_secrets([Broken(), object()])
