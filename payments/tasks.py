"""Thin tasks: they call a service and are safe to run twice (settlement settles each part
once, the overdue flag is once per order, provider calls are keyed per effect), so they
are acknowledged late and requeued if their worker dies mid-task (the project's Celery
defaults, said again here on purpose)."""

from celery import shared_task

from .models import Refund
from .services import cards, events
from .services.overdue import orders_flag_overdue
from .services.payouts import payout_send, payouts_due
from .services.settlement import settlement_run
from .stripe_gateway import StripeUnavailable


@shared_task(acks_late=True, reject_on_worker_lost=True)
def settle_completed_fulfilments() -> int:
    """The daily settlement: one statement per cooperative for what completed and is paid."""
    return settlement_run().fulfilments_count


@shared_task(acks_late=True, reject_on_worker_lost=True)
def flag_overdue_orders() -> int:
    """The daily net-terms check: flag orders unpaid past their due date, once each."""
    return orders_flag_overdue()


# Stripe unreachable or off just now: try again later with the same keys.
PROVIDER_RETRY = {
    "autoretry_for": (StripeUnavailable,),
    "retry_backoff": 30,
    "retry_backoff_max": 3600,
    "max_retries": 10,
}


@shared_task(acks_late=True, reject_on_worker_lost=True, **PROVIDER_RETRY)
def process_provider_event(event_pk: int) -> bool:
    """A stored webhook event: read what it names from the provider again and record it."""
    return events.provider_event_process(event_pk=event_pk)


@shared_task(acks_late=True, reject_on_worker_lost=True, **PROVIDER_RETRY)
def send_refund(refund_pk: int) -> str:
    """Pay a recorded refund back through its provider (keyed: sending twice gives once)."""
    return cards.refund_send(refund=Refund.objects.get(pk=refund_pk)).status


@shared_task(acks_late=True, reject_on_worker_lost=True, **PROVIDER_RETRY)
def lower_payment(order_id: int) -> bool:
    """The order's total fell: take less, or refund the difference."""
    return cards.payment_lower(order_id=order_id) is not None


@shared_task(acks_late=True, reject_on_worker_lost=True)
def lower_card_payments() -> int:
    """Every few minutes: each provider payment that asks or took more than its order's
    total now, each provider refund whose send was lost, and each stored webhook event whose
    task was lost, queued as a task of its own."""
    orders = cards.payments_to_lower()
    for order_id in orders:
        lower_payment.delay(order_id)
    refunds = cards.refunds_unsent()
    for refund_pk in refunds:
        send_refund.delay(refund_pk)
    stored = events.events_unprocessed()
    for event_pk in stored:
        process_provider_event.delay(event_pk)
    return len(orders) + len(refunds) + len(stored)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_payout(payout_id: int) -> str:
    """Send one Stripe Connect payout if due: once, however often it runs (the row's lock
    and the Stripe idempotency key)."""
    return payout_send(payout_id=payout_id).status


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_due_payouts() -> int:
    """Every minute: queue a send for each payout whose attempt has come."""
    due = payouts_due()
    for payout_id in due:
        send_payout.delay(payout_id)
    return len(due)
