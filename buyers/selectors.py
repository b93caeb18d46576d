"""Reads of buyer organisations, scoped by buyers.access to what the user may see."""

from django.db.models import QuerySet

from accounts import token_cache
from accounts.access import is_staff

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


def stores_preload(*, user) -> None:
    """settings.AUTH_USER_PRELOAD: a purchasing team member's organisation's stores, read with
    the credential and kept on the user, so that a remembered token carries them and placing
    an order names its store without a query (issue 8). Only when tokens are remembered:
    otherwise it would cost a query on every request for the one that names a store.
    accounts/token_cache.py forgets the tokens when a store of the organisation is written,
    added, moved or deleted (buyers/apps.py)."""
    if not token_cache.enabled() or is_staff(user):
        return
    membership = access.membership_of(user=user)
    if membership is None:
        return
    stores = {}
    for store in Store.objects.filter(organisation_id=membership.organisation_id):
        store.organisation = membership.organisation  # the row the token carries already
        stores[store.pk] = store
    user._organisation_stores = stores


def stores_known(user) -> dict[int, Store] | None:
    """The stores store_list(user) holds, by id, when they came with the credential
    (stores_preload); None: ask store_list."""
    if user is None or is_staff(user):
        return None
    return getattr(user, "_organisation_stores", None)
