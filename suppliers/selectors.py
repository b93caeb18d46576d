"""Reads of cooperatives and households, scoped by suppliers.access to what the user may see."""

from django.db.models import QuerySet

from . import access
from .models import Cooperative, Household


def cooperative_list(*, user) -> QuerySet[Cooperative]:
    return access.cooperatives_visible(user=user, queryset=Cooperative.objects.all())


def household_list(*, user) -> QuerySet[Household]:
    return access.households_visible(
        user=user, queryset=Household.objects.select_related("cooperative")
    )


def household_choices() -> QuerySet[Household]:
    """Households a write may name (a lot's contributions). Not scoped: the access check on
    the listing (403) and lot_receive's rule that each is a member of the listing's
    cooperative (400) decide, in that order, with the more useful error."""
    return Household.objects.all()


def cooperative_choices() -> QuerySet[Cooperative]:
    """Cooperatives a write may name (a household's). Not scoped: suppliers.access refuses
    one the user does not manage with a 403 naming the field."""
    return Cooperative.objects.all()
