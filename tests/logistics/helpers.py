"""Rows the logistics tests share: a schedule, confirmed parts, runs."""

import datetime
from decimal import Decimal

from django.utils import timezone

from logistics.models import DeliveryRun
from logistics.services import schedule_create
from orders.models import EventKind, OrderEvent
from orders.services.transitions import fulfilment_confirm
from tests.factories import ListingFactory, place_order

DAILY = list(range(7))


def daily_schedule(**kwargs):
    """Every day at 06:00, cut-off 12 hours before (18:00 the evening before)."""
    values = {
        "name": "石屯—南明 每日",
        "weekdays": DAILY,
        "departure_time": datetime.time(6, 0),
        "cutoff_hours": 12,
    }
    return schedule_create(**{**values, **kwargs})


def confirmed_part(*, purchaser, store, manager, cooperative, requested=None, confirmed_at=None):
    """A part of a new order, confirmed by its manager (at ``confirmed_at`` if given)."""
    listing = ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("500"))
    order = place_order(purchaser, store, (listing, "10"))
    if requested is not None:
        order.requested_delivery_date = requested
        order.save(update_fields=["requested_delivery_date"])
    fulfilment = order.fulfilments.get()
    fulfilment_confirm(fulfilment=fulfilment, user=manager)
    if confirmed_at is not None:
        OrderEvent.objects.filter(
            fulfilment=fulfilment, kind=EventKind.STATUS, to_status="confirmed"
        ).update(created_at=confirmed_at)
    fulfilment.refresh_from_db()
    return fulfilment


def run_on(schedule, date) -> DeliveryRun:
    return DeliveryRun.objects.get(schedule=schedule, date=date)


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)
