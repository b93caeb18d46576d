"""Reads of buyer organisations, scoped by buyers.access to what the user may see."""

from django.db.models import QuerySet

from . import access
from .models import BuyerOrganisation, Store


def organisation_list(*, user) -> QuerySet[BuyerOrganisation]:
    return access.organisations_visible(user=user, queryset=BuyerOrganisation.objects.all())


def organisation_choices() -> QuerySet[BuyerOrganisation]:
    """Organisations a write may name (a store's, a negotiated price's). Not scoped: a
    cooperative gives prices to any buyer, and buyers.access refuses a store for another
    organisation with a 403 naming the field."""
    return BuyerOrganisation.objects.all()


def store_list(*, user) -> QuerySet[Store]:
    return access.organisation_rows_visible(
        user=user, queryset=Store.objects.select_related("organisation")
    )
