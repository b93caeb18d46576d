"""Card payments through the Stripe rail (payments/rails/stripe.py, payments/services/cards.py
and events.py), against the fake Stripe over HTTP with the real SDK: a buyer starts paying an
order once its cooperatives confirmed, the webhook's events (signed with Stripe's scheme)
are stored once and processed to the same state however they arrive, and a total that falls
lowers what is taken (a new intent) or refunds the difference (after payment)."""

import datetime
import json
import random
from decimal import Decimal

import pytest

from orders.services import transitions
from payments import stripe_gateway
from payments.ledger import balance
from payments.models import Account, Payment, ProviderEvent, Refund
from payments.rails import PAYMENT_RAILS
from payments.services import cards, events
from payments.services.collecting import refund_record
from payments.tasks import lower_payment, process_provider_event, send_refund
from tests.conftest import assert_error
from tests.factories import place_order

pytestmark = pytest.mark.django_db
PAYMENTS = "/api/v1/payments/"
WEBHOOK = "/api/v1/payments/stripe/webhook/"


@pytest.fixture
def confirmed_order(purchaser_user, store, honey, staff_user):
    """20 kg of honey at 68.00, confirmed in full: 1,360.00 to pay."""
    order = place_order(purchaser_user, store, (honey, "20"))
    transitions.fulfilment_confirm(fulfilment=order.fulfilments.get(), user=staff_user)
    order.refresh_from_db()
    return order


def start(client, order, rail="stripe", **headers):
    return client.post(PAYMENTS, {"order": order.pk, "rail": rail}, format="json", **headers)


def deliver_events(client, fake, events):
    """Each event POSTed to the webhook, signed, then its stored row processed by the task's
    function (the worker's part: test_webhook_worker.py runs a real one)."""
    for event in events:
        response = client.post(
            WEBHOOK,
            data=fake.signed(event)[0],
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=fake.signed(event)[1],
        )
        assert response.status_code == 200, response.content
    for row in ProviderEvent.objects.order_by("pk"):
        process_provider_event(row.pk)


def take_through_delivery(order, staff_user, honey, accepted="15"):
    fulfilment = order.fulfilments.get()
    line = fulfilment.lines.get()
    transitions.fulfilment_pack(fulfilment=fulfilment, user=staff_user)
    transitions.fulfilment_ship(fulfilment=fulfilment, user=staff_user)
    transitions.fulfilment_deliver(
        fulfilment=fulfilment,
        user=staff_user,
        accepted={line.pk: (Decimal(accepted), "quality", "5 kg crystallised")},
    )
    order.refresh_from_db()
    return order


def test_the_stripe_rail_is_registered_and_off_without_a_key(settings):
    settings.STRIPE_API_KEY = ""
    assert not PAYMENT_RAILS["stripe"].is_available()


def test_a_buyer_starts_a_card_payment_and_gets_the_same_intent_again(
    purchaser, confirmed_order, fake_stripe
):
    response = start(purchaser, confirmed_order)
    assert response.status_code == 201, response.content
    body = response.json()
    client = body["client"]
    assert client["client_secret"].startswith(client["payment_intent"] + "_secret_")
    assert (client["amount"], client["currency"], client["status"]) == (
        "1360.00",
        "cny",
        "requires_payment_method",
    )
    assert (body["rail"], body["status"], body["amount"]) == ("stripe", "pending", "1360.00")
    [intent] = fake_stripe.objects("payment_intent")
    assert (intent["amount"], intent["capture_method"]) == (136000, "automatic")
    assert intent["metadata"]["order"] == str(confirmed_order.pk)

    again = start(purchaser, confirmed_order)
    assert again.status_code == 200 and again.json()["client"] == client
    assert len(fake_stripe.objects("payment_intent")) == 1
    assert Payment.objects.get().provider_reference == intent["id"]


def test_paying_waits_for_the_cooperatives(purchaser, purchaser_user, store, honey, fake_stripe):
    order = place_order(purchaser_user, store, (honey, "20"))
    assert_error(start(purchaser, order), 409, "conflict", field="order")
    assert not Payment.objects.exists() and fake_stripe.objects("payment_intent") == []


