"""The daily jobs' tasks, run by a real Celery worker against Redis: settlement twice settles
each fulfilment once; the overdue flag twice flags each order once. A worker killed with
SIGKILL mid-run: test_worker_lost.py."""

import datetime
from decimal import Decimal

import pytest

from orders.models import EventKind, OrderEvent
from payments.models import StatementLine
from payments.services.collecting import AllocationRequest, bank_transfer_record
from payments.tasks import flag_overdue_orders, settle_completed_fulfilments
from tests.conftest import wait_for
from tests.factories import place_order
from tests.payments.conftest import deliver


def runs(finished_tasks, task) -> list:
    return [retval for name, retval in finished_tasks if name == task.name]


def test_the_daily_tasks_are_idempotent_and_acknowledged_late():
    for task in (settle_completed_fulfilments, flag_overdue_orders):
        assert task.acks_late and task.reject_on_worker_lost


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_worker_settling_twice_settles_each_fulfilment_once(
    worker, finished_tasks, staff_user, purchaser_user, store, honey
):
    for _ in range(2):
        order = deliver(place_order(purchaser_user, store, (honey, "10")), staff_user)
        bank_transfer_record(
            user=staff_user,
            organisation=order.organisation,
            bank_reference=f"T-{order.pk}",
            amount=order.total,
            received_on=datetime.date(2026, 11, 28),
            allocations=[AllocationRequest(order.pk)],
        )

    settle_completed_fulfilments.delay()
    settle_completed_fulfilments.delay()

    assert wait_for(lambda: len(runs(finished_tasks, settle_completed_fulfilments)) == 2)
    assert sorted(runs(finished_tasks, settle_completed_fulfilments)) == [0, 2]
    assert StatementLine.objects.count() == 2


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_worker_flags_an_unpaid_order_once(
    worker, finished_tasks, staff_user, purchaser_user, store, honey
):
    order = deliver(place_order(purchaser_user, store, (honey, "10")), staff_user)
    # Delivered three days ago, due at delivery (no net terms), unpaid.
    OrderEvent.objects.filter(order=order, to_status="delivered").update(
        created_at=OrderEvent.objects.get(order=order, to_status="delivered").created_at
        - datetime.timedelta(days=3)
    )
    flag_overdue_orders.delay()
    flag_overdue_orders.delay()

    assert wait_for(lambda: len(runs(finished_tasks, flag_overdue_orders)) == 2)
    assert sorted(runs(finished_tasks, flag_overdue_orders)) == [0, 1]
    flags = OrderEvent.objects.filter(order=order, kind=EventKind.PAYMENT_OVERDUE)
    assert flags.count() == 1 and str(Decimal("680.00")) in flags.get().note
