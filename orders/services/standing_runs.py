"""The beat job behind standing orders: each due period is placed once as a normal order, a
period missed while the job was down is caught up (or recorded as missed), and the
purchasing team is told whatever it did not get as asked."""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.errors import DomainError
from backend.integrity import violated_constraint
from buyers.access import is_member_of
from buyers.models import Membership

from ..models import FulfilmentStatus, StandingOrder, StandingOrderRun
from .placement import LineRequest, StandingRun, order_place

logger = logging.getLogger(__name__)

# The one constraint whose violation means "this period already has its run".
ONCE_PER_PERIOD = "standing_run_once_per_period"
WEEK = datetime.timedelta(days=7)
Outcome = StandingOrderRun.Outcome


def _notify_team(standing: StandingOrder, subject: str, body: str) -> None:
    """E-mail the organisation's members that have an address (console on the embedded
    default). Sent after commit, so a rolled-back run tells nobody anything."""
    recipients = [
        m.user.email
        for m in standing.organisation.memberships.select_related("user")
        if m.user.email and m.user.is_active
    ]
    if not recipients:
        return

    def send():
        try:
            send_mass_mail([(subject, body, None, recipients)], fail_silently=False)
        except Exception:
            logger.exception("could not e-mail about standing order %s", standing.pk)

    transaction.on_commit(send)


def _notify_run(run: StandingOrderRun) -> None:
    subject = _("Standing order %(standing)s: %(outcome)s (%(period)s)") % {
        "standing": run.standing_order_id,
        "outcome": run.get_outcome_display(),
        "period": run.period,
    }
    _notify_team(run.standing_order, subject, run.message)


def why_stopped(standing: StandingOrder) -> str:
    """Why it may not run any more ("" if it may): it orders in its creator's name."""
    creator = standing.created_by
    if not creator.is_active:
        return _("Its creator %(name)s was deactivated.") % {"name": creator.name}
    if not is_member_of(creator, standing.organisation_id):
        return _("Its creator %(name)s left the organisation.") % {"name": creator.name}
    return ""


def _stop(standing: StandingOrder, reason: str) -> None:
    with transaction.atomic():
        StandingOrder.objects.filter(pk=standing.pk).update(is_active=False, stopped_reason=reason)
        subject = _("Standing order %(standing)s stopped") % {"standing": standing.pk}
        body = _(
            "Standing order %(standing)s will not be placed any more. %(reason)s Make a new "
            "one if the organisation still needs it."
        ) % {"standing": standing.pk, "reason": reason}
        _notify_team(standing, subject, body)


def _policy(standing: StandingOrder) -> StandingRun:
    """A cap counts only while the approver who set it is still one of the organisation's."""
    setter = standing.approved_cap_by
    if not is_member_of(setter, standing.organisation_id, Membership.Role.APPROVER):
        return StandingRun()
    return StandingRun(cap=standing.approved_cap, cap_set_by=setter)


def _outcome(run: StandingOrderRun, placement) -> None:
    order, adjusted = placement.order, "; ".join(placement.adjusted)
    run.order = order
    if order is None:
        run.message = _("Not placed: nothing could be ordered. %(adjusted)s") % {
            "adjusted": adjusted
        }
        return
    if adjusted:
        run.outcome = Outcome.PARTIAL
        run.message = _("Order %(order)s placed in part: %(adjusted)s") % {
            "order": order.pk,
            "adjusted": adjusted,
        }
    else:
        run.outcome = Outcome.PLACED
        run.message = _("Order %(order)s placed.") % {"order": order.pk}
    if order.status == FulfilmentStatus.PENDING_APPROVAL:
        run.message += " " + _(
            "It comes to ¥%(total)s, above the approval threshold, and waits for an approver."
        ) % {"total": order.total}


