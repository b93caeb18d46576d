"""GET /healthz: is this process able to serve? Reports the database, Redis and whether the
scheduled jobs are running (the beat heartbeat).

"ok" (200); "degraded" (200) when Redis is down: logins, orders and lists still work, only
throttling, the cache and queued jobs wait for it, so restarting this process would not help;
"error" (503) when the database is down."""

import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

HEARTBEAT_KEY = "jobs:heartbeat"
HEALTH_PROBE_KEY = "healthz:probe"
HEARTBEAT_STALE_AFTER = 120  # seconds: beat runs the heartbeat every 30


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"


def _redis() -> str:
    if not settings.REDIS_URL:
        return "not configured"
    try:
        import redis

        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
        )
        # A write, not a ping: Redis out of memory, unable to persist (MISCONF) or a read-only
        # replica still answers PING but refuses every counter the throttles need.
        client.set(HEALTH_PROBE_KEY, 1, ex=60)
        return "ok"
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"


def _jobs() -> dict:
    try:
        last = cache.get(HEARTBEAT_KEY)
    except Exception:
        last = None
    if last is None:
        return {"status": "no heartbeat yet", "last_heartbeat_age_s": None}
    age = round(time.time() - last, 1)
    return {"status": "ok" if age < HEARTBEAT_STALE_AFTER else "stale", "last_heartbeat_age_s": age}


@require_GET
def healthz(request):
    checks = {"database": _database(), "redis": _redis()}
    if checks["database"] != "ok":
        status = "error"
    elif checks["redis"] not in ("ok", "not configured"):
        status = "degraded"
    else:
        status = "ok"
    body = {"status": status, **checks, "jobs": _jobs()}
    return JsonResponse(body, status=503 if status == "error" else 200)
