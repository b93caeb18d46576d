"""Thin tasks: they call a service and are safe to run twice (settlement settles each part
once, the overdue flag is once per order), so they are acknowledged late and requeued if
their worker dies mid-task (the project's Celery defaults, said again here on purpose)."""

from celery import shared_task

from .services.overdue import orders_flag_overdue
from .services.payouts import payout_send, payouts_due
from .services.settlement import settlement_run


@shared_task(acks_late=True, reject_on_worker_lost=True)
def settle_completed_fulfilments() -> int:
    """The daily settlement: one statement per cooperative for what completed and is paid."""
    return settlement_run().fulfilments_count


@shared_task(acks_late=True, reject_on_worker_lost=True)
def flag_overdue_orders() -> int:
    """The daily net-terms check: flag orders unpaid past their due date, once each."""
    return orders_flag_overdue()


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
