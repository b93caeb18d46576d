"""The per-key rate limit of partner API keys: PARTNER_KEY_RATE_LIMIT requests per window,
counted in Redis so that every web process shares one count.

A sliding window counter: the count of the current fixed window plus the previous window's
count weighted by how much of it still overlaps the last ``window`` seconds. Unlike a fixed
window it does not let a burst straddling two windows through at twice the rate, and unlike
a log of timestamps it keeps two integers per key. One Lua script reads both windows, decides
and counts, in one round trip and atomically (no two processes both see room for the last
request). A refused request is not counted, so a client that backs off as told gets in.

Redis unreachable: the limit fails open (the request passes) with one logged warning, and
Redis is not asked again for a few seconds, so an outage costs requests nothing. Without
Redis at all (the embedded default, one process), the same counter lives in memory.
"""

import logging
import math
import threading
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from rest_framework.throttling import BaseThrottle

from accounts.models import PartnerApiKey

logger = logging.getLogger(__name__)

DURATIONS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RETRY_REDIS_AFTER_SECONDS = 5.0
REDIS_TIMEOUT_SECONDS = 0.25  # a hanging Redis must not hold requests

# KEYS: this window's counter, the previous window's. ARGV: limit, the current window's
# elapsed share (0..1) as a string, the counters' lifetime in ms. Returns {allowed, current,
# previous}.
SLIDING_WINDOW = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
local limit = tonumber(ARGV[1])
local elapsed = tonumber(ARGV[2])
if previous * (1 - elapsed) + current >= limit then
  return {0, current, previous}
end
current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return {1, current, previous}
"""


def parse_rate(rate: str) -> tuple[int, int]:
    """ "600/min" -> (600, 60): requests, window in seconds (DRF's rate syntax)."""
    count, _slash, period = rate.partition("/")
    return int(count), DURATIONS[period.strip()[0]]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    wait: float | None = None  # seconds until a request would be let through


def _wait(limit: int, window: int, elapsed: float, current: int, previous: int) -> float:
    """Seconds until previous·(1 − e) + current drops below the limit, where ``e`` is the
    share of the window elapsed (0..1)."""
    left = (1 - elapsed) * window  # of this window
    if current < limit and previous > 0:
        # Within this window: previous·(1 − e') + current < limit.
        share = 1 - (limit - current) / previous
        return max(0.0, (share - elapsed) * window)
    # Only once this window is over and its count weighs less than the limit in the next.
    return left + max(0.0, (1 - limit / max(current, 1)) * window)


class RedisWindows:
    """The sliding window counters in Redis."""

    def __init__(self, url: str):
        self.client = redis.Redis.from_url(
            url,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
        )
        self.script = self.client.register_script(SLIDING_WINDOW)
        self.down_until = 0.0

    def hit(self, key: str, limit: int, window: int) -> Decision:
        if time.monotonic() < self.down_until:
            return Decision(True)
        now = time.time()
        index, elapsed = divmod(now / window, 1)
        keys = [f"{key}:{int(index)}", f"{key}:{int(index) - 1}"]
        try:
            allowed, current, previous = self.script(
                keys=keys, args=[limit, repr(elapsed), window * 2 * 1000]
            )
        except (redis.RedisError, OSError) as exc:
            self.down_until = time.monotonic() + RETRY_REDIS_AFTER_SECONDS
            logger.warning(
                "Partner key rate limit: Redis unavailable (%s: %s); failing open for %.0f s.",
                type(exc).__name__,
                exc,
                RETRY_REDIS_AFTER_SECONDS,
            )
            return Decision(True)
        if allowed:
            return Decision(True)
        return Decision(False, _wait(limit, window, elapsed, int(current), int(previous)))


class LocalWindows:
    """The same counters in this process's memory (no Redis: the embedded default)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts: dict[tuple[str, int], int] = {}

    def hit(self, key: str, limit: int, window: int) -> Decision:
        index, elapsed = divmod(time.time() / window, 1)
        index = int(index)
        with self.lock:
            current = self.counts.get((key, index), 0)
            previous = self.counts.get((key, index - 1), 0)
            if previous * (1 - elapsed) + current >= limit:
                return Decision(False, _wait(limit, window, elapsed, current, previous))
            self.counts = {k: v for k, v in self.counts.items() if k[1] >= index - 1}
            self.counts[(key, index)] = current + 1
        return Decision(True)


_stores: dict[str, RedisWindows | LocalWindows] = {}
_stores_lock = threading.Lock()


def windows() -> RedisWindows | LocalWindows:
    """The counters for the configured Redis (one client per URL and process)."""
    url = settings.PARTNER_RATE_LIMIT_REDIS_URL
    store = _stores.get(url)
    if store is None:
        with _stores_lock:
            store = _stores.get(url)
            if store is None:
                store = _stores[url] = RedisWindows(url) if url else LocalWindows()
    return store


class PartnerKeyRateThrottle(BaseThrottle):
    """Limits each partner API key to PARTNER_KEY_RATE_LIMIT; other requests pass uncounted.
    Over the limit DRF answers 429 ``throttled`` with Retry-After."""

    def allow_request(self, request, view):
        api_key = request.auth
        if not isinstance(api_key, PartnerApiKey):
            return True
        limit, window = parse_rate(settings.PARTNER_KEY_RATE_LIMIT)
        prefix = settings.CACHES["default"].get("KEY_PREFIX", "") or "shitun"
        decision = windows().hit(f"{prefix}:partner-key-rate:{api_key.prefix}", limit, window)
        self._wait = decision.wait
        return decision.allowed

    def wait(self):
        return None if self._wait is None else max(1, math.ceil(self._wait))
