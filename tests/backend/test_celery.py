"""Background jobs run by a real Celery worker consuming from the configured broker (Redis in
the test run). CELERY_TASK_IGNORE_RESULT is on and there is no result backend, so the tests
wait for each task's effect in the database or cache instead of its result."""

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from knox.models import AuthToken

from accounts.tasks import purge_expired_tokens
from backend.celery import app
from backend.health import HEARTBEAT_KEY
from backend.tasks import jobs_heartbeat
from tests.conftest import WAIT_SECONDS, wait_for
from tests.factories import UserFactory

BASE_DIR = Path(settings.BASE_DIR)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_worker_runs_heartbeat_and_healthz_reports_jobs_ok(anon, worker):
    assert anon.get("/healthz").json()["jobs"]["status"] == "no heartbeat yet"
    jobs_heartbeat.delay()
    assert wait_for(lambda: cache.get(HEARTBEAT_KEY) is not None)
    jobs = anon.get("/healthz").json()["jobs"]
    assert jobs["status"] == "ok"
    assert 0 <= jobs["last_heartbeat_age_s"] < 5


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_worker_purges_expired_tokens_only(worker):
    user = UserFactory()
    expired, _ = AuthToken.objects.create(user)
    live, _ = AuthToken.objects.create(user)
    AuthToken.objects.filter(pk=expired.pk).update(
        expiry=timezone.now() - datetime.timedelta(minutes=1)
    )
    purge_expired_tokens.delay()
    assert wait_for(lambda: not AuthToken.objects.filter(pk=expired.pk).exists())
    assert AuthToken.objects.filter(pk=live.pk).exists()


def test_beat_schedule_names_only_registered_tasks():
    app.loader.import_default_modules()  # what a worker does at start: autodiscovery
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert scheduled == {
        "backend.tasks.jobs_heartbeat",
        "backend.tasks.purge_idempotency_keys",
        "accounts.tasks.purge_expired_tokens",
        "orders.tasks.expire_reservations",
        "orders.tasks.place_standing_orders",
        "notices.tasks.sweep_notices",
        "notices.tasks.send_reminders",
        "payments.tasks.settle_completed_fulfilments",
        "payments.tasks.flag_overdue_orders",
        "payments.tasks.lower_card_payments",
        "payments.tasks.send_due_payouts",
        "logistics.tasks.plan_delivery_runs",
    }
    assert scheduled <= set(app.tasks)


def test_tasks_are_sent_as_json():
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]


# The embedded default (`make run`): worker and beat as threads of the serving process on
# kombu's in-memory broker. start_embedded_jobs cannot be stopped once started, so it runs in a
# child process of its own, with SQLite and no Redis, as `manage.py serve` would.
EMBEDDED_SCRIPT = """
import os, sys, time
import django
django.setup()
from django.conf import settings
from django.core.cache import cache
from backend.celery import app
from backend.health import HEARTBEAT_KEY
from backend.management.commands.serve import start_embedded_jobs

assert settings.CELERY_BROKER_URL.startswith("memory://"), settings.CELERY_BROKER_URL
settings.CELERY_BEAT_SCHEDULE_FILENAME = sys.argv[1]
# The real heartbeat runs every 30 s; a short interval shows beat and worker at work sooner.
app.conf.beat_schedule = {
    "jobs-heartbeat": {"task": "backend.tasks.jobs_heartbeat", "schedule": 0.5},
}
start_embedded_jobs()
deadline = time.monotonic() + float(sys.argv[2])
while cache.get(HEARTBEAT_KEY) is None and time.monotonic() < deadline:
    time.sleep(0.1)
print("heartbeat" if cache.get(HEARTBEAT_KEY) is not None else "no heartbeat", flush=True)
os._exit(0)  # the worker and beat threads have no clean stop
"""


def test_embedded_beat_and_worker_run_scheduled_jobs_in_process(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backend.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "memory://",
    }
    result = subprocess.run(
        [sys.executable, "-c", EMBEDDED_SCRIPT, str(tmp_path / "beat"), str(WAIT_SECONDS)],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT_SECONDS + 40,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "heartbeat", result.stderr
