"""Reads of the catalog, scoped to what the user may see."""

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery

from accounts.models import User
from suppliers.selectors import managed_cooperative_ids

from .models import Category, Listing, Lot, LotContribution, PriceTier


def category_descendant_ids(*, category_id: int) -> list[int]:
    """The category and everything below it. The tree is small (tens of nodes): one query,
    walked in memory."""
    children: dict[int | None, list[int]] = {}
    for node_id, parent_id in Category.objects.values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(node_id)
    found, stack = [], [category_id]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(children.get(node, []))
    return found


def _base_price():
    """The unit price at the listing's lowest tier: what a buyer pays for the minimum order."""
    first_tier = PriceTier.objects.filter(listing=OuterRef("pk")).order_by("min_quantity")
    return Subquery(first_tier.values("unit_price")[:1])


def _visible_listings(*, user: User) -> QuerySet[Listing]:
    """Buyers and partners see live listings (active or sold out) of active cooperatives; a
    manager also sees every listing of their own cooperatives; staff see all."""
    qs = Listing.objects.all()
    if not user.is_authenticated:
        return qs.none()
    if user.role == User.Role.STAFF:
        return qs
    live = Q(status__in=Listing.LIVE_STATUSES, cooperative__is_active=True)
    return qs.filter(live | Q(cooperative_id__in=managed_cooperative_ids(user=user)))


def listing_list(*, user: User) -> QuerySet[Listing]:
    """Visible listings with everything the list shows, in a fixed number of queries."""
    return (
        _visible_listings(user=user)
        .select_related("product__category", "cooperative")
        .prefetch_related("tiers", "certifications")
        .annotate(base_price=_base_price())
    )


def lot_list(*, user: User) -> QuerySet[Lot]:
    """Lots behind the listings the user can see, with their household contributions."""
    contributions = LotContribution.objects.select_related("household").order_by("id")
    return (
        Lot.objects.filter(listing__in=_visible_listings(user=user))
        .select_related("listing")
        .prefetch_related(Prefetch("contributions", queryset=contributions))
    )
