"""Each statement is paid once, by real `celery worker` processes on the test run's Redis and
database, against the fake Stripe over HTTP:

- the payout task delivered twice at once (two pool processes): the second waits on the
  payout's row and finds it paid; Stripe is asked once;
- the worker killed with SIGKILL after Stripe made the transfer and before our commit: the
  transaction dies with it, the message comes back, and the rerun sends the same idempotency
  key, so Stripe answers with the transfer it made: one transfer, one ledger posting.

The worker below is the project's, except that Stripe's answer to a transfer is held back for
a while (``sleep``: the concurrent case) or until the test kills the process (``block``: the
first call only, writing the process id to the marker file)."""

import os
import signal
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from backend.celery import app
from payments.models import LedgerTransaction, Payout, Statement
from payments.services.settlement import settlement_run
from payments.tasks import send_payout
from tests.conftest import wait_for
from tests.orders.test_worker_lost import BASE_DIR, STARTUP_SECONDS, stop
from tests.payments.test_payouts import NET_FEN, transfer_posts
from tests.payments.test_settlement import pay

WORKER = """
import os, sys, time
from pathlib import Path
import django
django.setup()
from celery.signals import task_postrun
from backend.celery import app
import payments.stripe_gateway as gateway
VISIBILITY

marker, done, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[4]
real_transfer = gateway.create_transfer

def transfer_then_wait(**kwargs):
    transfer = real_transfer(**kwargs)
    if mode == "sleep":
        time.sleep(2)  # the row stays locked: the other delivery must wait for it
    elif not marker.exists():
        marker.write_text(str(os.getpid()))
        time.sleep(300)  # until the test kills this process; bounded all the same
    return transfer

gateway.create_transfer = transfer_then_wait

@task_postrun.connect
def finished(task=None, retval=None, **kwargs):
    with done.open("a") as out:
        out.write(f"{task.name} {retval}\\n")

app.worker_main(["worker", f"--pool={sys.argv[3]}", f"--concurrency={sys.argv[5]}",
                 "--loglevel=INFO", "--without-heartbeat", "--without-mingle", "--without-gossip"])
"""


@pytest.fixture
def workers(tmp_path, fake_stripe):
    started = []
    app.control.purge()
    marker, done, log = tmp_path / "blocked", tmp_path / "done", tmp_path / "workers.log"

    def start(pool: str, mode: str, *, concurrency: int = 1, visibility_timeout=None):
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
            "STRIPE_API_KEY": fake_stripe.api_key,
            "STRIPE_API_BASE": fake_stripe.url,
        }
        script = WORKER.replace("VISIBILITY", visibility)
        args = [str(marker), str(done), pool, mode, str(concurrency)]
        process = subprocess.Popen(
            [sys.executable, "-c", script, *args],
            cwd=BASE_DIR,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        return process

    start.marker, start.done, start.log = marker, done, log
    yield start
    for process in started:
        stop(process)


def finished(workers) -> list[str]:
    try:
        return [line for line in workers.done.read_text().splitlines() if "send_payout" in line]
    except FileNotFoundError:
        return []


@pytest.fixture
def payout(cooperative, fake_stripe, delivered_order, staff_user):
    cooperative.stripe_account = fake_stripe.create_account()
    cooperative.save(update_fields=["stripe_account"])
    fake_stripe.top_up(100000)
    pay(staff_user, delivered_order)
    settlement_run(user=staff_user)
    payout = Payout.objects.get()
    assert payout.rail == "stripe_transfer"
    return payout


def paid_once(fake_stripe, payout) -> None:
    payout.refresh_from_db()
    (transfer,) = fake_stripe.objects("transfer")
    assert (payout.status, payout.provider_reference) == ("paid", transfer["id"])
    assert Statement.objects.get().status == "paid"
    assert LedgerTransaction.objects.filter(kind="payout_paid").count() == 1
    assert fake_stripe.state.balance_fen == 100000 - NET_FEN


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_payout_task_run_twice_at_once_pays_the_statement_once(workers, payout, fake_stripe):
    workers("prefork", "sleep", concurrency=2)
    send_payout.delay(payout.pk)
    send_payout.delay(payout.pk)

    assert wait_for(lambda: len(finished(workers)) == 2, timeout=STARTUP_SECONDS), (
        workers.log.read_text()
    )
    paid_once(fake_stripe, payout)
    assert len(transfer_posts(fake_stripe)) == 1  # the second waited, then found it paid
    assert sorted(finished(workers)) == [
        "payments.tasks.send_payout paid",
        "payments.tasks.send_payout paid",
    ]


def blocked_pid(workers) -> int:
    def pid():
        try:
            return int(workers.marker.read_text())
        except (FileNotFoundError, ValueError):
            return None

    assert wait_for(lambda: pid() is not None, timeout=STARTUP_SECONDS), workers.log.read_text()
    return pid()


def stripe_made_it_and_we_do_not_know(fake_stripe, payout) -> None:
    assert len(fake_stripe.objects("transfer")) == 1
    payout.refresh_from_db()
    assert (payout.status, payout.provider_reference) == ("pending", "")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_after_the_transfer_leaves_it_to_a_fresh_worker_that_pays_once(
    workers, payout, fake_stripe
):
    first = workers("solo", "block")
    send_payout.delay(payout.pk)

    blocked_pid(workers)
    stripe_made_it_and_we_do_not_know(fake_stripe, payout)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    stripe_made_it_and_we_do_not_know(fake_stripe, payout)  # its transaction died with it

    workers("solo", "block", visibility_timeout=2)
    assert wait_for(lambda: finished(workers), timeout=STARTUP_SECONDS), workers.log.read_text()
    paid_once(fake_stripe, payout)
    first_call, rerun = transfer_posts(fake_stripe)
    assert first_call.idempotency_key == rerun.idempotency_key and rerun.replayed


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_pool_process_killed_after_the_transfer_is_replaced_and_pays_once(
    workers, payout, fake_stripe
):
    workers("prefork", "block")  # default visibility timeout: only the requeue can save it
    send_payout.delay(payout.pk)

    pid = blocked_pid(workers)
    stripe_made_it_and_we_do_not_know(fake_stripe, payout)
    os.kill(pid, signal.SIGKILL)

    assert wait_for(lambda: finished(workers), timeout=STARTUP_SECONDS), workers.log.read_text()
    paid_once(fake_stripe, payout)
    assert transfer_posts(fake_stripe)[-1].replayed
