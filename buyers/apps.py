from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BuyersConfig(AppConfig):
    name = "buyers"
    verbose_name = _("Buyers")

    def ready(self):
        from accounts import token_cache

        from .models import BuyerOrganisation, Membership

        # A remembered bearer token carries its user's membership and organisation (the
        # authentication query reads them): changing either forgets the members' tokens.
        token_cache.watch(Membership, lambda membership: [membership.user_id])
        token_cache.watch(BuyerOrganisation, _members)


def _members(organisation) -> list[int]:
    if organisation.pk is None:
        return []  # a new organisation has no members yet
    return list(organisation.memberships.values_list("user_id", flat=True))
