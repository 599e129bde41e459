"""The stream source and the results sink on a real redis-server, in one process."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import engines as E
import pytest
import redis as sync_redis
from arbexec_redis.settings import Connection
from arbexec_redis.shared import RedisHaltFlag
from arbexec_redis.sink import StreamSink
from arbexec_redis.source import StreamSource

from arbexec.events import Event
from arbexec.model import ExecutionResult, OrderStatus
from arbexec.sinks.base import SinkSettings
from arbexec.sources.base import SourceSettings


def source(url: str, **options: Any) -> StreamSource:
    return StreamSource.from_settings(SourceSettings(
        name="redis", options={"url": url, "consumer": "c1", "block": 0.05, **options}))


def result_event(request_id: str) -> Event:
    result = ExecutionResult(request_id=request_id, idempotency_key=request_id,
                             status=OrderStatus.FILLED, venue="paper", market="M",
                             tags={"strategy": "alpha"})
    return Event(kind="result", request_id=request_id,
                 data={"result": {"request_id": request_id, "status": "FILLED",
                                  "tags": {"strategy": "alpha"}}, "result_obj": result})


async def test_reads_no_more_than_it_may_hold(redis_server: Any) -> None:
    """Back-pressure: with room for 5, the sixth message is not even read from Redis
    until one of the five is acknowledged."""
    E.publish(redis_server.url, [E.request_line(n) for n in range(50)])
    stream = source(redis_server.url, max_in_flight=5, batch=50)
    items = stream.items()
    taken = [await items.__anext__() for _ in range(5)]
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(asyncio.shield(nxt := asyncio.ensure_future(
            items.__anext__())), 0.5)
    assert E.pending(redis_server.url) == 5
    await stream.ack(taken[0])
    sixth = await asyncio.wait_for(nxt, 5)
    assert sixth.request is not None and sixth.request.request_id == "r00005"
    await stream.flush_acks()
    assert E.pending(redis_server.url) == 5
    await items.aclose()
    await stream.aclose()


POISON = {
    "bad JSON": {"request": "{not json"},
    "invalid field": {"request": E.request_line(1, price="1.5")},
    "no request field": {"order": E.request_line(2)},
}


async def test_a_poisoned_message_is_dead_lettered_once(redis_server: Any) -> None:
    client = sync_redis.Redis.from_url(redis_server.url, decode_responses=True)
    ids = {kind: client.xadd(E.STREAM, fields) for kind, fields in POISON.items()}
    stream = source(redis_server.url)
    items = stream.items()
    got = [await items.__anext__() for _ in POISON]
    assert all(item.request is None and item.error for item in got)
    for item in got:
        denied = ExecutionResult(request_id=item.position, idempotency_key="",
                                 status=OrderStatus.DENIED, venue="", market="",
                                 reason_code="invalid_request", reason=item.error)
        await stream.ack_result(item, denied)
        await stream.ack_result(item, denied)  # a repeated acknowledgement changes nothing
    dead = client.xrange(f"{E.STREAM}:dead")
    assert sorted(d["id"] for _, d in dead) == sorted(ids.values())
    assert client.xpending(E.STREAM, "arbexec")["pending"] == 0
    by_id = {d["id"]: d for _, d in dead}
    assert "price" in by_id[ids["invalid field"]]["reason"]
    assert by_id[ids["invalid field"]]["request_id"] == "r00001"
    assert "no 'request' field" in by_id[ids["no request field"]]["reason"]
    await items.aclose()
    await stream.aclose()
    client.close()


def test_poisoned_messages_of_each_kind_become_denied_results(redis_server: Any,
                                                             tmp_path: Path) -> None:
    """Through a real engine: bad JSON, an invalid field, a missing field and an unknown
    venue each become one DENIED result with the reason, are acknowledged and land in the
    dead-letter stream once; the good request beside them is executed."""
    client = sync_redis.Redis.from_url(redis_server.url, decode_responses=True)
    ids = {kind: client.xadd(E.STREAM, fields) for kind, fields in POISON.items()}
    ids["unknown venue"] = client.xadd(E.STREAM, {"request": E.request_line(3,
                                                                            venue="nowhere")})
    client.xadd(E.STREAM, {"request": E.request_line(4)})
    config = E.deployment(tmp_path, "e0", redis_server.url)
    process = E.start_engine(config)
    process.wait(timeout=120)
    assert process.returncode == 0, (config.parent / "engine.log").read_text()[-2000:]
    dead = {d["id"]: d for _, d in client.xrange(f"{E.STREAM}:dead")}
    assert set(dead) == set(ids.values())
    assert dead[ids["unknown venue"]]["code"] == "unknown_venue"
    results = {r["request_id"]: r for r in E.results(redis_server.url)}
    for kind, message_id in ids.items():
        key = "r00003" if kind == "unknown venue" else f"{E.STREAM}:{message_id}"
        assert results[key]["status"] == "DENIED", kind
        assert results[key]["reason"], kind
    assert results["r00004"]["status"] == "FILLED"
    assert E.pending(redis_server.url) == 0
    client.close()


async def test_results_are_keyed_once_and_routed_by_tag(redis_server: Any,
                                                       tmp_path: Path) -> None:
    sink = StreamSink.from_settings(SinkSettings(name="redis", options={
        "url": redis_server.url, "per_tag": "strategy", "maxlen": 1000,
        "outbox": str(tmp_path / "outbox.jsonl")}))
    for _ in range(2):  # a repeated result (a redelivery) is appended once
        await sink.emit(result_event("r1"))
    await sink.emit(Event(kind="order.sent", request_id="r1", data={"venue": "paper"}))
    await sink.aclose()
    client = sync_redis.Redis.from_url(redis_server.url, decode_responses=True)
    kinds = [f["kind"] for _, f in client.xrange(E.RESULTS)]
    assert kinds == ["result", "order.sent"]
    assert [f["kind"] for _, f in client.xrange(f"{E.RESULTS}:alpha")] == ["result"]
    assert json.loads(client.get(f"{E.RESULTS}:result:r1"))["status"] == "FILLED"
    client.close()


async def test_money_path_events_wait_in_the_outbox_while_redis_is_away(
        redis_server: Any, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.jsonl"
    sink = StreamSink.from_settings(SinkSettings(name="redis", options={
        "url": redis_server.url, "outbox": str(outbox), "backoff_max": 0.1}))
    await sink.emit(result_event("before"))
    await sink.flush()
    redis_server.stop()
    await sink.emit(result_event("during"))
    await sink.emit(Event(kind="order.fill", request_id="during", data={"qty": "1"}))
    await sink.emit(Event(kind="engine.note", data={}))  # not on the money path: dropped
    await sink.flush()
    assert outbox.exists() and len(outbox.read_text().splitlines()) == 2
    redis_server.start()
    for _ in range(100):
        if not outbox.exists():
            break
        await asyncio.sleep(0.05)
    await sink.aclose()
    client = sync_redis.Redis.from_url(redis_server.url, decode_responses=True)
    kinds = [(f["kind"], f["request_id"]) for _, f in client.xrange(E.RESULTS)]
    client.close()
    assert kinds == [("result", "during"), ("order.fill", "during")]  # after the restart
    assert not outbox.exists()


def test_the_shared_halt_flag_stops_every_engine_and_says_why(redis_server: Any) -> None:
    connection = Connection(url=redis_server.url)
    one = RedisHaltFlag(connection=connection, key="{t}:halt", stale=0.5)
    other = RedisHaltFlag(connection=connection, key="{t}:halt", stale=0.5)
    assert not other.current().halted
    one.halt("desk stop", "ops")
    other._state = None  # as a fresh engine would read it
    assert other.current().halted and other.current().reason == "desk stop"
    one.resume("ops")
    other._state = None
    assert not other.current().halted
    redis_server.stop()
    import time

    time.sleep(0.6)
    state = other.current()
    assert state.halted and "could not be read" in (state.reason or "")


async def test_messages_a_lost_read_answer_gave_this_consumer_are_taken_back(
        redis_server: Any) -> None:
    """An outage can lose the answer to a read Redis carried out: the messages are then in
    this consumer's pending list, where no other engine claims them while it is alive. The
    source takes them back once it is idle with messages pending that it does not hold."""
    E.publish(redis_server.url, [E.request_line(n) for n in range(3)])
    stream = source(redis_server.url, exit_when_idle=0.3)
    items = stream.items()
    first = [await asyncio.wait_for(items.__anext__(), 5) for _ in range(3)]
    for item in first:
        await stream.ack(item)
    await stream.flush_acks()
    E.publish(redis_server.url, [E.request_line(n) for n in range(3, 6)])
    client = sync_redis.Redis.from_url(redis_server.url, decode_responses=True)
    # the read whose answer never arrived: delivered to c1 on the server, unseen by it
    lost = client.xreadgroup("arbexec", "c1", {E.STREAM: ">"}, count=3)
    assert len(lost[0][1]) == 3
    again = [await asyncio.wait_for(items.__anext__(), 10) for _ in range(3)]
    assert sorted(i.request.request_id for i in again if i.request) == [
        "r00003", "r00004", "r00005"]
    for item in again:
        await stream.ack(item)
    await stream.flush_acks()
    assert client.xpending(E.STREAM, "arbexec")["pending"] == 0
    with pytest.raises(StopAsyncIteration):  # nothing left: idle, and it stops
        await asyncio.wait_for(items.__anext__(), 10)
    await stream.aclose()
