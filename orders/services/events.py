"""Order events that are not a part's status change (orders/lifecycle.py writes those): what
other apps record beside the lifecycle, to a part (a run assignment, a shipment recorded, a
delay) or to the order as a whole (its payment fell overdue). Every event of an order is one
kind of row in one table, and orders needs to know nothing of who writes them."""

from django.db import IntegrityError, transaction

from accounts.models import User
from backend import outbox

from ..models import EventKind, Fulfilment, Order, OrderEvent


def fulfilment_event_record(
    *, fulfilment: Fulfilment, kind: str, actor: User | None, note: str = ""
) -> OrderEvent:
    """Record that ``kind`` happened to the part, leaving its status as it is. The caller holds
    the fulfilment's lock (order → fulfilment), inside its own transaction."""
    if kind == EventKind.STATUS or kind not in EventKind.values:
        raise ValueError(f"not an event kind beside the lifecycle: {kind!r}")
    event = OrderEvent.objects.create(
        order_id=fulfilment.order_id,
        fulfilment=fulfilment,
        actor=actor,
        from_status=fulfilment.status,
        to_status=fulfilment.status,
        kind=kind,
        note=note[:500],
    )
    outbox.record("order_event", [event])
    return event


def order_flag_payment_overdue(*, order: Order, note: str) -> bool:
    """Write the order's one payment-overdue event (by the system); False if it has one
    already (the unique constraint decides when two runs race)."""
    try:
        with transaction.atomic():
            event = OrderEvent.objects.create(
                order=order,
                kind=EventKind.PAYMENT_OVERDUE,
                actor=None,
                from_status=order.status,
                to_status=order.status,
                note=note[:500],
            )
            outbox.record("order_event", [event])
    except IntegrityError:
        return False
    return True
