"""Reads of buyer organisations, scoped to what the user may see."""

from django.db.models import QuerySet

from accounts.models import User

from .models import BuyerOrganisation, Membership, Store


def membership_of(*, user: User) -> Membership | None:
    """The user's membership of a buyer organisation (buyers and partner systems), once per
    request."""
    if not user.is_authenticated or user.role not in (User.Role.BUYER, User.Role.PARTNER):
        return None
    if not hasattr(user, "_buyer_membership"):
        user._buyer_membership = (
            Membership.objects.select_related("organisation").filter(user=user).first()
        )
    return user._buyer_membership


def organisation_id_of(*, user: User) -> int | None:
    membership = membership_of(user=user)
    return membership.organisation_id if membership else None


def organisation_list(*, user: User) -> QuerySet[BuyerOrganisation]:
    """Staff see every organisation; members their own."""
    qs = BuyerOrganisation.objects.all()
    if user.is_authenticated and user.role == User.Role.STAFF:
        return qs
    return qs.filter(pk=organisation_id_of(user=user))


def store_list(*, user: User) -> QuerySet[Store]:
    qs = Store.objects.select_related("organisation")
    if user.is_authenticated and user.role == User.Role.STAFF:
        return qs
    return qs.filter(organisation_id=organisation_id_of(user=user))
