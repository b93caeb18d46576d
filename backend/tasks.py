import time

from celery import shared_task
from django.core.cache import cache

from .health import HEARTBEAT_KEY


@shared_task
def jobs_heartbeat() -> float:
    """Beat runs this every 30 s; /healthz reports how long ago it last ran, so a stopped
    worker or beat shows up."""
    now = time.time()
    cache.set(HEARTBEAT_KEY, now, timeout=None)
    return now


@shared_task
def purge_idempotency_keys() -> int:
    """Forget Idempotency-Key answers older than IDEMPOTENCY_KEY_TTL."""
    from .idempotency import purge_expired_keys

    return purge_expired_keys()