def test_without_keys_the_rail_answers_503_and_writes_nothing(purchaser, confirmed_order, settings):
    settings.STRIPE_API_KEY = ""
    assert_error(start(purchaser, confirmed_order), 503, "rail_unavailable")
    assert not Payment.objects.exists()
    # Bank transfer still works: where to send the money.
    bank = start(purchaser, confirmed_order, rail="bank_transfer")
    assert bank.status_code == 201 and bank.json()["client"]["purpose"].endswith(
        str(confirmed_order.pk)
    )


def test_bad_requests_to_start_a_payment(
    purchaser, other_purchaser, staff, confirmed_order, fake_stripe
):
    assert_error(start(other_purchaser, confirmed_order), 400, "validation_error", field="order")
    assert_error(staff.post(PAYMENTS, {"order": confirmed_order.pk, "rail": "stripe"}), 403)
    unknown = purchaser.post(PAYMENTS, {"order": 999999, "rail": "stripe"}, format="json")
    assert_error(unknown, 400, "validation_error", field="order")
    assert_error(
        purchaser.post(PAYMENTS, {"order": confirmed_order.pk, "rail": "wechat"}, format="json"),
        400,
        field="rail",
    )
    assert not Payment.objects.exists() and fake_stripe.objects("payment_intent") == []


def test_events_in_any_order_and_twice_end_collected_once(
    client, purchaser, confirmed_order, fake_stripe
):
    intent_id = start(purchaser, confirmed_order).json()["client"]["payment_intent"]
    declined = fake_stripe.confirm(intent_id, card="pm_card_chargeDeclined")
    assert declined["error"]["code"] == "card_declined"
    fake_stripe.confirm(intent_id)
    events = fake_stripe.events()
    # The succeeded before the payment_failed, each twice, and an unknown type among them.
    assert [e["type"] for e in events][-2:] == [
        "payment_intent.payment_failed",
        "payment_intent.succeeded",
    ]
    shuffled = list(reversed(events)) * 2
    random.Random(6).shuffle(shuffled)
    deliver_events(client, fake_stripe, shuffled)

    assert ProviderEvent.objects.count() == len(events)
    assert ProviderEvent.objects.filter(processed_at=None).count() == 0
    payment = Payment.objects.get()
    assert (payment.status, payment.amount_collected) == ("collected", Decimal("1360.00"))
    assert balance(account=Account.CASH) == Decimal("1360.00")
    assert balance(account=Account.BUYER_RECEIVABLE, order_id=confirmed_order.pk) == Decimal(
        "-1360.00"
    )
    # Processing a stored event again changes nothing.
    for row in ProviderEvent.objects.all():
        assert process_provider_event(row.pk) is False
    assert balance(account=Account.CASH) == Decimal("1360.00")


def test_a_declined_card_leaves_the_payment_failed_until_paid(
    client, purchaser, confirmed_order, fake_stripe
):
    intent_id = start(purchaser, confirmed_order).json()["client"]["payment_intent"]
    fake_stripe.confirm(intent_id, card="pm_card_chargeDeclined")
    deliver_events(client, fake_stripe, fake_stripe.events("payment_intent.payment_failed"))
    payment = Payment.objects.get()
    assert (payment.status, payment.failure_reason) == ("failed", "generic_decline")
    assert purchaser.get(f"{PAYMENTS}{payment.pk}/").json()["status"] == "failed"


def test_unknown_event_types_are_acknowledged_and_ignored(client, fake_stripe):
    event = {
        "id": "evt_unknown_1",
        "object": "event",
        "type": "customer.created",
        "created": 1,
        "livemode": False,
        "data": {"object": {"id": "cus_1", "object": "customer"}},
    }
    deliver_events(client, fake_stripe, [event, event])
    row = ProviderEvent.objects.get()
    assert (row.event_id, row.type, row.processed_at is not None) == (
        "evt_unknown_1",
        "customer.created",
        True,
    )


