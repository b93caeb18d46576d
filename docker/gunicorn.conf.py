"""Gunicorn settings for the web service (the Dockerfile's CMD).

Sync workers: the API is short database-bound requests. Slow phone connections should be
buffered by the reverse proxy in front (it must also set X-Forwarded-Proto), so a worker is
never held by a slow client.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "sync"
# WEB_CONCURRENCY is the usual knob of platforms and of gunicorn itself; default 2 x cores + 1.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * len(os.sched_getaffinity(0)) + 1)
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
# gunicorn 25.1+ opens a control socket (for gunicornc) under $HOME, which the app user cannot
# write in the image; older versions ignore this name.
control_socket = "/tmp/gunicorn.ctl"
# Over-long URLs and headers reach Django, which refuses them with 414 / 431 in the API's
# error shape (backend.middleware.RequestLimitsMiddleware, MAX_URL_BYTES, MAX_HEADER_BYTES);
# gunicorn's own HTML refusal is left only for what no client sends by mistake: a request
# line over 1 MiB (0 = gunicorn's parser bound) or a header over 64 KiB.
limit_request_line = 0
limit_request_field_size = 65536
