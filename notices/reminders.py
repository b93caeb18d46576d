"""Reminders, from a beat job: each is an event whose key names what it reminds of, so it is
written once however often the job runs (the outbox's unique constraint).

- a part nobody confirmed NOTICE_CONFIRM_REMINDER_HOURS after it reached the cooperative;
- a part due at its store tomorrow (the order's requested delivery date);
- a delivery run's cut-off within NOTICE_CUTOFF_REMINDER_HOURS, to each cooperative with
  parts still to confirm.
Payments falling overdue are told by the overdue job's own event (payment.overdue).
"""

import datetime

from django.conf import settings
from django.utils import timezone

from logistics.models import DeliveryRun, RunStatus
from orders.models import Fulfilment, FulfilmentStatus

from . import catalog
from .events import Event, names
from .services import notify

S = FulfilmentStatus


def _part_params(part: Fulfilment) -> dict:
    order = part.order
    return {
        "order": order.pk,
        "organisation": names(order.organisation),
        "store": order.store.name,
        "cooperative": names(part.cooperative),
        "total": part.subtotal,
        "date": order.requested_delivery_date or "",
    }


def _part_event(part: Fulfilment, key: str, type_: str) -> Event:
    return Event(
        key=key,
        type=type_,
        organisation_id=part.order.organisation_id,
        cooperative_id=part.cooperative_id,
        params=_part_params(part),
        payload={"order": part.order_id, "fulfilment": part.pk},
    )


def reminders_send(*, now: datetime.datetime | None = None) -> dict:
    now = now or timezone.now()
    parts = Fulfilment.objects.select_related("order__organisation", "order__store", "cooperative")
    events = []
    unconfirmed = parts.filter(
        status=S.PLACED,
        released_at__lte=now - datetime.timedelta(hours=settings.NOTICE_CONFIRM_REMINDER_HOURS),
    ).order_by("pk")
    events += [
        _part_event(p, f"reminder:confirm:{p.pk}", catalog.REMINDER_CONFIRM) for p in unconfirmed
    ]
    tomorrow = timezone.localdate(now) + datetime.timedelta(days=1)
    due = parts.filter(
        order__requested_delivery_date=tomorrow,
        status__in=[S.PLACED, S.CONFIRMED, S.PACKED, S.SHIPPED],
    ).order_by("pk")
    events += [
        _part_event(p, f"reminder:delivery:{p.pk}:{tomorrow}", catalog.REMINDER_DELIVERY_TOMORROW)
        for p in due
    ]
    runs = DeliveryRun.objects.filter(
        status=RunStatus.OPEN,
        cutoff_at__gt=now,
        cutoff_at__lte=now + datetime.timedelta(hours=settings.NOTICE_CUTOFF_REMINDER_HOURS),
    ).order_by("pk")
    waiting = (
        {
            (p.cooperative_id, p.cooperative.name_zh, p.cooperative.name_en)
            for p in parts.filter(status=S.PLACED)
        }
        if runs
        else set()
    )
    for run in runs:
        for cooperative_id, zh, en in sorted(waiting):
            events.append(
                Event(
                    key=f"reminder:cutoff:{run.pk}:{cooperative_id}",
                    type=catalog.REMINDER_RUN_CUTOFF,
                    cooperative_id=cooperative_id,
                    params={
                        "cooperative": {"zh": zh, "en": en or zh},
                        "date": run.cutoff_at,
                        "run": run.pk,
                    },
                    payload={"run": run.pk, "cooperative": cooperative_id},
                )
            )
    notices = notify(events=events) if events else []
    return {"events": len(events), "notices": len(notices)}
