"""Connection settings shared by the source, the sink and the ledger.

Every key is documented in docs/redis.md. The password never sits in the deployment file:
``password_env`` names the environment variable that holds it (default
``ARBEXEC_REDIS_PASSWORD``), and it is kept out of every repr and message.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from attrs import field, frozen

from arbexec.api import ConfigError

DEFAULT_URL = "redis://127.0.0.1:6379/0"
DEFAULT_PASSWORD_ENV = "ARBEXEC_REDIS_PASSWORD"
CONNECTION_KEYS = frozenset({"url", "password_env", "db", "connect_timeout", "timeout",
                             "backoff_max", "prefix"})


@frozen(kw_only=True)
class Connection:
    url: str = DEFAULT_URL
    password: str | None = field(default=None, repr=False)
    db: int | None = None
    connect_timeout: float = 2.0
    timeout: float = 5.0
    backoff_max: float = 5.0  # the longest wait between reconnect attempts
    prefix: str = "arbexec"

    @property
    def tls(self) -> bool:
        return self.url.startswith("rediss://")

    @property
    def shown(self) -> str:
        """The URL without any credentials in it, for messages."""
        parts = urlsplit(self.url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
        db = f" db {self.db}" if self.db is not None else (parts.path or "")
        return f"{parts.scheme}://{host}{port}{db}"

    def client(self) -> Any:
        """A ``redis.asyncio.Redis`` that retries a lost connection with capped backoff."""
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeout

        extra: dict[str, Any] = {}
        if self.password is not None:
            extra["password"] = self.password
        if self.db is not None:
            extra["db"] = self.db
        return aioredis.Redis.from_url(
            self.url, decode_responses=True, socket_connect_timeout=self.connect_timeout,
            socket_timeout=self.timeout, health_check_interval=10,
            retry=Retry(ExponentialBackoff(cap=self.backoff_max, base=0.05), 3),
            retry_on_error=[RedisConnectionError, RedisTimeout], **extra)


def _number(options: Mapping[str, Any], key: str, default: float, low: float, high: float,
            where: str) -> float:
    value = options.get(key, default)
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not math.isfinite(value) or not low <= value <= high):
        raise ConfigError(f"must be a number of seconds from {low:g} to {high:g}",
                          source=where, key=key)
    return float(value)


def parse_connection(options: Mapping[str, Any], *, where: str | None,
                     environ: Mapping[str, str] | None = None) -> Connection:
    """The connection keys of a table; a wrong one is a ``ConfigError`` naming it."""
    env = os.environ if environ is None else environ
    source = where or "redis"
    url = options.get("url", DEFAULT_URL)
    if not isinstance(url, str) or not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("must be a redis://, rediss:// (TLS) or unix:// URL", source=source,
                          key="url")
    if urlsplit(url).password:
        raise ConfigError("holds a password; put it in the environment variable named by "
                          f"password_env (default {DEFAULT_PASSWORD_ENV}) instead",
                          source=source, key="url")
    password_env = options.get("password_env", DEFAULT_PASSWORD_ENV)
    if not isinstance(password_env, str) or not password_env:
        raise ConfigError("must name an environment variable", source=source,
                          key="password_env")
    if "password_env" in options and password_env not in env:
        raise ConfigError(f"environment variable {password_env} is not set (set it, or put it "
                          "in a .env file beside the deployment file)", source=source,
                          key="password_env")
    db = options.get("db")
    if db is not None and (isinstance(db, bool) or not isinstance(db, int) or not 0 <= db <= 15):
        raise ConfigError("must be a database number from 0 to 15", source=source, key="db")
    prefix = options.get("prefix", "arbexec")
    if not isinstance(prefix, str) or not prefix or not prefix.isprintable() or " " in prefix:
        raise ConfigError("must be a key prefix without spaces", source=source, key="prefix")
    return Connection(
        url=url, password=env.get(password_env) or None, db=db, prefix=prefix,
        connect_timeout=_number(options, "connect_timeout", 2.0, 0.01, 60, source),
        timeout=_number(options, "timeout", 5.0, 0.01, 300, source),
        backoff_max=_number(options, "backoff_max", 5.0, 0.01, 300, source))


def check_keys(options: Mapping[str, Any], own: set[str], *, where: str | None,
               table: str) -> None:
    """Unknown keys are errors: a misspelled ``maxlen`` must not become the default."""
    valid = CONNECTION_KEYS | own
    for key in options:
        if key not in valid:
            raise ConfigError(f"unknown key; valid keys: {', '.join(sorted(valid))}",
                              source=where or "redis", key=f"{table}.{key}")


def text_option(options: Mapping[str, Any], key: str, default: str, *, where: str | None
                ) -> str:
    value = options.get(key, default)
    if not isinstance(value, str) or not value or not value.isprintable():
        raise ConfigError("must be a non-empty name", source=where or "redis", key=key)
    return value


def count_option(options: Mapping[str, Any], key: str, default: int, low: int, high: int, *,
                 where: str | None) -> int:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"must be a whole number from {low} to {high}",
                          source=where or "redis", key=key)
    return value


def seconds_option(options: Mapping[str, Any], key: str, default: float, low: float,
                   high: float, *, where: str | None) -> float:
    return _number(options, key, default, low, high, where or "redis")


def engine_name(options: Mapping[str, Any], key: str, *, where: str | None) -> str:
    """This engine's name in Redis (consumer, lease holder): the option, else
    ``ARBEXEC_ENGINE``, else host and process id (unique, but not stable over restarts)."""
    import socket

    fallback = os.environ.get("ARBEXEC_ENGINE") or f"{socket.gethostname()}-{os.getpid()}"
    name = text_option(options, key, fallback, where=where)
    if any(c in name for c in " {}"):
        raise ConfigError("must not hold spaces or braces", source=where or "redis", key=key)
    return name
