"""The stand-in base: routes with captured segments, later routes first, offset paging,
and the stand-in served behind the fault wrapper."""

from __future__ import annotations

import httpx
import pytest

from arbexec.testing import faults
from arbexec.testing.standin import StandInVenue, offset_page


class Tiny(StandInVenue):
    def __init__(self) -> None:
        super().__init__()
        self.items = [f"m{i}" for i in range(5)]

        @self.route("GET", "/markets/{ticker}/book")
        def book(request: httpx.Request, ticker: str) -> httpx.Response:
            return httpx.Response(200, json={"book": ticker})

        @self.route("GET", "/markets")
        def markets(request: httpx.Request) -> httpx.Response:
            offset = int(request.url.params.get("cursor", 0))
            page, following = offset_page(self.items, offset, 2)
            return httpx.Response(200, json={"markets": page, "cursor": following})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.log(request)
        return self.dispatch(request) or httpx.Response(404, json={"no": request.url.path})


async def test_routes_capture_segments_and_page_every_item() -> None:
    venue = Tiny()
    async with httpx.AsyncClient(transport=venue.transport(), base_url="http://v") as client:
        assert (await client.get("/markets/KX-1/book")).json() == {"book": "KX-1"}
        assert (await client.get("/markets/KX-1/book/x")).status_code == 404
        assert (await client.get("/markets/a/b/book")).status_code == 404  # one segment
        assert (await client.post("/markets")).status_code == 404  # method matters
        seen, cursor = [], 0
        while cursor is not None:
            answer = (await client.get("/markets", params={"cursor": cursor})).json()
            seen += answer["markets"]
            cursor = answer["cursor"]
    assert seen == venue.items
    assert len(venue.requests) == 4 + 3


async def test_a_later_route_replaces_the_venue_answer_and_faults_act_outside() -> None:
    venue = Tiny()
    venue.route("GET", "/markets/{ticker}/book")(
        lambda request, ticker: httpx.Response(200, json={"replaced": ticker}))
    transport = venue.transport(faults.respond("GET", "/markets", 503, json={"e": "busy"}))
    async with httpx.AsyncClient(transport=transport, base_url="http://v") as client:
        assert (await client.get("/markets/A/book")).json() == {"replaced": "A"}
        assert (await client.get("/markets")).status_code == 503  # never reached the venue
        assert (await client.get("/markets")).status_code == 200
    transport.assert_all_fired()
    assert [r.url.path for r in venue.requests] == ["/markets/A/book", "/markets"]


def test_offset_page_bounds() -> None:
    assert offset_page([1, 2, 3], 0, 2) == ([1, 2], 2)
    assert offset_page([1, 2, 3], 2, 2) == ([3], None)
    assert offset_page([], 0, 2) == ([], None)
    assert offset_page([1, 2], 0, 2) == ([1, 2], None)  # a full last page is the last
    with pytest.raises(ValueError):
        offset_page([1], -1, 2)
