"""The producer helper behind ``arbexec redis publish``: check, publish, optionally wait."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from arbexec.api import UserError, parse_line
from arbexec_redis.errors import describe, unreachable_errors
from arbexec_redis.settings import parse_connection


def check_lines(lines: Sequence[str], name: str) -> list[tuple[str, str]]:
    """(request id, line) per request line; any bad line is a ``UserError`` naming it."""
    checked = []
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        item = parse_line(line, f"{name}:{number}")
        if item.request is None:
            where = f"{item.error_field}: " if item.error_field else ""
            raise UserError(f"{name}:{number}: {where}{item.error}; nothing was published")
        request = item.request
        checked.append((str(getattr(request, "request_id", None)
                            or getattr(request, "pair_id", "")), line))
    if not checked:
        raise UserError(f"{name}: no requests in it; nothing was published")
    return checked


async def publish_lines(options: Mapping[str, Any], lines: Sequence[tuple[str, str]], *,
                        stream: str, results: str, wait: float) -> list[str]:
    connection = parse_connection(options, where=None)
    client = connection.client()
    out: list[str] = []
    try:
        try:
            pipe = client.pipeline(transaction=False)
            for _, line in lines:
                pipe.xadd(stream, {"request": line})
            ids = await pipe.execute()
        except unreachable_errors() as exc:
            raise UserError(f"Redis at {connection.shown} is unreachable ({describe(exc)}); "
                            "nothing was published") from None
        for (request_id, _), message_id in zip(lines, ids, strict=True):
            out.append(f"published {request_id} as {stream}:{message_id}")
        if wait:
            out += await wait_for_results(client, results, [r for r, _ in lines], wait)
    finally:
        await client.aclose()
    return out


async def wait_for_results(client: Any, results: str, request_ids: Sequence[str],
                           seconds: float) -> list[str]:
    """Each request's result (kept under ``<results>:result:<request id>``), or a line
    saying it has not come within ``seconds``."""
    deadline = time.monotonic() + seconds
    waiting = list(dict.fromkeys(request_ids))
    lines = []
    while waiting and time.monotonic() < deadline:
        found = await client.mget([f"{results}:result:{r}" for r in waiting])
        for request_id, text in zip(list(waiting), found, strict=True):
            if text is not None:
                result = json.loads(text)
                lines.append(f"{request_id}: {result.get('status')}"
                             + (f" ({result['reason']})" if result.get("reason") else ""))
                waiting.remove(request_id)
        if waiting:
            await asyncio.sleep(0.05)
    lines += [f"{r}: no result within {seconds:g}s" for r in waiting]
    return lines
