"""Reads of orders, fulfilments and standing orders, scoped by orders.access to what the user
may see: buyers their organisation's, cooperative managers their cooperatives' parts, staff
everything."""

from collections import defaultdict
from decimal import Decimal

from django.db.models import F, Prefetch, QuerySet

from accounts.models import User
from backend.money import split
from products.models import Lot
from products.selectors import households_of, with_households

from . import access
from .models import (
    Fulfilment,
    FulfilmentStatus,
    Order,
    OrderEvent,
    OrderLine,
    PickAllocation,
    PurchaseImport,
    StandingOrder,
)

THOUSANDTH = Decimal("0.001")


def _lines():
    return OrderLine.objects.select_related("listing__product").order_by("pk")


def attach_prefetched(instance, name: str, rows: list) -> None:
    """Rows in hand as ``instance.<name>.all()``, stored as prefetch_related stores them (the
    related manager's queryset, already evaluated): services that have just read or written
    an order's parts and lines hand them on without reading them again."""
    queryset = getattr(instance, name).all()
    queryset._result_cache, queryset._prefetch_done = rows, True
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[name] = queryset


def order_list(*, user: User) -> QuerySet[Order]:
    qs = access.orders_visible(user=user, queryset=Order.objects.all())
    return qs.select_related("store", "organisation").prefetch_related(
        Prefetch(
            "fulfilments",
            queryset=Fulfilment.objects.select_related("cooperative")
            .prefetch_related(Prefetch("lines", queryset=_lines()))
            .order_by("pk"),
        )
    )


def fulfilment_list(*, user: User) -> QuerySet[Fulfilment]:
    qs = access.fulfilments_visible(user=user, queryset=Fulfilment.objects.all())
    return qs.select_related("order__store", "order__organisation", "cooperative").prefetch_related(
        Prefetch("lines", queryset=_lines())
    )


def expired_reservations(*, now) -> QuerySet:
    """Ids of parts still waiting (for the cooperative or an approver) whose order's
    reservation ran out before ``now``. The status list is the condition of the partial
    index fulfilment_awaiting_idx word for word, so PostgreSQL can prove the index covers it;
    order_reservation_expiry_idx finds the orders."""
    return (
        Fulfilment.objects.filter(
            status__in=[FulfilmentStatus.PENDING_APPROVAL, FulfilmentStatus.PLACED],
            order__reservation_expires_at__lt=now,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def standing_order_list(*, user: User) -> QuerySet[StandingOrder]:
    qs = StandingOrder.objects.prefetch_related("lines", "runs").order_by("-pk")
    return access.standing_orders_visible(user=user, queryset=qs)


def purchase_import_list(*, user: User) -> QuerySet[PurchaseImport]:
    qs = PurchaseImport.objects.prefetch_related("placed_orders").order_by("-pk")
    return access.purchase_imports_visible(user=user, queryset=qs)


def order_events(*, order: Order) -> QuerySet[OrderEvent]:
    return order.events.select_related("actor").order_by("pk")


def _household_shares(lot: Lot, quantity: Decimal) -> list[dict]:
    """Who supplied ``quantity`` of ``lot`` (read with products.selectors.with_households):
    each household in proportion to what it gave the lot, to the gram, adding up to the
    quantity exactly (backend.money.split)."""
    contributions = households_of(lot)
    if not contributions:
        return []
    shares = split(quantity, [c.quantity for c in contributions], THOUSANDTH)
    return [
        {
            "household": c.household,
            "name": c.name,
            "village": c.village,
            "on_poverty_list": c.on_poverty_list,
            "quantity": share,
        }
        for c, share in zip(contributions, shares, strict=True)
    ]


def attach_picks(fulfilment: Fulfilment, picks: list[tuple[int, Lot, Decimal]]) -> None:
    """The picks packing has just written, (line id, lot read with its households,
    quantity) in the order written: pick_list answers from them without reading them back."""
    fulfilment.__dict__["_picks_in_hand"] = picks


# Before packing a part has no picks (lifecycle: nothing moves back to these from packed).
UNPICKED = frozenset(
    {FulfilmentStatus.PENDING_APPROVAL, FulfilmentStatus.PLACED, FulfilmentStatus.CONFIRMED}
)


def pick_list(*, fulfilment: Fulfilment) -> list[dict]:
    """For each line, the lots that supply it and the households behind them: what was drawn
    at packing, or, before packing, what first in first out would draw now. One query
    whatever its lines and lots (the picks once packed, the open lots before): the
    households come with their lots."""
    lines = list(fulfilment.lines.all())
    picks: dict[int, list[tuple[Lot, Decimal]]] = defaultdict(list)
    stored = fulfilment.__dict__.get("_picks_in_hand")
    if stored is None and fulfilment.status in UNPICKED:
        stored = []  # packing writes the picks, and no move leads back before it
    if stored is None:
        stored = []
        for pick in with_households(
            PickAllocation.objects.filter(line__in=lines).select_related("lot").order_by("pk")
        ):
            pick.lot.households_json = pick.households_json  # the lot's, read on the pick's row
            stored.append((pick.line_id, pick.lot, pick.quantity))
    for line_id, lot, quantity in stored:
        picks[line_id].append((lot, quantity))
    if not stored:
        # Proposed draw: oldest harvest first, from what other pick lists have not taken.
        open_lots = defaultdict(list)
        for lot in with_households(
            Lot.objects.filter(
                listing_id__in={line.listing_id for line in lines},
                quantity_picked__lt=F("quantity"),
            ).order_by("harvest_date", "pk")
        ):
            open_lots[lot.listing_id].append(lot)
        for line in lines:
            needed = (
                line.confirmed_quantity if line.confirmed_quantity is not None else line.quantity
            )
            for lot in open_lots[line.listing_id]:
                if needed <= 0:
                    break
                take = min(needed, lot.quantity - lot.quantity_picked)
                picks[line.pk].append((lot, take))
                needed -= take
    return [
        {
            "line": line.pk,
            "listing": line.listing_id,
            "drawn": bool(stored),
            "lots": [
                {
                    "lot": lot.pk,
                    "code": lot.code,
                    "harvest_date": lot.harvest_date,
                    "quantity": quantity,
                    "households": _household_shares(lot, quantity),
                }
                for lot, quantity in picks[line.pk]
            ],
        }
        for line in lines
    ]
