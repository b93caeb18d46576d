"""Net terms: an order whose goods were delivered and that is not paid in full by the end of
its organisation's net terms is flagged overdue, once, by an order event."""

import datetime
import logging

from django.db.models import F, Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from backend import formatting
from orders.models import EventKind, FulfilmentStatus, Order, OrderEvent
from orders.services.events import order_flag_payment_overdue

from ..selectors import order_balance, paid_subquery

logger = logging.getLogger(__name__)


def payment_due_on(*, delivered_on: datetime.date, net_terms_days: int) -> datetime.date:
    """Due on the day of delivery plus the organisation's net terms (0: at delivery)."""
    return delivered_on + datetime.timedelta(days=net_terms_days)


def orders_flag_overdue(*, today: datetime.date | None = None) -> int:
    """Flag every delivered order still owing money after its due date; an order already
    flagged is skipped (and the database refuses a second flag). Answers how many it
    flagged."""
    today = today or timezone.localdate()
    delivered_at = (
        OrderEvent.objects.filter(order=OuterRef("pk"), to_status=FulfilmentStatus.DELIVERED)
        .values("order")
        .annotate(at=Max("created_at"))
        .values("at")
    )
    candidates = (
        Order.objects.filter(
            status__in=[FulfilmentStatus.DELIVERED, FulfilmentStatus.COMPLETED], total__gt=0
        )
        .exclude(events__kind=EventKind.PAYMENT_OVERDUE)
        .annotate(paid=paid_subquery("pk"), delivered_at=Subquery(delivered_at))
        .filter(paid__lt=F("total"))
        .select_related("organisation")
        .order_by("pk")
    )
    flagged = 0
    tz = timezone.get_current_timezone()
    for order in candidates:
        if order.paid >= order.total or order.delivered_at is None:
            continue
        due_on = payment_due_on(
            delivered_on=order.delivered_at.astimezone(tz).date(),
            net_terms_days=order.organisation.net_terms_days,
        )
        if due_on >= today:
            continue
        owed = order_balance(order=order).due
        note = _("Payment overdue: %(due)s still owed, due on %(date)s.") % {
            "due": formatting.money(owed),
            "date": formatting.date(due_on),
        }
        if order_flag_payment_overdue(order=order, note=note):
            flagged += 1
    return flagged
