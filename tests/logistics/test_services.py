"""Opening runs and putting confirmed parts on them: the cut-off, the requested date, stops,
and running the job twice or at once."""

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from logistics.models import DeliveryRun, RunAssignment, RunStatus
from logistics.services import runs_advance, runs_open, runs_plan
from orders.models import EventKind, OrderEvent
from tests.factories import StoreFactory
from tests.logistics.helpers import confirmed_part, daily_schedule, in_days, run_on

pytestmark = pytest.mark.django_db
MINUTE = datetime.timedelta(minutes=1)


def test_opening_runs_twice_opens_them_once():
    schedule = daily_schedule(weekdays=[1, 4])  # Tuesday and Friday
    now = timezone.now()
    opened = runs_open(now=now, days=14)
    assert opened >= 3  # two weeks hold four Tuesdays and Fridays, less today's if gone
    assert runs_open(now=now, days=14) == 0
    runs = DeliveryRun.objects.filter(schedule=schedule)
    assert runs.count() == opened
    assert {run.date.weekday() for run in runs} == {1, 4}
    for run in runs:
        local = timezone.localtime(run.departs_at)
        assert (local.date(), local.time()) == (run.date, datetime.time(6, 0))
        assert run.departs_at - run.cutoff_at == datetime.timedelta(hours=12)


def test_an_inactive_schedule_opens_nothing():
    daily_schedule(is_active=False)
    assert runs_open(days=14) == 0


@pytest.fixture
def parts(purchaser_user, store, manager_user, cooperative):
    def make(**kwargs):
        return confirmed_part(
            purchaser=purchaser_user,
            store=kwargs.pop("store", store),
            manager=manager_user,
            cooperative=cooperative,
            **kwargs,
        )

    return make


def test_a_part_confirmed_just_before_the_cut_off_takes_that_run(parts):
    schedule = daily_schedule()
    runs_open(days=14)
    run = run_on(schedule, in_days(2))
    part = parts(confirmed_at=run.cutoff_at - MINUTE)
    assert runs_plan() == 1
    assert RunAssignment.objects.get(fulfilment=part).run == run


def test_a_part_confirmed_just_after_the_cut_off_takes_the_next_run(parts):
    schedule = daily_schedule()
    runs_open(days=14)
    run = run_on(schedule, in_days(2))
    part = parts(confirmed_at=run.cutoff_at + MINUTE)
    runs_plan()
    assert RunAssignment.objects.get(fulfilment=part).run == run_on(schedule, in_days(3))


def test_the_requested_delivery_date_is_respected(parts):
    schedule = daily_schedule()
    part = parts(requested=in_days(5))
    runs_plan()
    assert RunAssignment.objects.get(fulfilment=part).run == run_on(schedule, in_days(5))


def test_no_run_on_or_after_the_requested_date_leaves_the_part_for_later(parts):
    daily_schedule()
    part = parts(requested=in_days(40))
    assert runs_plan() == 0
    assert not RunAssignment.objects.filter(fulfilment=part).exists()


def test_a_placed_part_waits_for_confirmation(purchaser_user, store, cooperative):
    from decimal import Decimal

    from tests.factories import ListingFactory, place_order

    daily_schedule()
    listing = ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("100"))
    place_order(purchaser_user, store, (listing, "10"))
    assert runs_plan() == 0
    assert RunAssignment.objects.count() == 0


def test_running_the_job_twice_assigns_once_and_writes_one_event(parts):
    daily_schedule()
    part = parts()
    assert runs_plan() == 1
    assert runs_plan() == 0
    assert RunAssignment.objects.filter(fulfilment=part).count() == 1
    events = OrderEvent.objects.filter(fulfilment=part, kind=EventKind.ASSIGNED_TO_RUN)
    assert events.count() == 1
    event = events.get()
    assert event.from_status == event.to_status == "confirmed"


def test_parts_for_one_store_share_a_stop_and_another_store_gets_the_next(parts, organisation):
    schedule = daily_schedule()
    runs_open(days=14)
    run = run_on(schedule, in_days(2))
    other_store = StoreFactory(organisation=organisation)
    first = parts(confirmed_at=run.cutoff_at - 3 * MINUTE)
    elsewhere = parts(store=other_store, confirmed_at=run.cutoff_at - 2 * MINUTE)
    same_store = parts(confirmed_at=run.cutoff_at - MINUTE)
    runs_plan()
    stops = {a.fulfilment_id: a.stop for a in RunAssignment.objects.filter(run=run)}
    assert stops == {first.pk: 1, elsewhere.pk: 2, same_store.pk: 1}


def test_runs_close_at_the_cut_off_and_depart_at_departure():
    schedule = daily_schedule()
    runs_open(days=14)
    run = run_on(schedule, in_days(2))
    runs_advance(now=run.cutoff_at)
    run.refresh_from_db()
    assert run.status == RunStatus.CLOSED
    runs_advance(now=run.departs_at)
    run.refresh_from_db()
    assert run.status == RunStatus.DEPARTED


@pytest.mark.django_db(transaction=True)
def test_two_jobs_at_once_assign_each_part_once(parts):
    """Two real connections run the job together: row locks and the unique fulfilment keep
    every part on exactly one run, with one event."""
    daily_schedule()
    runs_open(days=14)
    made = [parts() for _ in range(4)]
    barrier = threading.Barrier(2)
    errors = []

    def job():
        try:
            barrier.wait()
            runs_plan()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=job) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert RunAssignment.objects.filter(fulfilment__in=made).count() == 4
    assert (
        OrderEvent.objects.filter(fulfilment__in=made, kind=EventKind.ASSIGNED_TO_RUN).count() == 4
    )
