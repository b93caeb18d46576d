"""The beat job behind standing orders: each due period is placed once as a normal order, a
period missed while the job was down is caught up (or recorded as missed), and the
purchasing team is told whatever it did not get as asked."""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from backend import formatting, outbox
from backend.errors import DomainError
from backend.formatting import message
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


@dataclass(frozen=True)
class StandingReport:
    """What the purchasing team is told about a standing order, through the outbox (its
    members' inboxes and e-mail, each in the reader's language): ``subject`` and ``body``
    are lazy messages (backend.formatting.message), read once per reader. ``key`` names the
    cause, so it is told once."""

    standing: StandingOrder
    key: str
    subject: object
    body: object


def _notify_team(standing: StandingOrder, subject, body, *, key: str) -> None:
    """Written with the run, in its transaction: a rolled-back run tells nobody anything."""
    outbox.record("standing_order_report", [StandingReport(standing, key, subject, body)])


def _creators_language(standing: StandingOrder):
    """What the run keeps (its message, why it stopped, the order's note) reads in the
    language of the standing order's creator, in whose name it orders; e-mails are read in
    each recipient's."""
    return translation.override(standing.created_by.language_for_notices)


def _kept(standing: StandingOrder, text) -> str:
    with _creators_language(standing):
        return str(text)


def _notify_run(run: StandingOrderRun, body) -> None:
    subject = message(
        _("Standing order %(standing)s: %(outcome)s (%(period)s)"),
        {
            "standing": run.standing_order_id,
            "outcome": Outcome(run.outcome).label,  # lazy, read per recipient
            "period": formatting.date(run.period),
        },
    )
    _notify_team(run.standing_order, subject, body, key=f"standing_run:{run.pk}")


def why_stopped(standing: StandingOrder) -> str:
    """Why it may not run any more ("" if it may): it orders in its creator's name."""
    creator = standing.created_by
    if not creator.is_active:
        return message(_("Its creator %(name)s was deactivated."), {"name": creator.name})
    if not is_member_of(creator, standing.organisation_id):
        return message(_("Its creator %(name)s left the organisation."), {"name": creator.name})
    return ""


def _stop(standing: StandingOrder, reason: str) -> None:
    with transaction.atomic():
        StandingOrder.objects.filter(pk=standing.pk).update(
            is_active=False, stopped_reason=_kept(standing, reason)
        )
        subject = message(_("Standing order %(standing)s stopped"), {"standing": standing.pk})
        body = message(
            _(
                "Standing order %(standing)s will not be placed any more. %(reason)s Make a new "
                "one if the organisation still needs it."
            ),
            {"standing": standing.pk, "reason": reason},
        )
        _notify_team(standing, subject, body, key=f"standing_order:{standing.pk}:stopped")


def _policy(standing: StandingOrder) -> StandingRun:
    """A cap counts only while the approver who set it is still one of the organisation's."""
    setter = standing.approved_cap_by
    if not is_member_of(setter, standing.organisation_id, Membership.Role.APPROVER):
        return StandingRun()
    return StandingRun(cap=standing.approved_cap, cap_set_by=setter)


def _outcome(run: StandingOrderRun, placement):
    """The run's outcome, and its message (lazy: stored in one language, e-mailed in each)."""
    order = placement.order
    adjusted = formatting.join(pgettext_lazy("list separator", "; "), placement.adjusted)
    run.order = order
    if order is None:
        return message(
            _("Not placed: nothing could be ordered. %(adjusted)s"), {"adjusted": adjusted}
        )
    if placement.adjusted:
        run.outcome = Outcome.PARTIAL
        text = message(
            _("Order %(order)s placed in part: %(adjusted)s"),
            {"order": order.pk, "adjusted": adjusted},
        )
    else:
        run.outcome = Outcome.PLACED
        text = message(_("Order %(order)s placed."), {"order": order.pk})
    if order.status == FulfilmentStatus.PENDING_APPROVAL:
        waits = message(
            _("It comes to %(total)s, above the approval threshold, and waits for an approver."),
            {"total": formatting.money(order.total)},
        )
        text = formatting.join(" ", [text, waits])
    return text


def _refusal(exc: Exception):
    """What refused the whole run, as a lazy message: a domain error's message, or each
    field's messages of a validation error (the field paths are for machines)."""
    if isinstance(exc, DomainError):
        return exc.message
    errors = exc.error_dict.values() if hasattr(exc, "error_dict") else [exc.error_list]
    parts = [
        message(error.message, error.params or {})
        for field_errors in errors
        for error in field_errors
    ]
    return formatting.join(pgettext_lazy("list separator", "; "), parts)


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
            # Whatever the placement writes or says in words reads in the creator's language.
            with transaction.atomic(), _creators_language(standing):
                placement = order_place(
                    user=standing.created_by,
                    store=standing.store,
                    lines=lines,
                    requested_delivery_date=max(period, today)
                    + datetime.timedelta(days=standing.lead_days),
                    note=str(_("standing order %(standing)s") % {"standing": standing.pk}),
                    standing_order=standing,
                    policy=_policy(standing),
                )
        except (ValidationError, DomainError) as exc:
            text = message(_("Not placed: %(reason)s"), {"reason": _refusal(exc)})
        else:
            text = _outcome(run, placement)
        run.message = _kept(standing, text)
        run.save(update_fields=["order", "outcome", "message"])
        waits = run.order is not None and run.order.status == FulfilmentStatus.PENDING_APPROVAL
        if run.outcome != Outcome.PLACED or waits:
            _notify_run(run, text)  # the team has something to do: fill a gap, or approve
        return run


def _record_missed(standing: StandingOrder, periods: list[datetime.date]) -> int:
    """Periods too old to place now: a run row each (so they are not tried again) and one
    message to the team."""
    limit = settings.STANDING_ORDER_CATCH_UP_DAYS
    text = message(
        _("Not placed: the job did not run on the day, and it is more than %(days)s days ago."),
        {"days": limit},
    )
    stored = _kept(standing, text)
    recorded = []
    with transaction.atomic():
        for period in periods:
            try:
                with transaction.atomic():
                    StandingOrderRun.objects.create(
                        standing_order=standing,
                        period=period,
                        outcome=Outcome.MISSED,
                        message=stored,
                    )
                recorded.append(period)
            except IntegrityError as exc:
                if violated_constraint(exc) != ONCE_PER_PERIOD:
                    raise
                continue  # another job got there first
        if recorded:
            subject = message(
                _("Standing order %(standing)s: missed %(periods)s"),
                {
                    "standing": standing.pk,
                    "periods": formatting.join(
                        pgettext_lazy("list separator", ", "),
                        [formatting.date(period) for period in recorded],
                    ),
                },
            )
            key = f"standing_order:{standing.pk}:missed:{recorded[0].isoformat()}"
            _notify_team(standing, subject, text, key=key)
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
