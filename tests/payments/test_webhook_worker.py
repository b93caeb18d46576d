"""The webhook's processing by a real Celery worker on Redis: Stripe delivers a signed event
over HTTP, the endpoint stores it once and queues its task after commit, and the worker
records the payment collected, once, however often Stripe delivers it."""

from decimal import Decimal

import pytest

from orders.services import transitions
from payments.ledger import balance
from payments.models import Account, LedgerTransaction, Payment, ProviderEvent
from payments.services.cards import payment_start
from payments.tasks import process_provider_event
from tests.conftest import wait_for
from tests.factories import place_order

WEBHOOK = "/api/v1/payments/stripe/webhook/"


def test_the_event_task_is_acknowledged_late_and_retried_when_stripe_is_away():
    assert process_provider_event.acks_late and process_provider_event.reject_on_worker_lost
    assert process_provider_event.max_retries and process_provider_event.autoretry_for


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_records_a_card_payment_once(
    worker, finished_tasks, live_server, fake_stripe, purchaser_user, store, honey, staff_user
):
    order = place_order(purchaser_user, store, (honey, "10"))
    transitions.fulfilment_confirm(fulfilment=order.fulfilments.get(), user=staff_user)
    order.refresh_from_db()
    _payment, outcome, _created = payment_start(user=purchaser_user, order=order, rail="stripe")
    fake_stripe.confirm(outcome.reference)
    [succeeded] = fake_stripe.events("payment_intent.succeeded")

    for _ in range(3):  # Stripe retries a delivery it thinks was lost
        assert fake_stripe.deliver(succeeded, live_server.url + WEBHOOK) == 200

    def processed():
        return [r for n, r in finished_tasks if n == process_provider_event.name]

    assert wait_for(lambda: len(processed()) >= 1 and Payment.objects.get().status == "collected")
    assert ProviderEvent.objects.get().processed_at is not None
    assert Payment.objects.get().amount_collected == Decimal("680.00")
    # A delivery that came before the first task finished queued another: those found the
    # event processed and changed nothing.
    assert processed().count(True) == 1 and set(processed()) <= {True, False}
    assert balance(account=Account.CASH) == Decimal("680.00")
    assert LedgerTransaction.objects.filter(kind="payment_collected").count() == 1
