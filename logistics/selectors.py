"""Reads of logistics, scoped by logistics.access to what the user may see."""

from collections import defaultdict

from django.db.models import QuerySet

from accounts.models import User
from orders.lifecycle import ENDED
from orders.models import Fulfilment, PickAllocation
from orders.selectors import fulfilment_list, pick_list

from . import access
from .models import DeliveryRun, DeliverySchedule, RunAssignment, Shipment


def schedule_list() -> QuerySet[DeliverySchedule]:
    return DeliverySchedule.objects.order_by("pk")


def run_list(*, user: User) -> QuerySet[DeliveryRun]:
    return access.runs_visible(
        user=user, queryset=DeliveryRun.objects.select_related("schedule")
    ).order_by("-departs_at", "-pk")


def manifest(*, user: User, run: DeliveryRun) -> list[dict]:
    """The run's stops in order, one row per fulfilment the user may see: the store, its
    address and contact, the cooperative, and the shipment's packages and weight (empty until
    the cooperative records the shipment). Parts cancelled or rejected after they were
    assigned do not travel and are left out."""
    travelling = RunAssignment.objects.filter(run=run).exclude(fulfilment__status__in=ENDED)
    rows = access.assignments_visible(user=user, queryset=travelling).select_related(
        "fulfilment__order__store",
        "fulfilment__order__organisation",
        "fulfilment__cooperative",
        "fulfilment__shipment",
    )
    out = []
    for assignment in rows.order_by("stop", "fulfilment_id"):
        fulfilment = assignment.fulfilment
        order, store = fulfilment.order, fulfilment.order.store
        shipment = getattr(fulfilment, "shipment", None)
        out.append(
            {
                "stop": assignment.stop,
                "fulfilment": fulfilment.pk,
                "order": order.pk,
                "status": fulfilment.status,
                "cooperative": fulfilment.cooperative.name_zh,
                "buyer": order.organisation.name_zh,
                "store": store.name,
                "address": store.address,
                "contact_name": store.contact_name,
                "contact_phone": store.contact_phone,
                "package_count": shipment.package_count if shipment else None,
                "weight_kg": shipment.weight_kg if shipment else None,
                "tracking_number": shipment.tracking_number if shipment else "",
            }
        )
    return out


def shipment_list(*, user: User) -> QuerySet[Shipment]:
    return access.shipments_visible(
        user=user, queryset=Shipment.objects.select_related("fulfilment")
    ).order_by("-pk")


def quantity_text(quantity) -> str:
    """10.000 → "10", 12.500 → "12.5": how a person writes a quantity on paper."""
    text = f"{quantity:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def delivery_note(*, user: User, fulfilment_id: int) -> dict | None:
    """Everything the printed delivery note shows, or None when the user may not see the
    part. Lots and quantities come from the pick list; the households behind the lots stay
    off a paper that travels with a driver."""
    fulfilment = (
        fulfilment_list(user=user)
        .select_related("run_assignment__run__schedule", "shipment")
        .filter(pk=fulfilment_id)
        .first()
    )
    if fulfilment is None:
        return None
    picks = {entry["line"]: entry["lots"] for entry in pick_list(fulfilment=fulfilment)}
    lines = [
        {
            "line": line,
            "product": line.listing.product,
            "quantity": quantity_text(line.effective_quantity),
            "unit": line.listing.get_unit_display(),
            "lots": [
                {**lot, "quantity": quantity_text(lot["quantity"])}
                for lot in picks.get(line.pk, [])
            ],
        }
        for line in fulfilment.lines.all()
    ]
    assignment = getattr(fulfilment, "run_assignment", None)
    return {
        "fulfilment": fulfilment,
        "order": fulfilment.order,
        "organisation": fulfilment.order.organisation,
        "store": fulfilment.order.store,
        "cooperative": fulfilment.cooperative,
        "assignment": assignment,
        "run": assignment.run if assignment else None,
        "shipment": getattr(fulfilment, "shipment", None),
        "lines": lines,
    }


def fulfilment_visible(*, user: User, fulfilment_id: int) -> Fulfilment | None:
    return fulfilment_list(user=user).filter(pk=fulfilment_id).first()


def active_user(*, user_id: int) -> User | None:
    return User.objects.filter(pk=user_id, is_active=True).first()


def delivery_note_parts(*, user: User) -> QuerySet[Fulfilment]:
    """The fulfilments whose delivery notes the user may read (as DeliveryNoteView)."""
    return fulfilment_list(user=user).order_by("pk")


def delivery_note_lines(*, fulfilments: list[Fulfilment]) -> list[dict]:
    """Every line of these delivery notes, one entry per lot it was drawn from at packing
    (before packing, one entry without a lot: the paper note proposes lots, an export states
    what was drawn). Two queries whatever the number of parts: their lines came with them."""
    lines = [line for fulfilment in fulfilments for line in fulfilment.lines.all()]
    picks = defaultdict(list)
    for pick in PickAllocation.objects.filter(line__in=lines).select_related("lot").order_by("pk"):
        picks[pick.line_id].append(pick)
    out = []
    for fulfilment in fulfilments:
        base = {
            "fulfilment": fulfilment.pk,
            "order": fulfilment.order_id,
            "store": fulfilment.order.store.name,
            "cooperative": fulfilment.cooperative.name_zh,
        }
        for line in fulfilment.lines.all():
            entry = {
                **base,
                "listing": line.listing_id,
                "product": line.listing.product.name_zh,
                "unit": line.listing.get_unit_display(),
            }
            drawn = picks.get(line.pk) or [None]
            for pick in drawn:
                out.append(
                    {
                        **entry,
                        "lot": pick.lot.code if pick else "",
                        "quantity": pick.quantity if pick else line.effective_quantity,
                    }
                )
    return out
