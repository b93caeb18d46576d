"""Settlement survives a worker killed with SIGKILL mid-run: the run's transaction dies with
it, the message comes back, and a fresh worker (or a fresh pool process) settles each
fulfilment exactly once. Real `celery worker` processes against the test run's Redis and
test database; the run blocks after writing its statements, before its commit, until the
test kills the process running it."""

import datetime
import os
import signal
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from backend.celery import app
from payments.models import Statement, StatementLine
from payments.services.collecting import AllocationRequest, bank_transfer_record
from payments.tasks import settle_completed_fulfilments
from tests.conftest import wait_for
from tests.factories import place_order
from tests.orders.test_worker_lost import BASE_DIR, STARTUP_SECONDS, stop
from tests.payments.conftest import deliver

# `python -c WORKER <marker file> <pool>`: the project's worker, except that the first
# settlement run blocks after writing its statements (inside its transaction) and writes its
# process id to the marker file; once the marker exists, runs go through.
WORKER = """
import os, sys, time
from pathlib import Path
import django
django.setup()
from backend.celery import app
import payments.services.settlement as settlement
VISIBILITY

marker = Path(sys.argv[1])
real_shares = settlement._household_shares

def shares_then_block(run, statements):
    real_shares(run, statements)
    if not marker.exists():
        marker.write_text(str(os.getpid()))
        time.sleep(300)  # until the test kills this process; bounded all the same

settlement._household_shares = shares_then_block
app.worker_main(["worker", f"--pool={sys.argv[2]}", "--concurrency=1", "--loglevel=INFO",
                 "--without-heartbeat", "--without-mingle", "--without-gossip"])
"""


@pytest.fixture
def workers(tmp_path):
    started = []
    app.control.purge()
    marker, log = tmp_path / "blocked", tmp_path / "workers.log"

    def start(pool: str, visibility_timeout: int | None = None):
        visibility = ""
        if visibility_timeout is not None:
            visibility = (
                "app.conf.broker_transport_options = {"
                f"'visibility_timeout': {visibility_timeout}, "
                "'unacked_restore_interval': 1, 'unacked_restore_throttle': 1}"
            )
        db = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "backend.settings",
            "DATABASE_URL": (
                f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
            ),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        }
        process = subprocess.Popen(
            [sys.executable, "-c", WORKER.replace("VISIBILITY", visibility), str(marker), pool],
            cwd=BASE_DIR,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        return process

    start.marker, start.log = marker, log
    yield start
    for process in started:
        stop(process)


def blocked_pid(workers) -> int:
    def pid():
        try:
            return int(workers.marker.read_text())
        except (FileNotFoundError, ValueError):
            return None

    assert wait_for(lambda: pid() is not None, timeout=STARTUP_SECONDS), workers.log.read_text()
    return pid()


@pytest.fixture
def paid_orders(staff_user, purchaser_user, store, honey):
    orders = []
    for _ in range(2):
        order = deliver(place_order(purchaser_user, store, (honey, "10")), staff_user)
        bank_transfer_record(
            user=staff_user,
            organisation=order.organisation,
            bank_reference=f"K-{order.pk}",
            amount=order.total,
            received_on=datetime.date(2026, 11, 28),
            allocations=[AllocationRequest(order.pk)],
        )
        orders.append(order)
    return orders


def settled_once() -> bool:
    return StatementLine.objects.count() == 2


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_pool_process_killed_mid_settlement_is_replaced_and_settles_once(workers, paid_orders):
    workers("prefork")  # default visibility timeout (an hour): only the requeue can save it
    settle_completed_fulfilments.delay()

    pid = blocked_pid(workers)
    assert not Statement.objects.exists()  # written but not committed
    os.kill(pid, signal.SIGKILL)

    assert wait_for(settled_once, timeout=STARTUP_SECONDS), workers.log.read_text()
    assert Statement.objects.count() == 1
    assert StatementLine.objects.values("fulfilment").distinct().count() == 2


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_settlement_leaves_it_to_a_fresh_worker(workers, paid_orders):
    first = workers("solo")
    settle_completed_fulfilments.delay()

    blocked_pid(workers)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    assert not Statement.objects.exists()  # its transaction died with it

    workers("solo", visibility_timeout=2)
    assert wait_for(settled_once, timeout=STARTUP_SECONDS), workers.log.read_text()
    assert Statement.objects.count() == 1
    assert StatementLine.objects.values("fulfilment").distinct().count() == 2