def test_without_a_webhook_secret_the_webhook_answers_503(client, fake_stripe, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    payload, header = fake_stripe.signed({"id": "evt_1", "type": "x", "data": {"object": {}}})
    response = client.post(
        WEBHOOK, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    assert_error(response, 503, "stripe_unavailable")
    assert not ProviderEvent.objects.exists()


def test_a_bad_signature_stores_nothing(client, fake_stripe):
    payload, _ = fake_stripe.signed({"id": "evt_1", "type": "x", "data": {"object": {}}})
    response = client.post(
        WEBHOOK,
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=fake_stripe.signature_header(payload, secret="whsec_other"),
    )
    assert_error(response, 400, "invalid_signature")
    assert not ProviderEvent.objects.exists()


def test_a_total_that_falls_before_payment_asks_the_new_amount(
    purchaser, confirmed_order, fake_stripe, staff_user, honey
):
    first = start(purchaser, confirmed_order).json()["client"]
    take_through_delivery(confirmed_order, staff_user, honey)
    assert confirmed_order.total == Decimal("1020.00")
    assert cards.payments_to_lower() == [confirmed_order.pk]

    assert lower_payment(confirmed_order.pk) is False  # nothing to refund: nothing was paid
    assert fake_stripe.get(first["payment_intent"])["status"] == "canceled"
    assert Payment.objects.get().status == "cancelled"
    renewed = start(purchaser, confirmed_order)
    assert renewed.status_code == 200, renewed.content
    client = renewed.json()["client"]
    assert client["payment_intent"] != first["payment_intent"]
    assert (client["amount"], renewed.json()["status"]) == ("1020.00", "pending")
    assert cards.payments_to_lower() == []


def test_an_intent_asked_again_after_the_total_fell_is_renewed_at_once(
    purchaser, confirmed_order, fake_stripe, staff_user, honey
):
    first = start(purchaser, confirmed_order).json()["client"]
    take_through_delivery(confirmed_order, staff_user, honey)
    renewed = start(purchaser, confirmed_order).json()["client"]
    assert renewed["amount"] == "1020.00"
    assert fake_stripe.get(first["payment_intent"])["status"] == "canceled"


@pytest.mark.parametrize("webhook_first", [True, False], ids=["webhook told", "not yet told"])
def test_an_intent_cancelled_in_stripe_s_dashboard_is_replaced_by_a_new_one(
    client, purchaser, confirmed_order, fake_stripe, webhook_first
):
    first = start(purchaser, confirmed_order).json()["client"]
    fake_stripe.cancel(first["payment_intent"])
    if webhook_first:
        deliver_events(client, fake_stripe, fake_stripe.events("payment_intent.canceled"))
        assert Payment.objects.get().status == "cancelled"

    again = start(purchaser, confirmed_order)
    assert again.status_code == 200, again.content
    renewed = again.json()
    # The same order and amount, yet a new intent: the key names the attempt too.
    assert renewed["client"]["payment_intent"] != first["payment_intent"]
    assert (renewed["status"], renewed["client"]["amount"]) == ("pending", "1360.00")
    assert renewed["client"]["status"] == "requires_payment_method"
    creates = [
        r.idempotency_key
        for r in fake_stripe.requests
        if (r.method, r.path) == ("POST", "/v1/payment_intents")
    ]
    order = confirmed_order.pk
    assert creates == [
        stripe_gateway.idempotency_key("payment_intent", order, 136000),
        stripe_gateway.idempotency_key("payment_intent", order, 136000, "a1"),
    ]
    payment = Payment.objects.get()
    assert (payment.attempt, payment.provider_reference) == (1, renewed["client"]["payment_intent"])

    # Asked once more, it is the same new intent; paid, it is collected once.
    assert start(purchaser, confirmed_order).json()["client"] == renewed["client"]
    fake_stripe.confirm(renewed["client"]["payment_intent"])
    deliver_events(client, fake_stripe, fake_stripe.events("payment_intent.succeeded"))
    payment.refresh_from_db()
    assert (payment.status, payment.amount_collected) == ("collected", Decimal("1360.00"))
    assert len(fake_stripe.objects("payment_intent")) == 2


def test_a_total_that_falls_after_payment_refunds_the_difference_once(
    client, purchaser, confirmed_order, fake_stripe, staff_user, honey
):
    intent_id = start(purchaser, confirmed_order).json()["client"]["payment_intent"]
    fake_stripe.confirm(intent_id)
    deliver_events(client, fake_stripe, fake_stripe.events("payment_intent.succeeded"))
    take_through_delivery(confirmed_order, staff_user, honey)

    assert lower_payment(confirmed_order.pk) is True
    assert lower_payment(confirmed_order.pk) is False  # pending: already promised
    refund = Refund.objects.get()
    assert (refund.amount, refund.reason, refund.status) == (
        Decimal("340.00"),
        "quality",
        "pending",
    )
    assert send_refund(refund.pk) == "succeeded"
    assert send_refund(refund.pk) == "succeeded"  # sent once: the key, and the status
    [stripe_refund] = fake_stripe.objects("refund")
    assert (stripe_refund["amount"], stripe_refund["metadata"]["reason"]) == (34000, "quality")
    payment = Payment.objects.get()
    assert (payment.amount_collected, payment.amount_refunded) == (
        Decimal("1360.00"),
        Decimal("340.00"),
    )
    assert balance(account=Account.CASH) == Decimal("1020.00")
    # Stripe's refund events afterwards change nothing; nothing is left to lower.
    deliver_events(client, fake_stripe, fake_stripe.events())
    assert Refund.objects.get().status == "succeeded"
    assert lower_payment(confirmed_order.pk) is False and cards.payments_to_lower() == []
    assert balance(account=Account.CASH) == Decimal("1020.00")


def test_a_refund_event_marks_a_refund_whose_answer_was_lost(
    client, purchaser, confirmed_order, fake_stripe, staff_user, honey
):
    intent_id = start(purchaser, confirmed_order).json()["client"]["payment_intent"]
    fake_stripe.confirm(intent_id)
    deliver_events(client, fake_stripe, fake_stripe.events("payment_intent.succeeded"))
    take_through_delivery(confirmed_order, staff_user, honey)
    refund, _ = refund_record(
        payment=Payment.objects.get(),
        amount=Decimal("340.00"),
        reason="quality",
        idempotency_key="lost-answer",
    )
    # Sent to Stripe, the answer lost on the way back: only the event tells us.
    stripe_gateway.refund(
        payment_intent_id=intent_id,
        amount_fen=34000,
        idempotency_key=stripe_gateway.idempotency_key("refund", refund.idempotency_key),
        reason="quality",
        metadata={"refund": str(refund.pk), "order": str(confirmed_order.pk)},
    )
    deliver_events(client, fake_stripe, fake_stripe.events("refund.created"))
    refund.refresh_from_db()
    assert refund.status == "succeeded" and refund.provider_reference.startswith("re_")
    # The lost send retried by the sweep is the same refund at Stripe (same key): no second.
    assert send_refund(refund.pk) == "succeeded"
    assert len(fake_stripe.objects("refund")) == 1
    assert Payment.objects.get().amount_refunded == Decimal("340.00")


def test_events_are_stored_with_their_payload(client, fake_stripe, purchaser, confirmed_order):
    start(purchaser, confirmed_order)
    [created] = fake_stripe.events("payment_intent.created")
    deliver_events(client, fake_stripe, [created])
    row = ProviderEvent.objects.get()
    assert row.payload["data"]["object"]["id"] == created["data"]["object"]["id"]
    assert json.loads(json.dumps(row.payload))["type"] == "payment_intent.created"


def test_the_sweep_finds_lost_sends_and_lost_event_tasks(
    client, purchaser, confirmed_order, fake_stripe, staff_user, honey
):
    intent_id = start(purchaser, confirmed_order).json()["client"]["payment_intent"]
    fake_stripe.confirm(intent_id)
    [succeeded] = fake_stripe.events("payment_intent.succeeded")
    payload, signature = fake_stripe.signed(succeeded)
    client.post(
        WEBHOOK, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    row = ProviderEvent.objects.get()
    # Its task lost (the broker down): found once it is older than a few minutes.
    assert events.events_unprocessed() == []
    assert events.events_unprocessed(older_than=datetime.timedelta(0)) == [row.pk]
    process_provider_event(row.pk)
    assert events.events_unprocessed(older_than=datetime.timedelta(0)) == []

    take_through_delivery(confirmed_order, staff_user, honey)
    assert cards.payments_to_lower() == [confirmed_order.pk]
    lower_payment(confirmed_order.pk)
    refund = Refund.objects.get()
    assert cards.refunds_unsent() == [refund.pk]  # recorded; its send not yet made
    send_refund(refund.pk)
    assert cards.refunds_unsent() == [] and cards.payments_to_lower() == []


def test_asking_again_after_paying_answers_the_intent_as_it_is_now(
    purchaser, confirmed_order, fake_stripe
):
    intent_id = start(purchaser, confirmed_order).json()["client"]["payment_intent"]
    fake_stripe.confirm(intent_id)  # the app paid; Stripe's webhook not here yet
    again = start(purchaser, confirmed_order)
    assert again.status_code == 200
    assert (again.json()["status"], again.json()["client"]["status"]) == ("collected", "succeeded")
    assert balance(account=Account.CASH) == Decimal("1360.00")
    assert len(fake_stripe.objects("payment_intent")) == 1
