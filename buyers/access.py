"""Who may see or do what with buyer organisations and stores, and which organisation a buyer
account acts for: the one place that says it. Products and orders ask ``membership_of`` /
``organisation_id_of``; views ask through the permission classes; selectors through the
scopes."""

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS

from accounts.access import SignedInPermission, is_buyer_account, is_staff
from backend.errors import Forbidden

from .models import Membership


# --- predicates -------------------------------------------------------------------------------
def membership_of(*, user) -> Membership | None:
    """The user's membership of a buyer organisation (buyers and partner systems), once per
    request."""
    if not is_buyer_account(user):
        return None
    if not hasattr(user, "_buyer_membership"):
        if type(user).buyer_membership.is_cached(user):  # loaded with the credential
            user._buyer_membership = getattr(user, "buyer_membership", None)
        else:
            user._buyer_membership = (
                Membership.objects.select_related("organisation").filter(user=user).first()
            )
    return user._buyer_membership


def organisation_id_of(*, user) -> int | None:
    membership = membership_of(user=user)
    return membership.organisation_id if membership else None


def is_member(user) -> bool:
    """A purchasing team member or its partner system: may order for its organisation."""
    return membership_of(user=user) is not None


def is_approver(user) -> bool:
    membership = membership_of(user=user)
    return membership is not None and membership.role == Membership.Role.APPROVER


def is_member_of(user, organisation_id: int, *roles: str) -> bool:
    """Is the user an active member of this organisation (in one of ``roles``, if given)?"""
    if user is None or not user.is_active:
        return False
    membership = membership_of(user=user)
    return (
        membership is not None
        and membership.organisation_id == organisation_id
        and (not roles or membership.role in roles)
    )


def may_write_store(*, user, organisation_id: int) -> bool:
    """Staff, or an approver of the store's organisation."""
    return is_staff(user) or is_member_of(user, organisation_id, Membership.Role.APPROVER)


def check_store_organisation(*, user, organisation_id: int) -> None:
    if not may_write_store(user=user, organisation_id=organisation_id):
        raise Forbidden(
            _("You can only add stores to your own organisation."),
            fields={"organisation": [_("Not your organisation.")]},
        )


# --- scopes ------------------------------------------------------------------------------------
def organisations_visible(*, user, queryset: QuerySet) -> QuerySet:
    """Staff see every organisation; members their own; nobody else any."""
    if is_staff(user):
        return queryset
    return queryset.filter(pk=organisation_id_of(user=user))


def organisation_rows_visible(*, user, queryset: QuerySet, field: str = "organisation_id"):
    """Rows that belong to an organisation (stores, orders, standing orders): staff see all,
    members their organisation's, nobody else any."""
    if is_staff(user):
        return queryset
    return queryset.filter(**{field: organisation_id_of(user=user)})


# --- DRF permissions ---------------------------------------------------------------------------
class BuyerOrganisationPermission(SignedInPermission):
    """Staff write; members read their own (organisations_visible scopes)."""

    def allows(self, request, view):
        return request.method in SAFE_METHODS or is_staff(request.user)


class StorePermission(SignedInPermission):
    """Members read their organisation's stores; staff and the organisation's approvers write
    them."""

    def allows(self, request, view):
        user = request.user
        return request.method in SAFE_METHODS or is_staff(user) or is_approver(user)

    def allows_object(self, request, view, obj):
        return request.method in SAFE_METHODS or may_write_store(
            user=request.user, organisation_id=obj.organisation_id
        )
