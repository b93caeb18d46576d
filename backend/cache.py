"""The cache, Redis in production, fails open.

It holds what can be lost: login-throttle counters and the jobs heartbeat. During a Redis
outage a read answers as a miss and a write is dropped, with a logged warning, so signing in
and /healthz keep working (throttling is off until Redis is back). Nothing that must hold
(stock, orders, Idempotency-Key answers) lives in the cache. After a failure the cache is not
asked again for a few seconds, so an outage costs each request nothing, not a timeout per call.
"""

import logging
import time

from django.core.cache import cache
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Not only a lost connection or a timeout: a Redis that answers but refuses writes (out of
# memory, MISCONF when it cannot persist, a read-only replica after a failover) is as unusable.
UNAVAILABLE = (RedisError, OSError)
RETRY_AFTER_SECONDS = 5.0  # after a failure, answer from nothing this long before trying again
SOCKET_TIMEOUT_SECONDS = 1.0  # a Redis that hangs must not hold a request


def redis_cache(url: str, *, key_prefix: str) -> dict:
    """The CACHES entry for a Redis server at url (settings.py and the outage test)."""
    return {
        "BACKEND": "backend.cache.FailOpenRedisCache",
        "LOCATION": url,
        "KEY_PREFIX": key_prefix,
        "OPTIONS": {
            "socket_connect_timeout": SOCKET_TIMEOUT_SECONDS,
            "socket_timeout": SOCKET_TIMEOUT_SECONDS,
        },
    }


class CacheUnavailable(ConnectionError):
    """A write that must reach the cache could not (delete_many_strict)."""


class KeptClientRedisCacheClient(RedisCacheClient):
    """Django's client builds a new redis.Redis for every cache call, and each one builds
    its table of response callbacks (about 0.2 ms): the listing list's cache hit makes
    that a real share of the request. One redis.Redis per connection pool is enough (it is
    thread-safe; the pool is what holds connections)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write=index == 0)
            client = self._clients[index] = self._client(connection_pool=pool)
        return client


class FailOpenRedisCache(RedisCache):
    """Django's Redis cache, answering as if empty while Redis cannot be reached."""

    _down_until = 0.0

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = KeptClientRedisCacheClient

    def _call(self, operation: str, default, *args, **kwargs):
        if time.monotonic() < self._down_until:
            return default
        try:
            return getattr(super(), operation)(*args, **kwargs)
        except UNAVAILABLE as exc:
            # One warning per failure, then quiet for RETRY_AFTER_SECONDS (no flood of logs).
            self._down_until = time.monotonic() + RETRY_AFTER_SECONDS
            logger.warning(
                "Cache unavailable (%s: %s); failing open for %.0f s: reads miss, writes are "
                "dropped, login throttling is off.",
                exc.__class__.__name__,
                exc,
                RETRY_AFTER_SECONDS,
            )
            return default

    def get(self, key, default=None, version=None):
        return self._call("get", default, key, default, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", {}, keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", False, key, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", False, key, value, timeout, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", None, key, value, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", list(data), data, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", False, key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", False, key, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", None, keys, version)

    def incr(self, key, delta=1, version=None):
        result = self._call("incr", None, key, delta, version)
        if result is None:  # unreachable: the same answer as for a missing key
            raise ValueError(f"Key '{key}' not found (cache unavailable).")
        return result

    def clear(self):
        return self._call("clear", None)

    def delete_many_strict(self, keys, version=None) -> None:
        """delete_many that raises CacheUnavailable instead of failing open: for forgetting
        what must not be answered again (a revoked token)."""
        if time.monotonic() < self._down_until:
            raise CacheUnavailable("the cache is failing open")
        try:
            super().delete_many(keys, version)
        except UNAVAILABLE as exc:
            self._down_until = time.monotonic() + RETRY_AFTER_SECONDS
            raise CacheUnavailable(str(exc)) from exc


# --- reads of one request in one round trip ------------------------------------------------


def prefetch(request, keys) -> None:
    """Read these keys together, now (one round trip instead of one per key); later reads of
    them in the same request (``prefetched_get``) take them from here. A key not found is
    remembered as missing."""
    keys = [key for key in keys if key]
    found = cache.get_many(keys) if keys else {}
    request._cache_prefetched = {key: found.get(key) for key in keys}


def prefetched_get(request, key: str):
    """The cache's value for key, from this request's prefetch when it read it."""
    store = getattr(request, "_cache_prefetched", None) if request is not None else None
    if store is not None and key in store:
        return store[key]
    return cache.get(key)
