"""The shared ledger against the in-memory reference, on a real redis-server.

The in-memory ledger is what one engine enforces; the shared one must answer every
sequence of operations the same way, and several engines on it must never pass a limit
together."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal
from typing import Any

import pytest
from arbexec_redis.settings import Connection
from arbexec_redis.shared import LedgerKeys, RedisLedger

from arbexec.ledger import InMemoryLedger
from arbexec.risk.base import Claim, ClaimKind

KEYS = ["total", "venue:paper", "market:paper:A", "market:paper:B", "open_orders:total",
        "rate:paper"]


def ledger(url: str, engine: str, **kw: Any) -> RedisLedger:
    return RedisLedger(connection=Connection(url=url), keys=LedgerKeys(prefix="t",
                                                                       engine=engine), **kw)


def claim(key: str, amount: str, limit: str, kind: ClaimKind = ClaimKind.EXPOSURE,
          window: float = 0.0) -> Claim:
    return Claim(key=key, amount=Decimal(amount), limit=Decimal(limit), rule="r", code="c",
                 kind=kind, window_seconds=window)


def random_claims(rng: random.Random) -> list[Claim]:
    claims = []
    for key in rng.sample(KEYS, rng.randint(1, 4)):
        kind = (ClaimKind.WINDOW if key == "rate:paper" else ClaimKind.HOLD
                if key.startswith("open_orders") else ClaimKind.EXPOSURE)
        amount = "1" if kind is not ClaimKind.EXPOSURE else f"{rng.randint(0, 4000) / 100:.2f}"
        limit = str(rng.choice([5, 60, 100, 150])) if rng.random() < 0.9 else "Infinity"
        claims.append(claim(key, amount, limit, kind, 3600.0 if kind is ClaimKind.WINDOW else 0))
    return claims


@pytest.mark.parametrize("seed", range(4))
async def test_same_answers_as_the_in_memory_ledger(redis_server: Any, seed: int) -> None:
    rng = random.Random(seed)
    reference = InMemoryLedger(clock=lambda: 0.0)
    shared = ledger(redis_server.url, "e1")
    holders = [f"h{i}" for i in range(12)]
    try:
        for step in range(300):
            op = rng.choice(["reserve", "reserve", "earmark", "release", "settle", "adjust",
                             "release_earmark", "restore"])
            holder = rng.choice(holders)
            if op == "reserve":
                claims = random_claims(rng)
                want = await reference.try_reserve(holder, claims)
                got = await shared.try_reserve(holder, claims)
            elif op == "earmark":
                other = rng.choice([h for h in holders if h != holder])
                groups = {holder: random_claims(rng), other: random_claims(rng)}
                want = await reference.try_earmark(groups)
                got = await shared.try_earmark(groups)
            elif op == "settle":
                amount = Decimal(rng.randint(0, 3000)) / 100
                keys = rng.sample(KEYS[:4], 2)
                want = await reference.settle(holder, amount, keys)
                got = await shared.settle(holder, amount, keys)
            elif op == "adjust":
                amount = Decimal(rng.randint(-2000, 2000)) / 100
                keys = rng.sample(KEYS[:4], 2)
                want = await reference.adjust(keys, amount)
                got = await shared.adjust(keys, amount)
            elif op == "restore":
                amount = Decimal(rng.randint(0, 3000)) / 100
                keys = KEYS[:3]
                want = await reference.restore(holder, keys, amount)
                got = await shared.restore(holder, keys, amount)
            else:
                want = await getattr(reference, op)(holder)
                got = await getattr(shared, op)(holder)
            assert got == want, f"step {step}: {op} {holder}"
            for key in KEYS:
                assert await shared.exposure(key) == reference.exposure_now(key), (
                    f"step {step}: {op} {holder}: {key}")
    finally:
        await shared.aclose()


async def test_engines_together_never_pass_a_limit(redis_server: Any) -> None:
    """Three engines race 300 reservations of 7 under a limit of 100: 14 are granted, and
    the total never passes the limit whatever the interleaving."""
    engines = [ledger(redis_server.url, f"e{i}") for i in range(3)]
    try:
        async def one(engine: RedisLedger, n: int) -> bool:
            breached = await engine.try_reserve(
                f"{engine.keys.engine}-{n}", [claim("total", "7", "100")])
            return breached is None

        granted = await asyncio.gather(*(one(e, n) for n in range(100) for e in engines))
        assert sum(granted) == 14
        assert await engines[0].exposure("total") == Decimal(98)
    finally:
        for engine in engines:
            await engine.aclose()


async def test_an_engine_restart_books_its_share_once(redis_server: Any) -> None:
    """Standing exposure and reservations are booked per engine: a restarted engine's
    share is taken back at start (its journal replays it), another engine's stays."""
    first = ledger(redis_server.url, "e1")
    other = ledger(redis_server.url, "e2")
    await first.adjust(["total"], Decimal(30))
    assert await first.try_reserve("o1", [claim("total", "20", "100")]) is None
    await other.adjust(["total"], Decimal(5))
    await first.aclose()
    again = ledger(redis_server.url, "e1")
    try:
        await again.ensure_started()
        assert await again.exposure("total") == Decimal(5)
        await again.adjust(["total"], Decimal(30))  # the journal's replay
        assert await again.exposure("total") == Decimal(35)
    finally:
        await again.aclose()
        await other.aclose()


async def test_a_second_process_with_the_same_engine_name_is_refused(redis_server: Any
                                                                     ) -> None:
    from arbexec.errors import UserError

    first = ledger(redis_server.url, "e1")
    await first.ensure_started()
    second = ledger(redis_server.url, "e1")
    try:
        with pytest.raises(UserError, match="already running"):
            await second.ensure_started()
    finally:
        await first.aclose()
        await second.client.aclose()


async def test_unreachable_redis_refuses_new_risk_with_the_reason(redis_server: Any) -> None:
    from arbexec.ledger import LedgerUnavailable

    shared = ledger(redis_server.url, "e1", outage_wait=0.3)
    await shared.ensure_started()
    redis_server.stop()
    try:
        with pytest.raises(LedgerUnavailable, match="unreachable"):
            await shared.try_reserve("o1", [claim("total", "1", "10")])
    finally:
        await shared.aclose()


async def test_a_change_sent_again_after_a_lost_reply_is_booked_once(redis_server: Any
                                                                    ) -> None:
    """A reply lost to a Redis restart makes the client send the same script again: a
    settle or an adjust carries an operation id and runs once (a fill is never booked
    twice); a new operation with the same figures is booked again."""
    from arbexec_redis import units

    shared = ledger(redis_server.url, "e1")
    try:
        await shared.ensure_started()
        keys = shared.keys.for_scripts()
        for _ in range(2):  # the same operation, sent twice
            await shared._scripts["SETTLE"](keys=keys, args=["op-1", "h1", units.up(
                Decimal(5)), "total"])
            await shared._scripts["ADJUST"](keys=keys, args=["op-2", units.up(Decimal(2)),
                                                              "total"])
        assert await shared.exposure("total") == Decimal(7)
        await shared.adjust(["total"], Decimal(2))  # a new operation
        assert await shared.exposure("total") == Decimal(9)
    finally:
        await shared.aclose()