def standing_order_run(
    *, standing: StandingOrder, period: datetime.date, today: datetime.date | None = None
) -> StandingOrderRun | None:
    """Place the occurrence of ``standing`` due on ``period``; None if it already ran. The run
    row is written first, in the same transaction, so two jobs cannot both place it. A
    period placed late asks for delivery as many days after today as it gives normally."""
    today = today or timezone.localdate()
    with transaction.atomic():
        try:
            with transaction.atomic():
                run = StandingOrderRun.objects.create(
                    standing_order=standing, period=period, outcome=Outcome.FAILED
                )
        except IntegrityError as exc:
            if violated_constraint(exc) != ONCE_PER_PERIOD:
                raise  # a bug, not the race this guards against
            return None  # this period already ran (or is running in another job)
        lines = [LineRequest(line.listing_id, line.quantity) for line in standing.lines.all()]
        try:
            with transaction.atomic():
                placement = order_place(
                    user=standing.created_by,
                    store=standing.store,
                    lines=lines,
                    requested_delivery_date=max(period, today)
                    + datetime.timedelta(days=standing.lead_days),
                    note=_("standing order %(standing)s") % {"standing": standing.pk},
                    standing_order=standing,
                    policy=_policy(standing),
                )
        except (ValidationError, DomainError) as exc:
            message = getattr(exc, "message", None) or "; ".join(
                f"{k}: {' '.join(map(str, v))}" for k, v in getattr(exc, "message_dict", {}).items()
            )
            run.message = _("Not placed: %(reason)s") % {"reason": message}
        else:
            _outcome(run, placement)
        run.save(update_fields=["order", "outcome", "message"])
        waits = run.order is not None and run.order.status == FulfilmentStatus.PENDING_APPROVAL
        if run.outcome != Outcome.PLACED or waits:
            _notify_run(run)  # the team has something to do: fill a gap, or approve
        return run


def _record_missed(standing: StandingOrder, periods: list[datetime.date]) -> int:
    """Periods too old to place now: a run row each (so they are not tried again) and one
    message to the team."""
    limit = settings.STANDING_ORDER_CATCH_UP_DAYS
    message = _(
        "Not placed: the job did not run on the day, and it is more than %(days)s days ago."
    ) % {"days": limit}
    recorded = []
    with transaction.atomic():
        for period in periods:
            try:
                with transaction.atomic():
                    StandingOrderRun.objects.create(
                        standing_order=standing,
                        period=period,
                        outcome=Outcome.MISSED,
                        message=message,
                    )
                recorded.append(str(period))
            except IntegrityError as exc:
                if violated_constraint(exc) != ONCE_PER_PERIOD:
                    raise
                continue  # another job got there first
        if recorded:
            subject = _("Standing order %(standing)s: missed %(periods)s") % {
                "standing": standing.pk,
                "periods": ", ".join(recorded),
            }
            _notify_team(standing, subject, message)
    return len(recorded)


def _due_periods(standing: StandingOrder, today: datetime.date) -> list[datetime.date]:
    """Its weekdays from when it started running (or the period after its last run) through
    today."""
    start = standing.runs_from
    if standing.last_period is not None:
        start = max(start, standing.last_period + datetime.timedelta(days=1))
    period = start + datetime.timedelta(days=(standing.weekday - start.weekday()) % 7)
    periods = []
    while period <= today:
        periods.append(period)
        period += WEEK
    return periods


def _place_standing(standing: StandingOrder, today: datetime.date) -> int:
    reason = why_stopped(standing)
    if reason:
        _stop(standing, reason)
        return 0
    limit = datetime.timedelta(days=settings.STANDING_ORDER_CATCH_UP_DAYS)
    periods = _due_periods(standing, today)
    _record_missed(standing, [p for p in periods if today - p > limit])
    placed = 0
    for period in (p for p in periods if today - p <= limit):
        if standing_order_run(standing=standing, period=period, today=today) is not None:
            placed += 1
    return placed


def standing_orders_place_due(*, today: datetime.date | None = None) -> int:
    """Place every active standing order's periods due through today (Asia/Shanghai),
    catching up those the job missed within STANDING_ORDER_CATCH_UP_DAYS. One standing
    order that fails is logged and left for the next run; the others go on."""
    today = today or timezone.localdate()
    standing_orders = (
        StandingOrder.objects.filter(is_active=True, organisation__is_active=True)
        .annotate(last_period=Max("runs__period"))
        .select_related("store", "created_by", "organisation", "approved_cap_by")
        .order_by("pk")
    )
    placed = 0
    for standing in standing_orders:
        try:
            with transaction.atomic():  # all of one standing order's periods, or none
                placed += _place_standing(standing, today)
        except Exception:
            logger.exception("standing order %s failed; it is tried again next run", standing.pk)
    return placed
