"""Who may see or do what with cooperatives and households: the one place that says it.

Views ask through the permission classes below, selectors through the scopes, serializers
through ``can_see_private_cooperative_data``, and products and orders through
``managed_cooperative_ids`` / ``may_manage``."""

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS

from accounts.access import SignedInPermission, is_manager, is_staff
from backend.errors import Forbidden

# What a cooperative's own managers may change on its profile; the rest (names, credit code,
# payout, commission, managers) is the platform's to verify.
MANAGER_PROFILE_FIELDS = frozenset({"min_order_value", "contact_phone"})


# --- predicates -------------------------------------------------------------------------------
def managed_cooperative_ids(*, user) -> frozenset[int]:
    """The cooperatives this user manages (empty for every other role), once per request."""
    if not is_manager(user):
        return frozenset()
    cached = getattr(user, "_managed_cooperative_ids", None)
    if cached is None:
        cached = frozenset(user.managed_cooperatives.values_list("id", flat=True))
        user._managed_cooperative_ids = cached
    return cached


def may_manage(*, user, cooperative_id: int) -> bool:
    """Staff, or a manager of this cooperative: who may write for it (its listings, lots,
    households, negotiated prices) and see its private data (payout details, households)."""
    return is_staff(user) or cooperative_id in managed_cooperative_ids(user=user)


def can_see_private_cooperative_data(*, user, cooperative_id: int) -> bool:
    return may_manage(user=user, cooperative_id=cooperative_id)


def check_manages(*, user, cooperative_id: int, field: str = "cooperative") -> None:
    """Refuse a write for a cooperative the user does not manage (403 naming the field)."""
    if not may_manage(user=user, cooperative_id=cooperative_id):
        raise Forbidden(
            _("You can only act for cooperatives you manage."),
            fields={field: [_("Not a cooperative you manage.")]},
        )


def check_profile_update(*, user, fields) -> None:
    """Managers change only their cooperative's order settings; staff change anything."""
    refused = set(fields) - MANAGER_PROFILE_FIELDS
    if refused and not is_staff(user):
        raise Forbidden(
            _(
                "Managers may change only their cooperative's minimum order value and contact "
                "phone; ask platform staff for the rest."
            ),
            fields={name: [_("Only platform staff change this.")] for name in sorted(refused)},
        )


# --- scopes (the selectors filter with these) --------------------------------------------------
def cooperatives_visible(*, user, queryset: QuerySet) -> QuerySet:
    """Staff see every cooperative; everyone else the active ones and those they manage."""
    if is_staff(user):
        return queryset
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    return queryset.filter(Q(is_active=True) | Q(id__in=managed_cooperative_ids(user=user)))


def households_visible(*, user, queryset: QuerySet, cooperative_field: str = "cooperative_id"):
    """Household personal data: staff see all, managers their own cooperatives', nobody else
    any. ``cooperative_field`` is the path to the cooperative from the queryset's model."""
    if is_staff(user):
        return queryset
    return queryset.filter(**{f"{cooperative_field}__in": managed_cooperative_ids(user=user)})


# --- DRF permissions: thin wrappers over the predicates ----------------------------------------
class CooperativePermission(SignedInPermission):
    """Every signed-in role reads; staff write; a manager may PATCH their own cooperative
    (check_profile_update says which fields)."""

    def allows(self, request, view):
        user = request.user
        return (
            request.method in SAFE_METHODS
            or is_staff(user)
            or (is_manager(user) and request.method == "PATCH")
        )

    def allows_object(self, request, view, obj):
        return request.method in SAFE_METHODS or may_manage(
            user=request.user, cooperative_id=obj.pk
        )


class HouseholdPermission(SignedInPermission):
    """Household personal data: only platform staff and cooperative managers, never buyers or
    partner systems; which households, households_visible says."""

    def allows(self, request, view):
        return is_staff(request.user) or is_manager(request.user)

    def allows_object(self, request, view, obj):
        return may_manage(user=request.user, cooperative_id=obj.cooperative_id)
