"""A loopback HTTP/1.1 server in its own process, for benchmarks that measure client CPU.

The server answers with an httpx handler (a plugin's stand-in venue, or a canned answer),
so the figures measured in the benchmark's process are the client's alone: the server's
parsing, matching and signature checks run in another process.

    with serve("arbexec_kalshi.testing:bench_handler") as port: ...
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


async def _serve_connection(handler: object, reader: asyncio.StreamReader,
                            writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            lines = head[:-4].split(b"\r\n")
            method, target, _ = lines[0].split(b" ", 2)
            headers = [tuple(x.strip() for x in line.split(b":", 1)) for line in lines[1:]]
            length = next((int(v) for k, v in headers if k.lower() == b"content-length"), 0)
            body = await reader.readexactly(length) if length else b""
            host = next((v for k, v in headers if k.lower() == b"host"), b"localhost")
            request = httpx.Request(method.decode(), (b"http://" + host + target).decode(),
                                    headers=headers, content=body)
            answer = handler(request)  # type: ignore[operator]
            if inspect.isawaitable(answer):
                answer = await answer
            content = answer.read() if not answer.is_stream_consumed else answer.content
            out = [b"HTTP/1.1 %d %s" % (answer.status_code, answer.reason_phrase.encode())]
            out += [k + b": " + v for k, v in answer.headers.raw
                    if k.lower() not in (b"content-length", b"transfer-encoding",
                                         b"content-encoding")]
            out.append(b"content-length: %d" % len(content))
            writer.write(b"\r\n".join(out) + b"\r\n\r\n" + content)
            await writer.drain()
    finally:
        writer.close()


async def _main(target: str, port_file: str) -> None:
    module, _, name = target.partition(":")
    handler = getattr(importlib.import_module(module), name)()
    server = await asyncio.start_server(
        lambda r, w: _serve_connection(handler, r, w), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    Path(port_file).write_text(str(port))
    async with server:
        await server.serve_forever()


@contextlib.contextmanager
def serve(target: str, port_file: Path) -> Iterator[int]:
    """Run ``target`` (``module:factory``, the factory returning an httpx handler) in a
    server process on a free loopback port; yields the port and stops the server."""
    port_file.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"),
                                                        os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, str(Path(__file__)), target, str(port_file)],
                               env=env)
    try:
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the loopback server {target} did not start")
            time.sleep(0.02)
        port = int(port_file.read_text())
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], sys.argv[2]))
