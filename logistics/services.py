"""Writes of logistics: schedules, opening runs, assigning fulfilments to runs, shipments and
delays.

Lock order (docs/architecture.md), extended: order → fulfilment → delivery run → shipment,
each by primary key. Every write that touches a fulfilment locks its order and the
fulfilment first, as the lifecycle moves do, so a run assignment and a cancel queue instead
of crossing.
"""

import datetime
import logging
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from orders.models import EventKind, Fulfilment, FulfilmentStatus, Order, OrderEvent
from orders.services.events import fulfilment_event_record

from . import access
from .exceptions import NotShippable
from .models import DeliveryRun, DeliverySchedule, RunAssignment, RunStatus, Shipment

logger = logging.getLogger(__name__)
S = FulfilmentStatus
# Parts that may still be put on a truck: confirmed (in full or short) or packed.
ASSIGNABLE = (S.CONFIRMED, S.PACKED)
# Parts whose shipment may be recorded or delayed: from confirmation until delivery.
SHIPPABLE = (S.CONFIRMED, S.PACKED, S.SHIPPED)


def weekdays_mask(weekdays: list[int]) -> int:
    return sum(1 << day for day in set(weekdays))


# --- schedules ---------------------------------------------------------------------------------
def _schedule_save(schedule: DeliverySchedule) -> DeliverySchedule:
    schedule.full_clean()
    schedule.save()
    return schedule


@transaction.atomic
def schedule_create(
    *,
    name: str,
    weekdays: list[int],
    departure_time: datetime.time,
    cutoff_hours: int,
    origin: str = "石屯镇",
    destination: str = "南明区",
    is_active: bool = True,
) -> DeliverySchedule:
    """A staff-defined trip pattern. Its runs are opened by the beat job (runs_open)."""
    return _schedule_save(
        DeliverySchedule(
            name=name,
            weekdays=weekdays_mask(weekdays),
            departure_time=departure_time,
            cutoff_hours=cutoff_hours,
            origin=origin,
            destination=destination,
            is_active=is_active,
        )
    )


@transaction.atomic
def schedule_update(*, schedule: DeliverySchedule, data: dict) -> DeliverySchedule:
    """Changes apply to runs opened from now on; runs already opened keep their departure
    and cut-off (fulfilments were assigned against them)."""
    schedule = DeliverySchedule.objects.select_for_update().get(pk=schedule.pk)
    for field, value in data.items():
        setattr(schedule, field, weekdays_mask(value) if field == "weekdays" else value)
    return _schedule_save(schedule)


# --- runs --------------------------------------------------------------------------------------
def _departure(schedule: DeliverySchedule, date: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(date, schedule.departure_time))


def runs_open(*, now: datetime.datetime | None = None, days: int | None = None) -> int:
    """Open the runs of every active schedule for the coming ``days``
    (DELIVERY_RUN_HORIZON_DAYS), one per (schedule, date): the unique constraint makes a
    second or concurrent call open nothing more. Answers how many it opened."""
    now = now or timezone.now()
    days = settings.DELIVERY_RUN_HORIZON_DAYS if days is None else days
    today = timezone.localdate(now)
    wanted = []
    for schedule in DeliverySchedule.objects.filter(is_active=True).order_by("pk"):
        for offset in range(days):
            date = today + datetime.timedelta(days=offset)
            if not schedule.weekdays & (1 << date.weekday()):
                continue
            departs_at = _departure(schedule, date)
            if departs_at <= now:
                continue
            wanted.append(
                DeliveryRun(
                    schedule=schedule,
                    date=date,
                    departs_at=departs_at,
                    cutoff_at=departs_at - datetime.timedelta(hours=schedule.cutoff_hours),
                    status=RunStatus.OPEN,
                )
            )
    before = DeliveryRun.objects.count()
    DeliveryRun.objects.bulk_create(wanted, ignore_conflicts=True)
    return DeliveryRun.objects.count() - before


def runs_advance(*, now: datetime.datetime | None = None) -> None:
    """Runs past their cut-off are closed, past their departure departed (the manifest is
    what the truck took)."""
    now = now or timezone.now()
    DeliveryRun.objects.filter(status=RunStatus.OPEN, cutoff_at__lte=now).update(
        status=RunStatus.CLOSED
    )
    DeliveryRun.objects.filter(
        status__in=[RunStatus.OPEN, RunStatus.CLOSED], departs_at__lte=now
    ).update(status=RunStatus.DEPARTED)


def _confirmed_at():
    """When the part was confirmed: the time its cut-off is measured against."""
    return Subquery(
        OrderEvent.objects.filter(
            fulfilment=OuterRef("pk"), kind=EventKind.STATUS, to_status=S.CONFIRMED
        )
        .order_by("-pk")
        .values("created_at")[:1]
    )


