"""Order events that are not a part's status change (orders/lifecycle.py writes those): the
marks other apps put on an order as a whole, e.g. payments flagging it overdue."""

from django.db import IntegrityError, transaction

from ..models import Order, OrderEvent


def order_flag_payment_overdue(*, order: Order, note: str) -> bool:
    """Write the order's one payment-overdue event (by the system); False if it has one
    already (the unique constraint decides when two runs race)."""
    try:
        with transaction.atomic():
            OrderEvent.objects.create(
                order=order,
                kind=OrderEvent.Kind.PAYMENT_OVERDUE,
                actor=None,
                from_status=order.status,
                to_status=order.status,
                note=note[:500],
            )
    except IntegrityError:
        return False
    return True
