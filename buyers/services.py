"""Writes of buyer organisations, stores and memberships."""

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.access import is_buyer_account
from accounts.models import User
from backend.errors import DomainError
from backend.services import model_create, model_update

from .models import BuyerOrganisation, Membership, Store


def organisation_create(**data) -> BuyerOrganisation:
    return model_create(BuyerOrganisation, **data)


def organisation_update(*, organisation: BuyerOrganisation, data: dict) -> BuyerOrganisation:
    organisation, _changed = model_update(instance=organisation, data=data)
    return organisation


def store_create(**data) -> Store:
    return model_create(Store, **data)


def store_update(*, store: Store, data: dict) -> Store:
    store, _changed = model_update(instance=store, data=data)
    return store


@transaction.atomic
def membership_set(*, organisation: BuyerOrganisation, user: User, role: str) -> Membership:
    """Make a buyer (or partner system) a member of one organisation, with a role."""
    if not is_buyer_account(user):
        raise DomainError(
            _("Only buyer accounts and partner systems join buyer organisations."),
            fields={"user": [_("Not a buyer or partner account.")]},
        )
    membership, _created = Membership.objects.update_or_create(
        user=user, defaults={"organisation": organisation, "role": role}
    )
    return membership
