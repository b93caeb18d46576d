"""Who may see or do what with orders, fulfilments and standing orders: the one place that
says it. ``actors_for`` names the lifecycle actors a user is for a fulfilment (the table in
orders/lifecycle.py then says which moves those actors may make); the scopes say which rows
each role sees; the permission classes are thin wrappers for the views."""

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.access import SignedInPermission, is_manager, is_staff
from backend.errors import Forbidden
from buyers.access import is_member, membership_of, organisation_id_of, organisation_rows_visible
from buyers.models import Membership
from suppliers.access import can_see_private_cooperative_data, managed_cooperative_ids


# --- predicates -------------------------------------------------------------------------------
def actors_for(*, user, fulfilment) -> set[str]:
    """Which lifecycle actors this user is for this fulfilment (None is the system: beat
    jobs)."""
    if user is None:
        return {"system"}
    if is_staff(user):
        return {"staff"}
    actors = set()
    if fulfilment.cooperative_id in managed_cooperative_ids(user=user):
        actors.add("cooperative")
    membership = membership_of(user=user)
    if membership is not None and membership.organisation_id == fulfilment.order.organisation_id:
        actors.add("buyer")
        if membership.role == Membership.Role.APPROVER:
            actors.add("approver")
    return actors


def can_see_pick_list(*, user, fulfilment) -> bool:
    """The pick list names households: for the cooperative's managers and staff."""
    return can_see_private_cooperative_data(user=user, cooperative_id=fulfilment.cooperative_id)


def check_orders_for_organisation(*, user) -> Membership:
    """Orders and standing orders are placed by a purchasing team (or its partner system):
    answers its membership, or refuses."""
    membership = membership_of(user=user)
    if membership is None:
        raise Forbidden(_("Only members of a buyer organisation place orders."))
    return membership


# --- scopes ------------------------------------------------------------------------------------
def orders_visible(*, user, queryset: QuerySet) -> QuerySet:
    """Staff see every order; a purchasing team its organisation's; nobody else any."""
    return organisation_rows_visible(user=user, queryset=queryset)


def standing_orders_visible(*, user, queryset: QuerySet) -> QuerySet:
    return organisation_rows_visible(user=user, queryset=queryset)


def purchase_imports_visible(*, user, queryset: QuerySet) -> QuerySet:
    """Purchase lists, as orders: staff see all, a purchasing team its organisation's; only
    the team places them (check_orders_for_organisation)."""
    return organisation_rows_visible(user=user, queryset=queryset)


def fulfilments_visible(*, user, queryset: QuerySet) -> QuerySet:
    """Staff see all; a purchasing team its organisation's; a cooperative its parts once they
    are its to act on (placed, or released by the approver)."""
    if is_staff(user):
        return queryset
    organisation_id = organisation_id_of(user=user)
    if organisation_id is not None:
        return queryset.filter(order__organisation_id=organisation_id)
    return queryset.filter(
        cooperative_id__in=managed_cooperative_ids(user=user), released_at__isnull=False
    )


# --- DRF permissions ---------------------------------------------------------------------------
class PurchasingTeamPermission(SignedInPermission):
    """Orders and standing orders: purchasing teams (and their partner systems) and platform
    staff; orders_visible scopes the rows, the lifecycle table the moves."""

    def allows(self, request, view):
        return is_staff(request.user) or is_member(request.user)


class FulfilmentPermission(SignedInPermission):
    """Staff, cooperative managers and purchasing teams; fulfilments_visible scopes what each
    sees, actors_for and the lifecycle table what each may do."""

    def allows(self, request, view):
        user = request.user
        return is_staff(user) or is_manager(user) or is_member(user)
