"""Reads for the manager's phone page, on top of orders' selectors (scoped by orders.access):
the page shows exactly the parts the API lets the manager see."""

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from orders import selectors as orders_selectors
from orders.models import EventKind, Fulfilment, OrderEvent
from orders.models import FulfilmentStatus as S
from products import selectors as products_selectors
from products.models import Lot

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


def lots_to_choose(*, user: User, fulfilment: Fulfilment, picks: list[dict]) -> list[dict]:
    """Before packing, for each line to pack: every lot of its listing with something left
    (oldest harvest first, with the households behind it, through products' lot scope), and
    what the proposed pick list (``picks``, first in first out) draws from each, as a start.
    The manager may draw from other lots instead; the pack service judges the choice."""
    lines = [line for line in fulfilment.lines.all() if line.confirmed_quantity]
    proposed = {
        (entry["line"], lot["lot"]): lot["quantity"] for entry in picks for lot in entry["lots"]
    }
    open_lots: dict[int, list[Lot]] = {}
    for lot in products_selectors.with_households(
        products_selectors.lot_list(user=user)
        .filter(listing_id__in={line.listing_id for line in lines})
        .filter(quantity_picked__lt=F("quantity"))
        .prefetch_related(None)
        .order_by("harvest_date", "pk")
    ):
        open_lots.setdefault(lot.listing_id, []).append(lot)
    return [
        {
            "line": line,
            "lots": [
                {
                    "lot": lot,
                    "left": lot.quantity - lot.quantity_picked,
                    "proposed": proposed.get((line.pk, lot.pk)),
                    "households": products_selectors.households_of(lot),
                }
                for lot in open_lots.get(line.listing_id, [])
            ],
        }
        for line in lines
    ]
