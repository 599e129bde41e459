"""Fixtures for the Redis plugin tests: a real redis-server per test (see redis_server)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # redis_server

import engines
from redis_server import RedisServer


@pytest.fixture(autouse=True)
def _no_engine_left() -> Iterator[None]:
    yield
    engines.stop_leftovers()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def durable_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A server with an append-only file (fsync always), for the restart tests."""
    server = RedisServer(tmp_path / "redis-aof", appendonly=True).start()
    try:
        yield server
    finally:
        server.stop()
