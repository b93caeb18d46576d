"""POST /api/v1/payments/stripe/webhook/ (payments/webhooks.py): a delivery signed with
Stripe's scheme reaches the store once; a missing, wrong or stale signature is a 400 in the
one error shape and nothing is stored; without a webhook secret, a 503."""

import time

import pytest

from payments import stripe_gateway
from tests.conftest import assert_error

from .webhook_urls import PATH, RECEIVED

pytestmark = pytest.mark.urls("tests.payments.webhook_urls")


@pytest.fixture
def event(fake_stripe):
    """The event Stripe sends when a buyer's card is authorised for an order."""
    RECEIVED.clear()
    intent = stripe_gateway.create_payment_intent(
        order_id=7, amount_fen=150000, idempotency_key="pi-7"
    )
    fake_stripe.confirm(intent.id)
    return fake_stripe.events("payment_intent.amount_capturable_updated")[0]


def post(client, payload: bytes, header: str | None):
    headers = {} if header is None else {"HTTP_STRIPE_SIGNATURE": header}
    return client.post(PATH, data=payload, content_type="application/json", **headers)


def test_a_signed_delivery_is_stored_and_acknowledged(client, fake_stripe, event):
    response = post(client, *fake_stripe.signed(event))
    assert response.status_code == 200 and response.json() == {"received": True}
    [stored] = RECEIVED
    assert (stored.id, stored.type, stored.object_id) == (
        event["id"],
        "payment_intent.amount_capturable_updated",
        event["data"]["object"]["id"],
    )


@pytest.mark.parametrize(
    "sign",
    [
        pytest.param(lambda fake, body: None, id="missing"),
        pytest.param(lambda fake, body: fake.signature_header(body, secret="whsec_x"), id="wrong"),
        pytest.param(
            lambda fake, body: fake.signature_header(body, timestamp=int(time.time()) - 600),
            id="stale",
        ),
        pytest.param(lambda fake, body: fake.signature_header(body + b"{}"), id="other body"),
    ],
)
def test_a_bad_signature_is_a_400_and_nothing_is_stored(client, fake_stripe, event, sign):
    payload, _ = fake_stripe.signed(event)
    assert_error(post(client, payload, sign(fake_stripe, payload)), 400, "invalid_signature")
    assert RECEIVED == []


def test_without_a_webhook_secret_the_answer_is_a_503(client, fake_stripe, event, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert_error(post(client, *fake_stripe.signed(event)), 503, "stripe_unavailable")
    assert RECEIVED == []


def test_delivered_over_http_by_the_fake(live_server, fake_stripe, event):
    assert fake_stripe.deliver(event, live_server.url + PATH) == 200
    assert [stored.id for stored in RECEIVED] == [event["id"]]
    assert fake_stripe.deliver(event, live_server.url + PATH, secret="whsec_x") == 400
    assert len(RECEIVED) == 1
