"""Reads for the manager's phone page, on top of orders' selectors (scoped by orders.access):
the page shows exactly the parts the API lets the manager see."""

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from orders import selectors as orders_selectors
from orders.models import EventKind, Fulfilment, OrderEvent
from orders.models import FulfilmentStatus as S

NOT_YET_SHIPPED = (S.PLACED, S.CONFIRMED, S.PACKED)
# Parts a delay can still concern: from confirmation until the store has them.
TRAVELLING = (S.CONFIRMED, S.PACKED, S.SHIPPED)
# The groups of the Today screen, in the order a manager works through them.
TODAY_GROUPS = (
    ("confirm", (S.PLACED,)),
    ("pack", (S.CONFIRMED,)),
    ("ship", (S.PACKED,)),
)


def _parts(*, user: User) -> QuerySet[Fulfilment]:
    return orders_selectors.fulfilment_list(user=user).select_related(
        "run_assignment__run", "shipment"
    )


def today(*, user: User) -> dict[str, list[Fulfilment]]:
    """The parts waiting for the manager, each group oldest order first: to confirm, to pack,
    to ship (or to put on a run), and delayed: not shipped by the delivery date the store
    asked for, or shipped with a delayed delivery window. A delayed part also stays in its
    own group, where its next step is."""
    parts = _parts(user=user).order_by("order__created_at", "pk")
    groups = {name: list(parts.filter(status__in=statuses)) for name, statuses in TODAY_GROUPS}
    delayed_event = OrderEvent.objects.filter(fulfilment=OuterRef("pk"), kind=EventKind.DELAYED)
    groups["delayed"] = list(
        parts.filter(
            Q(status__in=NOT_YET_SHIPPED, order__requested_delivery_date__lt=timezone.localdate())
            | Q(Exists(delayed_event), status__in=TRAVELLING)
        )
    )
    return groups


def fulfilment(*, user: User, fulfilment_id: int) -> Fulfilment | None:
    """One part, if the manager may see it (None otherwise: the page answers 404)."""
    return _parts(user=user).filter(pk=fulfilment_id).first()


def pick_list(*, fulfilment: Fulfilment) -> list[dict]:
    """orders' pick list, each line beside its order line (product, unit) for the page."""
    lines = {line.pk: line for line in fulfilment.lines.all()}
    return [
        {**entry, "order_line": lines[entry["line"]]}
        for entry in orders_selectors.pick_list(fulfilment=fulfilment)
    ]
