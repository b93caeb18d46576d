"""Reads of cooperatives and households, scoped to what the user may see."""

from django.db.models import Q, QuerySet

from accounts.models import User

from .models import Cooperative, Household


def managed_cooperative_ids(*, user: User) -> frozenset[int]:
    """The cooperatives this user manages (empty for every other role), once per request."""
    if not user.is_authenticated or user.role != User.Role.COOPERATIVE_MANAGER:
        return frozenset()
    cached = getattr(user, "_managed_cooperative_ids", None)
    if cached is None:
        cached = frozenset(user.managed_cooperatives.values_list("id", flat=True))
        user._managed_cooperative_ids = cached
    return cached


def can_see_private_cooperative_data(*, user: User, cooperative_id: int) -> bool:
    if not user.is_authenticated:
        return False
    return user.role == User.Role.STAFF or cooperative_id in managed_cooperative_ids(user=user)


def cooperative_list(*, user: User) -> QuerySet[Cooperative]:
    """Staff see every cooperative; everyone else the active ones and those they manage."""
    qs = Cooperative.objects.all()
    if not user.is_authenticated:
        return qs.none()
    if user.role == User.Role.STAFF:
        return qs
    return qs.filter(Q(is_active=True) | Q(id__in=managed_cooperative_ids(user=user)))


def household_list(*, user: User) -> QuerySet[Household]:
    """Household personal data: staff see all, managers their own cooperatives', nobody else
    any."""
    qs = Household.objects.select_related("cooperative")
    if not user.is_authenticated:
        return qs.none()
    if user.role == User.Role.STAFF:
        return qs
    return qs.filter(cooperative_id__in=managed_cooperative_ids(user=user))