def unassigned_fulfilments():
    """Ids of confirmed or packed parts not yet on a run, oldest first."""
    return (
        Fulfilment.objects.filter(status__in=ASSIGNABLE, run_assignment__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def run_for(
    *, confirmed_at: datetime.datetime, requested: datetime.date | None, now: datetime.datetime
) -> DeliveryRun | None:
    """The first run (by departure) whose cut-off came after the part was confirmed, that
    has not left, and that leaves on or after the requested delivery date (a store is not
    sent goods before the day it asked for)."""
    runs = DeliveryRun.objects.filter(
        cutoff_at__gt=confirmed_at,
        departs_at__gt=now,
        status__in=[RunStatus.OPEN, RunStatus.CLOSED],
    )
    if requested is not None:
        runs = runs.filter(date__gte=requested)
    return runs.order_by("departs_at", "pk").first()


def _lock_fulfilment(fulfilment_id: int) -> Fulfilment:
    """Lock order → fulfilment, in that order (as orders' lifecycle moves do)."""
    order_id = Fulfilment.objects.values_list("order_id", flat=True).get(pk=fulfilment_id)
    order = Order.objects.select_for_update().get(pk=order_id)
    fulfilment = Fulfilment.objects.select_for_update().get(pk=fulfilment_id)
    fulfilment.order = order
    return fulfilment


@transaction.atomic
def fulfilment_assign(
    *, fulfilment_id: int, now: datetime.datetime | None = None
) -> RunAssignment | None:
    """Put one confirmed part on its run (run_for), at its store's stop: the stop the store
    already has on that run, or the next one. Safe to run twice and concurrently: the part
    is locked and checked again, the run is locked while its stops are numbered, and the
    unique fulfilment of RunAssignment is the last word. None when no run suits it yet."""
    now = now or timezone.now()
    fulfilment = _lock_fulfilment(fulfilment_id)
    if fulfilment.status not in ASSIGNABLE:
        return None
    if RunAssignment.objects.filter(fulfilment_id=fulfilment.pk).exists():
        return None
    confirmed_at = (
        Fulfilment.objects.filter(pk=fulfilment.pk)
        .annotate(confirmed_at=_confirmed_at())
        .values_list("confirmed_at", flat=True)
        .get()
    )
    if confirmed_at is None:  # confirmed without an event: not through the services
        logger.warning("fulfilment %s has no confirmation event; not assigned", fulfilment.pk)
        return None
    run = run_for(
        confirmed_at=confirmed_at, requested=fulfilment.order.requested_delivery_date, now=now
    )
    if run is None:
        return None
    run = DeliveryRun.objects.select_for_update().get(pk=run.pk)
    same_store = (
        RunAssignment.objects.filter(run=run, fulfilment__order__store_id=fulfilment.order.store_id)
        .values_list("stop", flat=True)
        .first()
    )
    if same_store is None:
        same_store = (RunAssignment.objects.filter(run=run).aggregate(m=Max("stop"))["m"] or 0) + 1
    assignment = RunAssignment.objects.create(run=run, fulfilment=fulfilment, stop=same_store)
    fulfilment_event_record(
        fulfilment=fulfilment,
        kind=EventKind.ASSIGNED_TO_RUN,
        actor=None,
        note=_("Run %(run)s, %(date)s, stop %(stop)s.")
        % {"run": run.pk, "date": run.date.isoformat(), "stop": assignment.stop},
    )
    return assignment


def runs_plan(*, now: datetime.datetime | None = None) -> int:
    """The beat job: open the coming runs, assign every confirmed part that has none, then
    close and depart runs by the clock. One part per transaction; one that fails is logged
    and tried again next time. Answers how many parts it assigned."""
    now = now or timezone.now()
    runs_open(now=now)
    assigned = 0
    for fulfilment_id in list(unassigned_fulfilments()):
        try:
            if fulfilment_assign(fulfilment_id=fulfilment_id, now=now) is not None:
                assigned += 1
        except Exception:
            logger.exception("assigning fulfilment %s failed; tried again next run", fulfilment_id)
    runs_advance(now=now)
    return assigned


# --- shipments ---------------------------------------------------------------------------------
def _check_shippable(fulfilment: Fulfilment) -> None:
    if fulfilment.status not in SHIPPABLE:
        raise NotShippable(
            _("A %(status)s part has no shipment to record or delay.")
            % {"status": fulfilment.status},
            fields={"fulfilment": [_("Not between confirmation and delivery.")]},
            current_status=fulfilment.status,
            allowed_transitions=[],
        )


def _check_window(start: datetime.datetime, end: datetime.datetime, now: datetime.datetime):
    if end <= start:
        raise ValidationError({"window_end": _("The window must end after it starts.")})
    if end <= now:
        raise ValidationError({"window_end": _("The window is in the past.")})


def _check_carrier(mode: str, carrier_name: str) -> None:
    """Said before the constraint shipment_carrier_named, so the 400 names the field."""
    if mode == Shipment.Mode.CARRIER and not carrier_name.strip():
        raise ValidationError({"carrier_name": _("Name the carrier.")})


def _window_text(start: datetime.datetime, end: datetime.datetime) -> str:
    start, end = timezone.localtime(start), timezone.localtime(end)
    return f"{start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M}"


@transaction.atomic
def shipment_record(
    *,
    user: User,
    fulfilment: Fulfilment,
    mode: str,
    package_count: int,
    weight_kg: Decimal,
    window_start: datetime.datetime,
    window_end: datetime.datetime,
    carrier_name: str = "",
    vehicle_plate: str = "",
    driver_name: str = "",
    driver_phone: str = "",
    tracking_number: str = "",
) -> Shipment:
    """Record how a part travels. Its cooperative's managers or staff, between confirmation
    and delivery, once per part (later changes: shipment_update; a new window:
    shipment_delay). Recording does not ship the part: shipping (orders' ship move) consumes
    stock and is its own act."""
    access.check_writes_shipment(user=user, fulfilment=fulfilment)
    fulfilment = _lock_fulfilment(fulfilment.pk)
    _check_shippable(fulfilment)
    _check_window(window_start, window_end, timezone.now())
    _check_carrier(mode, carrier_name)
    shipment = Shipment(
        fulfilment=fulfilment,
        mode=mode,
        carrier_name=carrier_name,
        vehicle_plate=vehicle_plate,
        driver_name=driver_name,
        driver_phone=driver_phone,
        tracking_number=tracking_number,
        package_count=package_count,
        weight_kg=weight_kg,
        window_start=window_start,
        window_end=window_end,
        recorded_by=user,
    )
    shipment.full_clean()  # the unique fulfilment too: a second shipment is a 400 naming it
    shipment.save()
    fulfilment_event_record(
        fulfilment=fulfilment,
        kind=EventKind.SHIPMENT_RECORDED,
        actor=user,
        note=_("%(packages)s packages, %(weight)s kg, window %(window)s.")
        % {
            "packages": package_count,
            "weight": weight_kg,
            "window": _window_text(window_start, window_end),
        },
    )
    return shipment


# What a shipment's update may change: the window moves only by a delay, which is an event.
UPDATABLE = frozenset(
    {
        "mode",
        "carrier_name",
        "vehicle_plate",
        "driver_name",
        "driver_phone",
        "tracking_number",
        "package_count",
        "weight_kg",
    }
)


def _lock_shipment(user: User, shipment: Shipment) -> tuple[Fulfilment, Shipment]:
    access.check_writes_shipment(user=user, fulfilment=shipment.fulfilment)
    fulfilment = _lock_fulfilment(shipment.fulfilment_id)
    _check_shippable(fulfilment)
    return fulfilment, Shipment.objects.select_for_update().get(pk=shipment.pk)


@transaction.atomic
def shipment_update(*, user: User, shipment: Shipment, data: dict) -> Shipment:
    """Correct the carrier, driver, tracking number, packages or weight."""
    unknown = set(data) - UPDATABLE
    if unknown:
        raise ValidationError({name: _("Change the window with a delay.") for name in unknown})
    _fulfilment, shipment = _lock_shipment(user, shipment)
    for field, value in data.items():
        setattr(shipment, field, value)
    _check_carrier(shipment.mode, shipment.carrier_name)
    shipment.full_clean()
    shipment.save()
    return shipment


@transaction.atomic
def shipment_delay(
    *,
    user: User,
    shipment: Shipment,
    window_start: datetime.datetime,
    window_end: datetime.datetime,
    reason: str,
) -> Shipment:
    """The goods will arrive later (or at another time): a new window and why, written as an
    order event like any other move. A window already past is refused."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the delivery is delayed.")})
    fulfilment, shipment = _lock_shipment(user, shipment)
    _check_window(window_start, window_end, timezone.now())
    old = _window_text(shipment.window_start, shipment.window_end)
    shipment.window_start, shipment.window_end = window_start, window_end
    shipment.full_clean()
    shipment.save(update_fields=["window_start", "window_end", "updated_at"])
    fulfilment_event_record(
        fulfilment=fulfilment,
        kind=EventKind.DELAYED,
        actor=user,
        note=_("Window %(old)s → %(new)s: %(reason)s")
        % {"old": old, "new": _window_text(window_start, window_end), "reason": reason},
    )
    return shipment
