"""Writes of buyer organisations, stores and memberships."""

from django.db import transaction

from accounts.models import User
from backend.errors import DomainError
from backend.services import model_create, model_update
from backend.validators import normalize_cn_phone

from .models import BuyerOrganisation, Membership, Store


def organisation_create(**data) -> BuyerOrganisation:
    data["contact_phone"] = normalize_cn_phone(data["contact_phone"])
    return model_create(BuyerOrganisation, **data)


def organisation_update(*, organisation: BuyerOrganisation, data: dict) -> BuyerOrganisation:
    data = dict(data)
    if data.get("contact_phone"):
        data["contact_phone"] = normalize_cn_phone(data["contact_phone"])
    organisation, _ = model_update(instance=organisation, data=data)
    return organisation


def store_create(**data) -> Store:
    if data.get("contact_phone"):
        data["contact_phone"] = normalize_cn_phone(data["contact_phone"])
    return model_create(Store, **data)


def store_update(*, store: Store, data: dict) -> Store:
    data = dict(data)
    if data.get("contact_phone"):
        data["contact_phone"] = normalize_cn_phone(data["contact_phone"])
    store, _ = model_update(instance=store, data=data)
    return store


@transaction.atomic
def membership_set(*, organisation: BuyerOrganisation, user: User, role: str) -> Membership:
    """Make a buyer (or partner system) a member of one organisation, with a role."""
    if user.role not in (User.Role.BUYER, User.Role.PARTNER):
        raise DomainError(
            "Only buyer accounts and partner systems join buyer organisations.",
            fields={"user": ["Not a buyer or partner account."]},
        )
    membership, _ = Membership.objects.update_or_create(
        user=user, defaults={"organisation": organisation, "role": role}
    )
    return membership
