"""Reads for the manager's phone page, on top of orders' selectors (scoped by orders.access):
the page shows exactly the parts the API lets the manager see."""

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from backend.pinyin import searchable
from notices import selectors as notices_selectors
from notices.models import Notice
from orders import selectors as orders_selectors
from orders.models import EventKind, Fulfilment, OrderEvent
from orders.models import FulfilmentStatus as S
from payments import selectors as payments_selectors
from payments.models import Statement
from products import access as products_access
from products import selectors as products_selectors
from products.models import Listing, Lot
from suppliers import selectors as suppliers_selectors
from suppliers.access import can_see_private_cooperative_data, managed_cooperative_ids
from suppliers.models import Household

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


# --- Listings, Money, Notices -------------------------------------------------------------------
# Each read is the owning app's selector, scoped by its access module as the API's view is;
# the page only narrows it to the manager's own rows and orders it for a phone.


def listings(*, user: User) -> QuerySet[Listing]:
    """The listings of the manager's cooperatives, with their stock (on hand, reserved and
    the model's available_quantity), whatever their status: products' own scope, narrowed
    from the other cooperatives' live listings a manager also sees to their own."""
    return (
        products_selectors.visible_listings(user=user)
        .filter(cooperative_id__in=managed_cooperative_ids(user=user))
        .select_related("product")
        .order_by("product__name_zh", "grade", "pk")
    )


def listing(*, user: User, listing_id: int) -> Listing | None:
    """One of the manager's listings (None otherwise: the page answers 404)."""
    return listings(user=user).filter(pk=listing_id).first()


def statements(*, user: User) -> QuerySet[Statement]:
    """The cooperative's statements (payments.access, as the API's list), newest first."""
    return payments_selectors.statement_list(user=user).order_by("-period_end", "-pk")


def statement(*, user: User, statement_id: int) -> Statement | None:
    return payments_selectors.statement_list(user=user).filter(pk=statement_id).first()


def household(*, user: User, household_id: int) -> Household | None:
    """A household of the manager's cooperatives (suppliers.access; None otherwise)."""
    return suppliers_selectors.household_list(user=user).filter(pk=household_id).first()


def household_months(*, user: User, household: Household) -> list[dict]:
    """What the household earned each month, newest first (payments' own sums)."""
    return list(payments_selectors.household_earnings(user=user, household_id=household.pk))


def notice(*, user: User, notice_id: int) -> Notice | None:
    """One notice of the manager's own inbox (None otherwise: the page answers 404)."""
    return notices_selectors.inbox(user=user).filter(pk=notice_id).first()


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


# --- Receive a lot ------------------------------------------------------------------------------
def listing_choices(*, user: User) -> QuerySet[Listing]:
    """What a lot's listing may name: the API's lookup (every listing the user sees), so
    another cooperative's is refused by products.access as on the API."""
    return products_selectors.visible_listings(user=user)


def own_listings(*, user: User) -> list[Listing]:
    """The listings the page offers for a lot: the manager's cooperatives', by product."""
    return list(listings(user=user))


def own_listing_cooperative_id(*, user: User, listing_id: int) -> int | None:
    listings = products_selectors.visible_listings(user=user).filter(
        pk=listing_id, cooperative_id__in=managed_cooperative_ids(user=user)
    )
    return listings.values_list("cooperative_id", flat=True).first()


def lot_households(*, user: User, ids: list[int]) -> tuple[dict[int, Household], set[int]]:
    """The households a lot's rows name, looked up as the API's lot create does (lot_receive
    then refuses another cooperative's), and which of them the manager may see by name."""
    found = suppliers_selectors.household_choices().in_bulk(ids)
    shown = {
        pk
        for pk, row in found.items()
        if can_see_private_cooperative_data(user=user, cooperative_id=row.cooperative_id)
    }
    return found, shown


def household_hits(
    *, user: User, text: str, cooperative_id: int | None = None, exclude=(), limit: int = 12
) -> list[Household]:
    """The manager's households matching ``text`` (suppliers' pinyin search), those already
    on the lot left out, in pinyin order (as a Chinese list is read, where the database's
    order would be by code point); of the listing's cooperative when one is chosen."""
    if not text.strip():
        return []
    households = suppliers_selectors.household_list(user=user)
    if cooperative_id is not None:
        households = households.filter(cooperative_id=cooperative_id)
    households = households.exclude(pk__in=exclude)
    found = suppliers_selectors.household_search(queryset=households, text=text)
    ordered = sorted(found, key=lambda row: (searchable(row.name), row.pk))
    return ordered[:limit]


def received_lot(*, user: User, lot_id: int) -> Lot | None:
    """A lot of the manager's cooperatives with its households (products' scopes: the
    households behind a lot are for its own managers)."""
    lots = products_access.lots_by_household_visible(
        user=user, queryset=products_selectors.lot_list(user=user)
    )
    return lots.select_related("listing__product").filter(pk=lot_id).first()


def lot_id_by_code(*, user: User, listing_id: int, code: str) -> int | None:
    lots = products_selectors.lot_list(user=user).filter(listing_id=listing_id, code=code)
    return lots.values_list("pk", flat=True).first()
