"""Standing orders: a beat job places each due occurrence as a normal order, once per period,
and tells the purchasing team when it could not place it in full."""

import datetime
import logging

from django.core.exceptions import ValidationError
from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.errors import DomainError
from backend.services import model_create, model_update
from buyers.access import membership_of

from ..models import StandingOrder, StandingOrderLine, StandingOrderRun
from .placement import LineRequest, order_place

logger = logging.getLogger(__name__)


@transaction.atomic
def standing_order_create(
    *,
    user,
    store,
    weekday: int,
    lines: list[dict],
    lead_days: int = 0,
    note: str = "",
    is_active: bool = True,
) -> StandingOrder:
    """A purchasing team's recurring order, to one of its own stores."""
    membership = membership_of(user=user)
    if membership is None or store.organisation_id != membership.organisation_id:
        raise ValidationError({"store": "Not a store of your organisation."})
    if not lines:
        raise ValidationError({"lines": "A standing order needs at least one line."})
    if len({line["listing"].pk for line in lines}) != len(lines):
        raise ValidationError({"lines": "A listing appears on two lines; combine them."})
    standing = model_create(
        StandingOrder,
        organisation_id=store.organisation_id,
        store=store,
        created_by=user,
        weekday=weekday,
        lead_days=lead_days,
        note=note,
        is_active=is_active,
    )
    StandingOrderLine.objects.bulk_create(
        StandingOrderLine(
            standing_order=standing, listing=line["listing"], quantity=line["quantity"]
        )
        for line in lines
    )
    return standing


def _notify_team(run: StandingOrderRun) -> None:
    """E-mail the organisation's members that have an address (console on the embedded
    default). Sent after commit, so a rolled-back run tells nobody anything."""
    standing = run.standing_order
    recipients = [
        m.user.email
        for m in standing.organisation.memberships.select_related("user")
        if m.user.email
    ]
    if not recipients:
        return
    subject = f"Standing order {standing.pk}: {run.get_outcome_display()} ({run.period})"
    body = run.message

    def send():
        try:
            send_mass_mail([(subject, body, None, recipients)], fail_silently=False)
        except Exception:
            logger.exception("could not e-mail standing order run %s", run.pk)

    transaction.on_commit(send)


def standing_order_run(
    *, standing: StandingOrder, period: datetime.date
) -> StandingOrderRun | None:
    """Place the occurrence of ``standing`` due on ``period``; None if it already ran. The run
    row is written first, in the same transaction, so two jobs cannot both place it."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                run = StandingOrderRun.objects.create(
                    standing_order=standing,
                    period=period,
                    outcome=StandingOrderRun.Outcome.FAILED,
                )
        except IntegrityError:
            return None  # this period already ran (or is running in another job)
        lines = [LineRequest(line.listing_id, line.quantity) for line in standing.lines.all()]
        try:
            with transaction.atomic():
                placement = order_place(
                    user=standing.created_by,
                    store=standing.store,
                    lines=lines,
                    requested_delivery_date=period + datetime.timedelta(days=standing.lead_days),
                    note=f"standing order {standing.pk}",
                    standing_order=standing,
                    partial=True,
                )
        except (ValidationError, DomainError) as exc:
            message = getattr(exc, "message", None) or "; ".join(
                f"{k}: {v}" for k, v in getattr(exc, "message_dict", {}).items()
            )
            run.message = f"Not placed: {message}"
        else:
            run.order = placement.order
            if placement.order is None:
                run.message = "Not placed: nothing could be ordered. " + "; ".join(
                    placement.adjusted
                )
            elif placement.adjusted:
                run.outcome = StandingOrderRun.Outcome.PARTIAL
                run.message = f"Order {placement.order.pk} placed in part: " + "; ".join(
                    placement.adjusted
                )
            else:
                run.outcome = StandingOrderRun.Outcome.PLACED
                run.message = f"Order {placement.order.pk} placed."
        run.save(update_fields=["order", "outcome", "message"])
        if run.outcome != StandingOrderRun.Outcome.PLACED:
            _notify_team(run)
        return run


def standing_orders_place_due(*, today: datetime.date | None = None) -> int:
    """Place every active standing order due today (its weekday, Asia/Shanghai)."""
    today = today or timezone.localdate()
    due = (
        StandingOrder.objects.filter(
            is_active=True, weekday=today.weekday(), organisation__is_active=True
        )
        .exclude(runs__period=today)
        .select_related("store", "created_by", "organisation")
    )
    placed = 0
    for standing in due:
        if standing_order_run(standing=standing, period=today) is not None:
            placed += 1
    return placed


def standing_order_update(*, standing: StandingOrder, data: dict) -> StandingOrder:
    """Change when and whether it runs (weekday, lead days, active, note)."""
    standing, _ = model_update(instance=standing, data=data)
    return standing
