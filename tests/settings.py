"""Settings of the pytest run: the project's own, with a random SECRET_KEY unless one is given.
Tests run with DATABASE_URL set, where the settings refuse to start without a key; a test run
needs no particular key and must never fall back to a published one. Subprocesses the tests
start (Celery, gunicorn) inherit the same key through the environment."""

import os
import secrets

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

from backend.settings import *  # noqa: F403

# The tests' webhook receivers listen on 127.0.0.1 (tests/partners/receiver.py).
PARTNER_WEBHOOKS_ALLOW_LOOPBACK = True
