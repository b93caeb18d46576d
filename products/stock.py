"""The one place listing stock moves. Every move locks the listing row first (lock order:
order → fulfilment → payment → listing stock, each by primary key; see DESIGN.md), so
concurrent moves serialise instead of overwriting each other; the CheckConstraints on Listing
(on hand ≥ 0, 0 ≤ reserved ≤ on hand) are the backstop.

Reserve at placing, consume at shipping and release on cancel arrive with the orders issue.
"""

from decimal import Decimal

from django.db import transaction

from .models import Listing


def listing_lock(listing_id: int) -> Listing:
    """Lock the listing row for a stock move (call inside a transaction)."""
    return Listing.objects.select_for_update(of=("self",)).get(pk=listing_id)


def _sync_sold_out(listing: Listing) -> None:
    """A live listing with nothing available shows as sold out, and comes back when stock
    arrives; drafts and paused listings keep their status."""
    if listing.status == Listing.Status.ACTIVE and listing.available_quantity <= 0:
        listing.status = Listing.Status.SOLD_OUT
    elif listing.status == Listing.Status.SOLD_OUT and listing.available_quantity > 0:
        listing.status = Listing.Status.ACTIVE


@transaction.atomic
def stock_receive(*, listing_id: int, quantity: Decimal) -> Listing:
    """Add received goods (a new lot) to the listing's stock on hand."""
    if quantity <= 0:
        raise ValueError("received quantity must be positive")
    listing = listing_lock(listing_id)
    listing.stock_on_hand += quantity
    _sync_sold_out(listing)
    listing.save(update_fields=["stock_on_hand", "status", "updated_at"])
    return listing
