"""Django's Redis cache, made to degrade instead of fail while Redis is unreachable.

Everything the site keeps in its cache can be rebuilt or read elsewhere: sessions are
written through to the database (cached_db), pages and navigation are rebuilt, lockouts
live in the database. So when Redis is down for a while (a restart, a full disk) a read
is a miss and a write is dropped, and pages keep working, slower; nobody gets an error
page because a cache is away. Each failure is logged by class name only: a Redis error
can carry its URL and password.

Sessions deleted while Redis was away (a logout) could come back from a Redis that kept
its data on disk: run the cache's Redis without persistence (see docs/deploy.md).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
# Seconds. A cache that answers slower than the database is worse than none.
SOCKET_TIMEOUT = 0.5


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = params.setdefault("OPTIONS", {})
        options.setdefault("socket_connect_timeout", SOCKET_TIMEOUT)
        options.setdefault("socket_timeout", SOCKET_TIMEOUT)
        options.setdefault("retry_on_timeout", False)
        super().__init__(server, params)

    def _away(self, operation: str, exc: Exception) -> None:
        log.warning("cache: %s skipped, Redis unreachable (%s)", operation, type(exc).__name__)

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except UNREACHABLE as exc:
            self._away("add", exc)
            return False

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        try:
            return super().get(key, default, version)
        except UNREACHABLE as exc:
            self._away("get", exc)
            return default

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        try:
            super().set(key, value, timeout, version)
        except UNREACHABLE as exc:
            self._away("set", exc)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        try:
            return super().touch(key, timeout, version)
        except UNREACHABLE as exc:
            self._away("touch", exc)
            return False

    def delete(self, key: Any, version: Any = None) -> bool:
        try:
            return super().delete(key, version)
        except UNREACHABLE as exc:
            self._away("delete", exc)
            return False

    def get_many(self, keys: Any, version: Any = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except UNREACHABLE as exc:
            self._away("get_many", exc)
            return {}

    def has_key(self, key: Any, version: Any = None) -> bool:
        try:
            return super().has_key(key, version)
        except UNREACHABLE as exc:
            self._away("has_key", exc)
            return False

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> int:
        try:
            return super().incr(key, delta, version)
        except UNREACHABLE as exc:
            # As for a missing key: callers (cms.cache.purge) then set a value of their own.
            self._away("incr", exc)
            raise ValueError("cache unreachable") from exc

    def set_many(
        self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> list[Any]:
        try:
            return super().set_many(data, timeout, version)
        except UNREACHABLE as exc:
            self._away("set_many", exc)
            return list(data)

    def delete_many(self, keys: Any, version: Any = None) -> None:
        try:
            super().delete_many(keys, version)
        except UNREACHABLE as exc:
            self._away("delete_many", exc)
