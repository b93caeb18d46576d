"""The one place listing stock moves.

Every move works on listing rows locked with SELECT … FOR UPDATE, taken in primary-key order
(the lock order is order → fulfilment → payment → listing stock, each by primary key; see
docs/architecture.md), so concurrent moves queue instead of overwriting each other. The
CheckConstraints on Listing (on hand ≥ 0, 0 ≤ reserved ≤ on hand) are the backstop.

receive: a lot arrives · reserve: an order is placed · release: cancel, reject, short
confirmation, expiry · consume: the goods ship.
"""

from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext

from backend.errors import Conflict

from .catalog_cache import catalog_changed
from .models import MAX_STOCK, Listing, quantity_text


def listing_lock(listing_id: int) -> Listing:
    """Lock one listing row for a stock move (call inside a transaction)."""
    return Listing.objects.select_for_update(of=("self",)).get(pk=listing_id)


def listings_lock(listing_ids: Iterable[int]) -> dict[int, Listing]:
    """Lock several listing rows, always in primary-key order so two transactions locking
    overlapping sets cannot deadlock."""
    rows = (
        Listing.objects.select_for_update(of=("self",))
        .select_related("cooperative", "product")
        .filter(pk__in=set(listing_ids))
        .order_by("pk")
    )
    return {listing.pk: listing for listing in rows}


def _sync_sold_out(listing: Listing) -> None:
    """A live listing with nothing available shows as sold out, and comes back when stock
    arrives or is released; drafts and paused listings keep their status."""
    if listing.status == Listing.Status.ACTIVE and listing.available_quantity <= 0:
        listing.status = Listing.Status.SOLD_OUT
    elif listing.status == Listing.Status.SOLD_OUT and listing.available_quantity > 0:
        listing.status = Listing.Status.ACTIVE


def _save(listing: Listing) -> None:
    _sync_sold_out(listing)
    listing.save(update_fields=["stock_on_hand", "stock_reserved", "status", "updated_at"])
    # The save's signal does it too; a move rewritten as one bulk UPDATE (no signals) must
    # keep this call, or buyers' cached listing pages would show the old stock.
    catalog_changed()


def _positive(quantity: Decimal) -> None:
    if quantity <= 0:
        raise ValueError("stock moves are positive quantities")


@transaction.atomic
def stock_receive(*, listing_id: int, quantity: Decimal) -> Listing:
    """Add received goods (a new lot) to the listing's stock on hand."""
    _positive(quantity)
    listing = listing_lock(listing_id)
    if listing.stock_on_hand + quantity > MAX_STOCK:
        # Each lot fits its column; their sum may not fit the listing's.
        raise Conflict(
            gettext(
                "This listing already holds %(on_hand)s; adding %(quantity)s would pass the "
                "most one listing can hold (%(max)s). Receive it on another listing."
            )
            % {
                "on_hand": quantity_text(listing.stock_on_hand, listing.unit),
                "quantity": quantity_text(quantity, listing.unit),
                "max": quantity_text(MAX_STOCK, listing.unit),
            },
            fields={"quantity": [gettext("More than the listing can hold.")]},
        )
    listing.stock_on_hand += quantity
    _save(listing)
    return listing


def stock_reserve(*, listing: Listing, quantity: Decimal) -> None:
    """Set stock aside for a placed order. ``listing`` must be locked; the caller has checked
    availability and tells the buyer what is short (the assertion is a second line)."""
    _positive(quantity)
    if quantity > listing.available_quantity:
        raise AssertionError(f"reserving {quantity} of listing {listing.pk}: not available")
    listing.stock_reserved += quantity
    _save(listing)


def stock_release(*, listing: Listing, quantity: Decimal) -> None:
    """Give reserved stock back (cancel, reject, short confirmation, expiry)."""
    if quantity == 0:
        return
    _positive(quantity)
    listing.stock_reserved -= quantity
    _save(listing)


def stock_consume(*, listing: Listing, quantity: Decimal) -> None:
    """Reserved goods leave the cooperative: shipped."""
    if quantity == 0:
        return
    _positive(quantity)
    listing.stock_reserved -= quantity
    listing.stock_on_hand -= quantity
    _save(listing)
