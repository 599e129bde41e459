"""arbexec.testing.faults: each fault does what it says, to the inner transport and to the
caller, and a fault that never fires is reported."""

from __future__ import annotations

import json

import httpx
import pytest

from arbexec.testing import faults as f


def inner_and_log() -> tuple[httpx.MockTransport, list[str]]:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        return httpx.Response(200, json={"ok": True, "n": len(seen)})

    return httpx.MockTransport(handle), seen


async def call(transport: f.FaultTransport, path: str = "/x") -> httpx.Response:
    async with httpx.AsyncClient(transport=transport, base_url="http://venue.test") as client:
        return await client.post(path, content=b"{}")


@pytest.mark.parametrize(("fault", "error", "delivered"), [
    (f.refuse("POST", "/x"), httpx.ConnectError, False),
    (f.connect_timeout("POST", "/x"), httpx.ConnectTimeout, False),
    (f.read_timeout("POST", "/x"), httpx.ReadTimeout, True),
    (f.reset("POST", "/x"), httpx.ReadError, True),
])
async def test_transport_faults_raise_and_deliver_as_named(
    fault: f.Fault, error: type[Exception], delivered: bool
) -> None:
    inner, seen = inner_and_log()
    transport = f.FaultTransport(inner, fault)
    with pytest.raises(error):
        await call(transport)
    assert seen == (["POST /x"] if delivered else [])
    assert (await call(transport)).json() == {"ok": True, "n": len(seen)}  # used up: passes
    transport.assert_all_fired()
    assert transport.fired == [("POST /x", fault.name)]


async def test_respond_answers_without_delivering_and_mangle_after() -> None:
    inner, seen = inner_and_log()
    transport = f.FaultTransport(
        inner,
        f.respond("POST", "/x", 425, json={"error": "too early"}, headers={"Retry-After": "1"}),
        f.mangle("POST", "/x", transform=lambda body: body.replace(b"true", b"false")),
        f.mangle("POST", "/x", status=502, body="<html>", headers={"content-type": "text/html"}),
        f.answer("POST", "/x", lambda r: httpx.Response(400, content=r.content)),
    )
    first = await call(transport)
    assert (first.status_code, first.json(), first.headers["Retry-After"]) == (
        425, {"error": "too early"}, "1")
    assert seen == []
    assert json.loads((await call(transport)).content)["ok"] is False and seen == ["POST /x"]
    third = await call(transport)
    assert (third.status_code, third.text) == (502, "<html>") and len(seen) == 2
    assert (await call(transport)).status_code == 400 and len(seen) == 2


async def test_matching_by_path_prefix_predicate_and_count() -> None:
    inner, _seen = inner_and_log()
    transport = f.FaultTransport(
        inner, f.refuse("POST", "/data/*", when=lambda r: b"{}" in r.content, times=None))
    for _ in range(3):
        with pytest.raises(httpx.ConnectError):
            await call(transport, "/data/order/1")
    assert (await call(transport, "/other")).status_code == 200
    assert transport.calls == {"POST /data/order/1": 3, "POST /other": 1}
    transport.assert_all_fired()  # "every time" faults have no count to use up


async def test_a_fault_that_never_fired_is_reported() -> None:
    inner, _seen = inner_and_log()
    transport = f.FaultTransport(inner, f.refuse("GET", "/x"))
    await call(transport)
    with pytest.raises(AssertionError, match="never fired"):
        transport.assert_all_fired()
