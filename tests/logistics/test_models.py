"""The database guards the invariants of runs and shipments, whatever code writes them."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.integrity import violated_constraint
from logistics.models import DeliveryRun, DeliverySchedule, RunAssignment, Shipment
from orders.models import EventKind
from orders.services.events import fulfilment_event_record
from tests.logistics.helpers import confirmed_part, daily_schedule

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)


def refused(constraint: str, make) -> None:
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        make()
    assert violated_constraint(caught.value) == constraint


def schedule(**overrides):
    values = {"name": "x", "weekdays": 1, "departure_time": datetime.time(6), "cutoff_hours": 12}
    return DeliverySchedule.objects.create(**{**values, **overrides})


@pytest.mark.parametrize("weekdays", [0, 128])
def test_a_schedule_runs_on_some_weekday_of_seven(weekdays):
    refused("delivery_schedule_weekdays", lambda: schedule(weekdays=weekdays))


def test_a_cut_off_is_at_most_two_weeks_before_departure():
    refused("delivery_schedule_cutoff_hours", lambda: schedule(cutoff_hours=337))


def run(plan, date, cutoff_before=HOUR):
    departs = timezone.make_aware(datetime.datetime.combine(date, datetime.time(6)))
    return DeliveryRun.objects.create(
        schedule=plan, date=date, departs_at=departs, cutoff_at=departs - cutoff_before
    )


def test_one_run_per_schedule_and_day_and_the_cut_off_comes_first():
    plan, today = schedule(), timezone.localdate()
    run(plan, today)
    refused("delivery_run_one_per_day", lambda: run(plan, today))
    tomorrow = today + datetime.timedelta(days=1)
    refused("delivery_run_cutoff_first", lambda: run(plan, tomorrow, cutoff_before=-HOUR))


@pytest.fixture
def part(purchaser_user, store, manager_user, cooperative):
    return confirmed_part(
        purchaser=purchaser_user, store=store, manager=manager_user, cooperative=cooperative
    )


def test_a_part_travels_on_one_run_at_a_stop_from_one(part):
    plan, today = schedule(), timezone.localdate()
    first, second = run(plan, today), run(plan, today + datetime.timedelta(days=1))
    refused(
        "run_assignment_stop_gte_1",
        lambda: RunAssignment.objects.create(run=first, fulfilment=part, stop=0),
    )
    RunAssignment.objects.create(run=first, fulfilment=part, stop=1)
    refused(
        "logistics_runassignment_fulfilment_id_key",
        lambda: RunAssignment.objects.create(run=second, fulfilment=part, stop=1),
    )


@pytest.mark.parametrize(
    "overrides, constraint",
    [
        ({"window_end_offset": HOUR * 0}, "shipment_window_ordered"),
        ({"package_count": 0}, "shipment_package_count_gte_1"),
        ({"weight_kg": Decimal("0")}, "shipment_weight_gt_0"),
        ({"mode": "carrier", "carrier_name": ""}, "shipment_carrier_named"),
    ],
)
def test_a_shipment_is_whole(part, manager_user, overrides, constraint):
    start = timezone.now() + HOUR
    offset = overrides.pop("window_end_offset", 2 * HOUR)
    values = {
        "fulfilment": part,
        "mode": "own_vehicle",
        "package_count": 3,
        "weight_kg": Decimal("30"),
        "window_start": start,
        "window_end": start + offset,
        "recorded_by": manager_user,
        **overrides,
    }
    refused(constraint, lambda: Shipment.objects.create(**values))


def test_a_status_change_is_not_recorded_beside_the_lifecycle(part):
    with pytest.raises(ValueError):
        fulfilment_event_record(fulfilment=part, kind=EventKind.STATUS, actor=None)
    event = fulfilment_event_record(fulfilment=part, kind=EventKind.DELAYED, actor=None, note="x")
    assert (event.from_status, event.to_status, event.kind) == ("confirmed", "confirmed", "delayed")


def test_the_planning_job_is_on_the_beat_schedule(settings):
    from logistics.tasks import plan_delivery_runs

    entries = [
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == plan_delivery_runs.name
    ]
    assert len(entries) == 1
    daily_schedule()
    assert plan_delivery_runs() == 0  # opens the runs; nothing confirmed to assign
    assert DeliveryRun.objects.exists()
