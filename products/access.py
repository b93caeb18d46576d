"""Who may see or do what with the catalog, listings, lots and negotiated prices: the one
place that says it. Writing for a cooperative is suppliers.access's ``may_manage``; this
module says which cooperative each product row belongs to and which rows each role sees."""

from django.db.models import Q, QuerySet
from rest_framework.permissions import SAFE_METHODS

from accounts.access import SignedInPermission, is_manager, is_staff
from buyers.access import organisation_id_of
from suppliers.access import (
    can_see_private_cooperative_data,
    check_manages,
    households_visible,
    managed_cooperative_ids,
    may_manage,
)

from .models import Listing, Lot, NegotiatedPrice


# --- predicates -------------------------------------------------------------------------------
def cooperative_id_of(obj) -> int:
    """The cooperative a listing, lot or negotiated price belongs to."""
    if isinstance(obj, Listing):
        return obj.cooperative_id
    if isinstance(obj, Lot | NegotiatedPrice):
        return obj.listing.cooperative_id
    raise TypeError(f"No cooperative for {type(obj).__name__}")


def can_write(*, user, row) -> bool:
    """A listing, lot or negotiated price: staff, or a manager of its cooperative."""
    return may_manage(user=user, cooperative_id=cooperative_id_of(row))


def check_writes_for_cooperative(*, user, cooperative_id: int) -> None:
    """A new listing, lot or negotiated price: only for a cooperative the user manages."""
    check_manages(user=user, cooperative_id=cooperative_id)


def can_see_lot_households(*, user, lot: Lot) -> bool:
    """Which households supplied a lot is personal data: staff and the cooperative's
    managers."""
    return can_see_private_cooperative_data(user=user, cooperative_id=lot.listing.cooperative_id)


# --- scopes ------------------------------------------------------------------------------------
def listings_visible(*, user, queryset: QuerySet) -> QuerySet:
    """Buyers and partners see live listings (active or sold out) of active cooperatives; a
    manager also every listing of their own cooperatives; staff all; anonymous none."""
    if is_staff(user):
        return queryset
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    live = Q(status__in=Listing.LIVE_STATUSES, cooperative__is_active=True)
    return queryset.filter(live | Q(cooperative_id__in=managed_cooperative_ids(user=user)))


def listing_cache_scope(*, user) -> str | None:
    """The name of the listing scope a user shares with others, under which listing pages may
    be cached for all of them (products.catalog_cache); None for a scope of one's own. Buyers
    and partner systems all see exactly the live listings (listings_visible); a manager's
    list also holds their own cooperatives' drafts and staff see everything: never cached."""
    if not getattr(user, "is_authenticated", False) or is_staff(user) or is_manager(user):
        return None
    return SHARED_LISTING_SCOPE


SHARED_LISTING_SCOPE = "live"


def lots_by_household_visible(*, user, queryset: QuerySet) -> QuerySet:
    """Which lots a household supplied is household data: staff, and managers for their own
    cooperatives' households; for anyone else it matches nothing."""
    return households_visible(
        user=user, queryset=queryset, cooperative_field="listing__cooperative_id"
    )


def negotiated_prices_visible(*, user, queryset: QuerySet) -> QuerySet:
    """Staff, the listing's cooperative and the one buyer organisation it is for; no other
    buyer."""
    if is_staff(user):
        return queryset
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    if is_manager(user):
        return queryset.filter(listing__cooperative_id__in=managed_cooperative_ids(user=user))
    return queryset.filter(organisation_id=organisation_id_of(user=user))


# --- DRF permissions ---------------------------------------------------------------------------
class CatalogPermission(SignedInPermission):
    """The shared catalog (categories, certifications, products): every signed-in role reads
    it, platform staff write it."""

    def allows(self, request, view):
        return request.method in SAFE_METHODS or is_staff(request.user)


class CooperativeRowPermission(SignedInPermission):
    """Listings, lots and negotiated prices: every signed-in role reads what the scopes show;
    staff and managers write, managers only for their own cooperatives (per object here, on
    create by check_writes_for_cooperative)."""

    def allows(self, request, view):
        user = request.user
        return request.method in SAFE_METHODS or is_staff(user) or is_manager(user)

    def allows_object(self, request, view, obj):
        return request.method in SAFE_METHODS or can_write(user=request.user, row=obj)
