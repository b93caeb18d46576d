"""Who may see or do what with money: the one place that says it.

- Bank transfers: staff record them for any organisation; a buyer organisation's partner
  system records its own; the organisation's purchasing team reads them.
- Payments: staff, and the ordering organisation's team and partner system, read them;
  the organisation's team and partner system start paying an order (a card payment's
  client secret is for them, not for staff).
- Refunds: staff give them (a cancellation after payment, a shortfall, a quality
  rejection, an adjustment); staff and the paying organisation read them.
- Statements and household shares: staff read all; a cooperative's managers read their
  own. Households' personal data never reaches buyers or partner systems.
- Settlement runs, payouts and bank batches: staff only.
"""

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS

from accounts.access import SignedInPermission, is_manager, is_staff
from accounts.models import User
from backend.errors import Forbidden
from buyers.access import is_member, organisation_id_of
from buyers.access import organisation_rows_visible as _organisation_rows_visible
from suppliers.access import managed_cooperative_ids


# --- predicates -------------------------------------------------------------------------------
def is_partner(user) -> bool:
    return is_member(user) and user.role == User.Role.PARTNER


def may_record_transfer(*, user, organisation_id: int) -> bool:
    """Staff for any organisation; a partner system for its own."""
    return is_staff(user) or (is_partner(user) and organisation_id_of(user=user) == organisation_id)


def check_records_transfer(*, user, organisation_id: int) -> None:
    if not may_record_transfer(user=user, organisation_id=organisation_id):
        raise Forbidden(
            _("Only platform staff or the organisation's own partner system record transfers."),
            fields={"organisation": [_("Not your organisation.")]},
        )


def may_pay_order(*, user, organisation_id: int) -> bool:
    """The ordering organisation's purchasing team and partner system pay its orders."""
    return is_member(user) and organisation_id_of(user=user) == organisation_id


def check_pays_order(*, user, organisation_id: int) -> None:
    if not may_pay_order(user=user, organisation_id=organisation_id):
        raise Forbidden(
            _("Only the ordering organisation pays its orders."),
            fields={"order": [_("Not your organisation's order.")]},
        )


def check_gives_refunds(*, user) -> None:
    if not is_staff(user):
        raise Forbidden(_("Only platform staff give refunds."))


# --- scopes ------------------------------------------------------------------------------------
def organisation_rows_visible(*, user, queryset: QuerySet, field: str = "organisation_id"):
    return _organisation_rows_visible(user=user, queryset=queryset, field=field)


def cooperative_rows_visible(*, user, queryset: QuerySet, field: str = "cooperative_id"):
    """Statements and shares: staff see all, managers their cooperatives', nobody else any."""
    if is_staff(user):
        return queryset
    return queryset.filter(**{f"{field}__in": managed_cooperative_ids(user=user)})


def staff_rows_visible(*, user, queryset: QuerySet) -> QuerySet:
    return queryset if is_staff(user) else queryset.none()


# --- DRF permissions ---------------------------------------------------------------------------
class BankTransferPermission(SignedInPermission):
    """Staff and a buyer organisation's members read (scoped); staff and partner systems
    record."""

    def allows(self, request, view):
        user = request.user
        if request.method in SAFE_METHODS:
            return is_staff(user) or is_member(user)
        return is_staff(user) or is_partner(user)


class PaymentPermission(SignedInPermission):
    """Staff and the organisation read; only the organisation starts a payment."""

    def allows(self, request, view):
        if getattr(view, "action", None) == "create":
            return is_member(request.user)
        return is_staff(request.user) or is_member(request.user)


class RefundPermission(SignedInPermission):
    """Staff and the paying organisation read (scoped); staff give refunds."""

    def allows(self, request, view):
        if getattr(view, "action", None) == "create":
            return is_staff(request.user)
        return is_staff(request.user) or is_member(request.user)


class StatementPermission(SignedInPermission):
    """Statements name households and their shares: staff and cooperative managers only."""

    def allows(self, request, view):
        return is_staff(request.user) or is_manager(request.user)


class StaffPermission(SignedInPermission):
    def allows(self, request, view):
        return is_staff(request.user)
