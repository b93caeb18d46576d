"""Standing orders: what a purchasing team asks for every week, checked as the buyer would see
it when ordering. Deactivated, never deleted, so their run history stays. The beat job that
places them is in standing_runs.py."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from backend.errors import Forbidden
from backend.services import model_create, model_update
from buyers.access import is_member_of, membership_of
from buyers.models import Membership
from products.models import quantity_text
from products.selectors import listing_list

from ..models import StandingOrder, StandingOrderLine
from .policies import LineRequest
from .standing_runs import standing_order_run, standing_orders_place_due, why_stopped

__all__ = [
    "standing_order_create",
    "standing_order_deactivate",
    "standing_order_run",
    "standing_order_update",
    "standing_orders_place_due",
]


def _line_requests(lines: list[dict]) -> list[LineRequest]:
    """Lines as the API ({"listing_id"}) or code ({"listing": Listing or id}) gives them."""
    requests = []
    for line in lines:
        listing = line["listing_id"] if "listing_id" in line else line["listing"]
        requests.append(LineRequest(getattr(listing, "pk", listing), line["quantity"]))
    return requests


def _check_lines(*, buyer: User, lines: list[LineRequest], lead_days: int) -> None:
    """Each line as the buyer would see it when ordering: a listing the buyer can see (one it
    cannot is refused word for word like one that does not exist, so ids cannot be probed),
    at least its minimum in whole increments, and ready within the standing order's lead
    days. Stock is not checked: it changes every week, and a run cuts what is short."""
    if not lines:
        raise ValidationError({"lines": _("A standing order needs at least one line.")})
    if len({line.listing_id for line in lines}) != len(lines):
        raise ValidationError({"lines": _("A listing appears on two lines; combine them.")})
    visible = listing_list(user=buyer).filter(pk__in=[line.listing_id for line in lines])
    listings = {listing.pk: listing for listing in visible}
    errors: dict[str, list[str]] = {}
    for index, line in enumerate(lines):
        at, listing = f"lines.{index}", listings.get(line.listing_id)
        if listing is None:
            errors[f"{at}.listing"] = [
                _("There is no listing %(listing)s.") % {"listing": line.listing_id}
            ]
            continue
        minimum, step = listing.min_order_quantity, listing.order_increment
        if line.quantity < minimum or (line.quantity - minimum) % step:
            errors[f"{at}.quantity"] = [
                _("Order %(minimum)s plus steps of %(step)s.")
                % {
                    "minimum": quantity_text(minimum, listing.unit),
                    "step": quantity_text(step, listing.unit),
                }
            ]
        if listing.lead_time_days > lead_days:
            errors[f"{at}.listing"] = [
                _(
                    "This listing needs %(minimum)s days to prepare: give the standing order "
                    "at least %(minimum)s lead days."
                )
                % {"minimum": listing.lead_time_days}
            ]
    if errors:
        raise ValidationError(errors)


def _check_cap_setter(*, user: User, organisation_id: int) -> None:
    """Only an approver of the organisation may pre-approve runs above its threshold."""
    if not is_member_of(user, organisation_id, Membership.Role.APPROVER):
        message = _("Only an approver of the organisation sets a pre-approved cap.")
        raise Forbidden(message, fields={"approved_cap": [message]})


def _changed_lines(standing: StandingOrder, lines: list[LineRequest]) -> bool:
    current = {(line.listing_id, line.quantity) for line in standing.lines.all()}
    return current != {(line.listing_id, line.quantity) for line in lines}


def _write_lines(standing: StandingOrder, lines: list[LineRequest]) -> None:
    StandingOrderLine.objects.bulk_create(
        StandingOrderLine(
            standing_order=standing, listing_id=line.listing_id, quantity=line.quantity
        )
        for line in lines
    )


@transaction.atomic
def standing_order_create(
    *,
    user: User,
    store,
    weekday: int,
    lines: list[dict],
    lead_days: int = 0,
    note: str = "",
    is_active: bool = True,
    approved_cap: Decimal | None = None,
) -> StandingOrder:
    """A purchasing team's recurring order, to one of its own stores."""
    membership = membership_of(user=user)
    if membership is None or store.organisation_id != membership.organisation_id:
        raise ValidationError({"store": _("Not a store of your organisation.")})
    requests = _line_requests(lines)
    _check_lines(buyer=user, lines=requests, lead_days=lead_days)
    if approved_cap is not None:
        _check_cap_setter(user=user, organisation_id=membership.organisation_id)
    standing = model_create(
        StandingOrder,
        organisation_id=store.organisation_id,
        store=store,
        created_by=user,
        weekday=weekday,
        lead_days=lead_days,
        note=note,
        is_active=is_active,
        approved_cap=approved_cap,
        approved_cap_by=user if approved_cap is not None else None,
    )
    _write_lines(standing, requests)
    return standing


@transaction.atomic
def standing_order_update(
    *, standing: StandingOrder, data: dict, user: User | None = None
) -> StandingOrder:
    """Change what, when and whether it runs. Lines are checked as on creating, against the
    lead days it will have; switching it back on, or moving it to another weekday, starts its
    runs from today, so no day already past is caught up; only an approver sets or clears the
    pre-approved cap, and lines changed by anyone else end it."""
    standing = StandingOrder.objects.select_for_update().get(pk=standing.pk)
    data = dict(data)
    lines = _line_requests(data.pop("lines")) if "lines" in data else None
    if lines is not None or "lead_days" in data:
        current = lines or _line_requests(standing.lines.values("listing_id", "quantity"))
        _check_lines(
            buyer=standing.created_by,
            lines=current,
            lead_days=data.get("lead_days", standing.lead_days),
        )
    if "approved_cap" in data and data["approved_cap"] != standing.approved_cap:
        _check_cap_setter(user=user, organisation_id=standing.organisation_id)
        data["approved_cap_by"] = user if data["approved_cap"] is not None else None
    elif (
        standing.approved_cap is not None
        and lines is not None
        and _changed_lines(standing, lines)
        and not is_member_of(user, standing.organisation_id, Membership.Role.APPROVER)
    ):
        # The cap pre-approved these goods: other goods, or more of them, wait for an approver.
        data.update(approved_cap=None, approved_cap_by=None)
    if data.get("is_active") and not standing.is_active:
        # It orders in its creator's name: with the creator gone it would only stop again.
        reason = why_stopped(standing)
        if reason:
            raise ValidationError(
                {"is_active": [reason + " " + _("Make a new standing order instead.")]}
            )
        data.update(runs_from=timezone.localdate(), stopped_reason="")
    elif "weekday" in data and data["weekday"] != standing.weekday:
        # The new day counts from today: a day already past this week is not a missed period
        # to catch up (the team would get two orders in one week).
        data["runs_from"] = max(standing.runs_from, timezone.localdate())
    standing, _changed = model_update(instance=standing, data=data)
    if lines is not None:
        standing.lines.all().delete()
        _write_lines(standing, lines)
    return standing


def standing_order_deactivate(*, standing: StandingOrder, reason: str = "") -> StandingOrder:
    """Stop it for good or for now; it and its runs stay (switch it back on by updating)."""
    standing, _changed = model_update(
        instance=standing, data={"is_active": False, "stopped_reason": reason}
    )
    return standing
