"""Events a payment provider sends (Stripe's webhook): stored once by their id, processed by
a task after commit. Processing reads the payment or refund the event names from the
provider again (or, for a refund, its state in the event) and records it; so a duplicate, a
retry and deliveries out of order all end in the same state. Types nobody handles are
stored, marked processed and otherwise ignored."""

import datetime

from django.db import transaction
from django.utils import timezone

from ..models import Payment, ProviderEvent, Rail, Refund
from ..rails.stripe import REFUND_STATUS
from ..stripe_gateway import Event
from .cards import payment_refresh
from .collecting import refund_apply

PAYMENT_EVENTS = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "payment_intent.processing",
    "payment_intent.requires_action",
)
REFUND_EVENTS = ("refund.created", "refund.updated", "refund.failed")
# An event still unprocessed after this is queued again by the sweep.
STALE = datetime.timedelta(minutes=5)


def provider_event_record(event: Event) -> ProviderEvent:
    """Store a verified Stripe event once (by its id) and queue its processing after commit.
    A duplicate delivery of an event not yet processed queues it again (its first task may
    have been lost); processing is idempotent."""
    payload = {
        "id": event.id,
        "type": event.type,
        "created": event.created,
        "livemode": event.livemode,
        "account": event.account,
        "data": {"object": dict(event.data_object)},
    }
    row, _created = ProviderEvent.objects.get_or_create(
        provider=Rail.STRIPE,
        event_id=event.id,
        defaults={"type": event.type[:100], "payload": payload},
    )
    if row.processed_at is None:
        from .. import tasks  # tasks call services: imported when first needed

        # robust: a broker that is down must not fail the delivery; the sweep queues it later.
        transaction.on_commit(lambda: tasks.process_provider_event.delay(row.pk), robust=True)
    return row


def provider_event_process(*, event_pk: int) -> bool:
    """Record what one stored event says; False when it was processed before."""
    row = ProviderEvent.objects.get(pk=event_pk)
    if row.processed_at is not None:
        return False
    data_object = row.payload.get("data", {}).get("object", {})
    if row.type in PAYMENT_EVENTS:
        payment = Payment.objects.filter(
            rail=Rail.STRIPE, provider_reference=data_object.get("id") or "-"
        ).first()
        if payment is not None:
            payment_refresh(payment=payment)
    elif row.type in REFUND_EVENTS:
        refund = _refund_named(data_object)
        if refund is not None:
            refund_apply(
                refund=refund,
                status=REFUND_STATUS.get(data_object.get("status"), Refund.Status.PENDING),
                reference=data_object.get("id") or "",
            )
    ProviderEvent.objects.filter(pk=row.pk, processed_at=None).update(processed_at=timezone.now())
    return True


def events_unprocessed(*, older_than: datetime.timedelta = STALE) -> list[int]:
    """Stored events whose task was lost (the broker down when it was queued): the sweep's."""
    return list(
        ProviderEvent.objects.filter(processed_at=None, received_at__lt=timezone.now() - older_than)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _refund_named(data_object: dict) -> Refund | None:
    """Our refund by the provider's id, or (its answer not yet recorded) by the refund id
    we put in its metadata, if the refund is of the payment it names."""
    refunds = Refund.objects.filter(payment__rail=Rail.STRIPE)
    provider_id = data_object.get("id")
    if provider_id:
        refund = refunds.filter(provider_reference=provider_id).first()
        if refund is not None:
            return refund
    ours = str((data_object.get("metadata") or {}).get("refund") or "")
    if not (ours.isascii() and ours.isdigit() and len(ours) < 19):
        return None
    return refunds.filter(
        pk=int(ours),
        provider_reference__in=["", provider_id or ""],
        payment__provider_reference=data_object.get("payment_intent") or "-",
    ).first()
