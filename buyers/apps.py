from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BuyersConfig(AppConfig):
    name = "buyers"
    verbose_name = _("Buyers")

    def ready(self):
        from accounts import token_cache

        from .models import BuyerOrganisation, Membership, Store

        # A remembered bearer token carries its user's membership and organisation (the
        # authentication query reads them): changing either forgets the members' tokens.
        token_cache.watch(Membership, lambda membership: [membership.user_id])
        token_cache.watch(BuyerOrganisation, _members)
        # It carries their organisation's stores too (buyers.selectors.stores_preload).
        token_cache.watch(Store, _store_members)


def _members(organisation) -> list[int]:
    if organisation.pk is None:
        return []  # a new organisation has no members yet
    return list(organisation.memberships.values_list("user_id", flat=True))


def _store_members(store) -> list[int]:
    """The members of the store's organisation, and of the one it leaves if it moves."""
    from .models import Membership, Store

    organisations = {store.organisation_id}
    if store.pk is not None:
        organisations.update(
            Store.objects.filter(pk=store.pk).values_list("organisation_id", flat=True)
        )
    return list(
        Membership.objects.filter(organisation_id__in=organisations).values_list(
            "user_id", flat=True
        )
    )
