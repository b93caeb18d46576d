"""A worker killed with SIGKILL in the middle of a job loses nothing and doubles nothing: the
job's transaction dies with it, the message comes back, and a fresh worker places the
standing order exactly once.

Real `celery worker` processes against the test run's Redis and test database. The job
blocks, inside its transaction and after placing the order, until the test kills the
process running it; every wait is bounded."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from backend.celery import app
from orders.models import Order, StandingOrderRun
from orders.tasks import place_standing_orders
from tests.conftest import wait_for
from tests.factories import ListingFactory
from tests.orders.test_standing import make_standing, reserved

BASE_DIR = Path(settings.BASE_DIR)
STARTUP_SECONDS = 60  # a worker on a busy 2-core machine takes a few seconds to start

# Started as `python -c WORKER <marker file> <pool>`: the project's worker, except that the
# first standing order placed blocks (after order_place wrote it, before the commit) and
# writes its process id to the marker file; once the marker exists, jobs run normally.
WORKER = """
import os, sys, time
from pathlib import Path
import django
django.setup()
from backend.celery import app
import orders.services.standing_runs as runs

marker = Path(sys.argv[1])
real_place = runs.order_place

def place_then_block(**kwargs):
    placement = real_place(**kwargs)
    if not marker.exists():
        marker.write_text(str(os.getpid()))
        time.sleep(300)  # until the test kills this process; bounded all the same
    return placement

runs.order_place = place_then_block
app.worker_main(["worker", f"--pool={sys.argv[2]}", "--concurrency=1", "--loglevel=INFO",
                 "--without-heartbeat", "--without-mingle", "--without-gossip"])
"""


def start_worker(marker: Path, pool: str, visibility_timeout: int | None, log: Path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backend.settings",
        # The test database, which this test commits to (transaction=True).
        "DATABASE_URL": (
            f"postgres://{connection.settings_dict['USER']}@{connection.settings_dict['HOST']}:"
            f"{connection.settings_dict['PORT'] or 5432}/{connection.settings_dict['NAME']}"
        ),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    code = WORKER
    if visibility_timeout is not None:
        # Redis hands an unacknowledged message out again only after the visibility timeout
        # (an hour by default); a short one, swept every second, for this worker.
        code = code.replace(
            "from backend.celery import app\n",
            "from backend.celery import app\n"
            "app.conf.broker_transport_options = {"
            f"'visibility_timeout': {visibility_timeout}, "
            "'unacked_restore_interval': 1, 'unacked_restore_throttle': 1}\n",
            1,
        )
    return subprocess.Popen(
        [sys.executable, "-c", code, str(marker), pool],
        cwd=BASE_DIR,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the test can kill all of it
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


@pytest.fixture
def workers(tmp_path):
    """Start workers; every one is killed at the end, whatever happened."""
    started = []
    app.control.purge()  # no message of an earlier test in this Redis database

    def start(pool: str, visibility_timeout: int | None = None):
        process = start_worker(
            tmp_path / "blocked", pool, visibility_timeout, tmp_path / "workers.log"
        )
        started.append(process)
        return process

    start.marker = tmp_path / "blocked"
    start.log = tmp_path / "workers.log"
    yield start
    for process in started:
        stop(process)


def placed_once(standing) -> bool:
    return StandingOrderRun.objects.filter(standing_order=standing, order__isnull=False).exists()


def blocked_pid(workers) -> int:
    """The pid the blocked process wrote. The marker exists (empty) before the pid is in it,
    so poll for the pid itself rather than sleep and hope the write has landed."""

    def pid() -> int | None:
        try:
            return int(workers.marker.read_text())
        except (FileNotFoundError, ValueError):
            return None

    assert wait_for(lambda: pid() is not None, timeout=STARTUP_SECONDS), workers.log.read_text()
    return pid()


@pytest.fixture
def due(purchaser_user, store, cooperative):
    listing = ListingFactory(cooperative=cooperative)
    weekday = timezone.localdate().weekday()
    return make_standing(purchaser_user, store, (listing, "50"), weekday=weekday), listing


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_pool_process_killed_mid_job_is_replaced_and_the_job_finishes_once(workers, due):
    """task_reject_on_worker_lost: the worker sees its pool process die and puts the message
    back at once (without it, the job is marked failed and acknowledged: lost)."""
    standing, listing = due
    workers("prefork")  # default visibility timeout: an hour, so only a requeue can save it
    place_standing_orders.delay()

    pid = blocked_pid(workers)
    assert Order.objects.count() == 0  # placed but not committed
    os.kill(pid, signal.SIGKILL)

    assert wait_for(lambda: placed_once(standing), timeout=STARTUP_SECONDS), workers.log.read_text()
    assert Order.objects.filter(standing_order=standing).count() == 1
    assert standing.runs.count() == 1
    assert reserved(listing) == 50


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_job_leaves_it_to_a_fresh_worker_which_finishes_it_once(workers, due):
    standing, listing = due
    first = workers("solo")
    place_standing_orders.delay()

    blocked_pid(workers)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    assert Order.objects.count() == 0  # its transaction died with it

    workers("solo", visibility_timeout=2)
    assert wait_for(lambda: placed_once(standing), timeout=STARTUP_SECONDS), workers.log.read_text()
    assert Order.objects.filter(standing_order=standing).count() == 1
    assert standing.runs.count() == 1
    assert reserved(listing) == 50


def test_every_project_task_is_requeued_when_its_worker_is_lost():
    """Only tasks that are safe to run twice may be: they all are (services keyed by period,
    status checked under lock, purges)."""
    app.loader.import_default_modules()
    ours = [task for name, task in app.tasks.items() if not name.startswith("celery.")]
    assert ours
    for task in ours:
        assert task.acks_late and task.reject_on_worker_lost, task.name
