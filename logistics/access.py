"""Who may see or do what with delivery schedules, runs, manifests, shipments and delivery
notes: the one place that says it.

- Schedules: every signed-in role reads them (when the trucks go, the cut-offs); staff write.
- Runs: staff see all; a cooperative manager the runs carrying their cooperatives' parts; a
  purchasing team the runs carrying its organisation's parts. The manifest of a run lists
  only the rows the reader may see (``assignments_visible``): staff the whole truck, a
  manager their own cooperatives' parts, a buyer its own stores' — never another
  organisation's or cooperative's business.
- Shipments and delivery notes follow the fulfilment (orders.access.fulfilments_visible);
  recording or delaying a shipment is for the fulfilment's cooperative managers and staff.
"""

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS

from accounts.access import SignedInPermission, is_manager, is_staff
from backend.errors import Forbidden
from buyers.access import is_member, organisation_id_of
from orders.access import fulfilments_visible
from orders.models import Fulfilment
from suppliers.access import managed_cooperative_ids, may_manage


# --- predicates -------------------------------------------------------------------------------
def may_write_shipment(*, user, fulfilment: Fulfilment) -> bool:
    return is_staff(user) or may_manage(user=user, cooperative_id=fulfilment.cooperative_id)


def check_writes_shipment(*, user, fulfilment: Fulfilment) -> None:
    """The shipment of a part is its cooperative's (or staff's) to record and delay."""
    if not may_write_shipment(user=user, fulfilment=fulfilment):
        raise Forbidden(
            _("Only the cooperative's managers and staff record this part's shipment."),
            fields={"fulfilment": [_("Not a part of your cooperative.")]},
        )


def may_read_delivery_note(*, user, fulfilment_id: int) -> bool:
    """The delivery note names the buyer, the store and the lots: for the part's cooperative
    managers, the ordering organisation's members and staff — whoever sees the part."""
    return fulfilments_visible(
        user=user, queryset=Fulfilment.objects.filter(pk=fulfilment_id)
    ).exists()


# --- scopes ------------------------------------------------------------------------------------
def _visible_fulfilments(user) -> QuerySet:
    return fulfilments_visible(user=user, queryset=Fulfilment.objects.all())


def assignments_visible(*, user, queryset: QuerySet) -> QuerySet:
    """Manifest rows: staff all; managers their cooperatives'; buyers their organisation's."""
    if is_staff(user):
        return queryset
    organisation_id = organisation_id_of(user=user)
    if organisation_id is not None:
        return queryset.filter(fulfilment__order__organisation_id=organisation_id)
    return queryset.filter(fulfilment__cooperative_id__in=managed_cooperative_ids(user=user))


def runs_visible(*, user, queryset: QuerySet) -> QuerySet:
    """Staff see every run; others the runs carrying a part they may see."""
    if is_staff(user):
        return queryset
    organisation_id = organisation_id_of(user=user)
    if organisation_id is not None:
        carried = {"assignments__fulfilment__order__organisation_id": organisation_id}
    else:
        carried = {
            "assignments__fulfilment__cooperative_id__in": managed_cooperative_ids(user=user)
        }
    return queryset.filter(pk__in=queryset.model.objects.filter(**carried).values("pk"))


def shipments_visible(*, user, queryset: QuerySet) -> QuerySet:
    if is_staff(user):
        return queryset
    return queryset.filter(fulfilment__in=_visible_fulfilments(user).values("pk"))


def fulfilments_for_shipment(*, user) -> QuerySet:
    """The parts a shipment may name in a request body: those the user sees (another's is a
    400, as if it did not exist); check_writes_shipment then refuses a buyer's with 403."""
    return _visible_fulfilments(user)


# --- DRF permissions ---------------------------------------------------------------------------
def _is_party(user) -> bool:
    return is_staff(user) or is_manager(user) or is_member(user)


class SchedulePermission(SignedInPermission):
    """Everyone signed in reads schedules; staff define them."""

    def allows(self, request, view):
        return request.method in SAFE_METHODS or is_staff(request.user)


class RunPermission(SignedInPermission):
    """Staff, cooperative managers and purchasing teams; runs_visible scopes the rows."""

    def allows(self, request, view):
        return _is_party(request.user)


class ShipmentPermission(SignedInPermission):
    """Parties read (shipments_visible scopes the rows); staff and managers write (and
    check_writes_shipment says for which parts)."""

    def allows(self, request, view):
        user = request.user
        if request.method in SAFE_METHODS:
            return _is_party(user)
        return is_staff(user) or is_manager(user)


class DeliveryNotePermission(SignedInPermission):
    def allows(self, request, view):
        return _is_party(request.user)
