"""The fake Stripe server speaks Stripe's wire format to the real SDK: keys, nested form
parameters, error types, idempotency replay and conflict, and Stripe's webhook signatures
(checked with the SDK's own verifier). If the fake drifted from Stripe, the gateway tests
beside this one would prove nothing."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from .fake_stripe import decode_form


@pytest.fixture
def client(fake_stripe):
    # No retries here: each test sees exactly what the fake answered.
    return stripe.StripeClient(
        fake_stripe.api_key,
        base_addresses={"api": fake_stripe.url},
        http_client=stripe.RequestsClient(timeout=5),
    )


def create_intent(client, key="key-1", amount=150000, **params):
    params = {"amount": amount, "currency": "cny", "capture_method": "manual", **params}
    return client.v1.payment_intents.create(params, {"idempotency_key": key})


def test_form_decoding_nests_keys_like_stripe():
    assert decode_form("amount=5&metadata[order]=7&metadata[lot]=a&expand[0]=x&expand[1]=y") == {
        "amount": "5",
        "metadata": {"order": "7", "lot": "a"},
        "expand": ["x", "y"],
    }


def test_a_wrong_api_key_is_refused(fake_stripe):
    other = stripe.StripeClient("sk_test_wrong", base_addresses={"api": fake_stripe.url})
    with pytest.raises(stripe.AuthenticationError):
        other.v1.payment_intents.create({"amount": 100, "currency": "cny"})
    assert fake_stripe.objects("payment_intent") == []


def test_nested_metadata_and_fields_round_trip(client, fake_stripe):
    intent = create_intent(client, metadata={"order": "7"}, transfer_group="order_7")
    assert intent.object == "payment_intent" and intent.id.startswith("pi_")
    assert intent.client_secret.startswith(intent.id + "_secret_")
    assert (intent.amount, intent.currency, intent.status) == (
        150000,
        "cny",
        "requires_payment_method",
    )
    assert intent.metadata.to_dict() == {"order": "7"}
    assert fake_stripe.get(intent.id)["transfer_group"] == "order_7"
    assert client.v1.payment_intents.retrieve(intent.id).id == intent.id


def test_an_unknown_parameter_is_refused_as_stripe_does(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        create_intent(client, colour="red")
    assert (caught.value.code, caught.value.param) == ("parameter_unknown", "colour")


def test_an_unknown_id_is_a_404_resource_missing(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.retrieve("pi_doesnotexist")
    assert caught.value.http_status == 404 and caught.value.code == "resource_missing"


def test_same_key_same_params_replays_the_first_answer(client, fake_stripe):
    first = create_intent(client)
    again = create_intent(client)
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.last_response.headers
    assert len(fake_stripe.objects("payment_intent")) == 1
    assert [r.replayed for r in fake_stripe.requests] == [False, True]


def test_same_key_other_params_is_an_idempotency_error(client, fake_stripe):
    create_intent(client, amount=150000)
    with pytest.raises(stripe.IdempotencyError):
        create_intent(client, amount=140000)
    with pytest.raises(stripe.IdempotencyError):  # another endpoint under the same key
        client.v1.transfers.create(
            {"amount": 1, "currency": "cny", "destination": "acct_x"}, {"idempotency_key": "key-1"}
        )
    assert len(fake_stripe.objects("payment_intent")) == 1


def test_a_request_refused_while_parsing_does_not_use_up_its_key(client, fake_stripe):
    with pytest.raises(stripe.InvalidRequestError):
        create_intent(client, amount="ten")
    assert create_intent(client, amount="1000").amount == 1000


def test_a_refusal_after_work_began_is_replayed(client, fake_stripe):
    intent = create_intent(client)
    capture = {"amount_to_capture": 100}
    for _ in range(2):  # not confirmed yet: the same refusal both times, the second replayed
        with pytest.raises(stripe.InvalidRequestError) as caught:
            client.v1.payment_intents.capture(intent.id, capture, {"idempotency_key": "cap"})
        assert caught.value.code == "payment_intent_unexpected_state"
    assert caught.value.headers["Idempotent-Replayed"] == "true"


def test_manual_capture_of_less_then_refunds_within_what_was_captured(client, fake_stripe):
    intent = create_intent(client)
    assert fake_stripe.confirm(intent.id)["status"] == "requires_capture"
    captured = client.v1.payment_intents.capture(intent.id, {"amount_to_capture": 100000})
    assert (captured.status, captured.amount_received) == ("succeeded", 100000)
    client.v1.refunds.create({"payment_intent": intent.id, "amount": 60000})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create({"payment_intent": intent.id, "amount": 40001})
    assert caught.value.code == "amount_too_large"
    rest = client.v1.refunds.create({"payment_intent": intent.id})
    assert rest.amount == 40000
    charge = fake_stripe.events("charge.refunded")[-1]["data"]["object"]
    assert charge["amount_refunded"] == 100000 and charge["refunded"] is True


def test_a_declined_card_leaves_the_intent_waiting_for_another(client, fake_stripe):
    intent = create_intent(client)
    answer = fake_stripe.confirm(intent.id, "pm_card_chargeDeclined")
    assert answer["error"]["type"] == "card_error"
    with pytest.raises(stripe.CardError) as caught:
        client.v1.payment_intents.confirm(intent.id, {"payment_method": "pm_card_chargeDeclined"})
    assert caught.value.http_status == 402 and caught.value.code == "card_declined"
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"
    assert [e["type"] for e in fake_stripe.events()][-1] == "payment_intent.payment_failed"


def test_transfers_need_a_connected_account_and_a_balance(client, fake_stripe):
    account = client.v1.accounts.create({"type": "express", "country": "CN"})
    params = {"amount": 5000, "currency": "cny", "destination": account.id}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.transfers.create(params)
    assert caught.value.code == "balance_insufficient"
    fake_stripe.top_up(5000)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.transfers.create({**params, "destination": "acct_unknown"})
    assert caught.value.param == "destination"
    transfer = client.v1.transfers.create({**params, "transfer_group": "order_7"})
    assert (transfer.destination, transfer.transfer_group) == (account.id, "order_7")


def test_a_lost_answer_is_retried_by_the_sdk_with_the_same_key(fake_stripe):
    retrying = stripe.StripeClient(
        fake_stripe.api_key, base_addresses={"api": fake_stripe.url}, max_network_retries=2
    )
    fake_stripe.drop_responses(1)
    intent = retrying.v1.payment_intents.create({"amount": 100, "currency": "cny"})
    assert [i["id"] for i in fake_stripe.objects("payment_intent")] == [intent.id]
    first, second = fake_stripe.requests
    # The SDK made up a key itself (no key given) and sent it again.
    assert first.idempotency_key == second.idempotency_key is not None
    assert (first.status, second.status, second.replayed) == (None, 200, True)


def test_events_are_signed_with_stripes_scheme(fake_stripe):
    assert fake_stripe.events() == []  # each test starts from an empty fake
    fake_stripe.create_account()
    event = fake_stripe.events("account.updated")[0]
    payload, header = fake_stripe.signed(event)
    assert stripe.WebhookSignature.verify_header(payload, header, fake_stripe.webhook_secret, 300)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(payload, header, "whsec_other", 300)
    stale = fake_stripe.signature_header(payload, timestamp=int(time.time()) - 301)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(payload, stale, fake_stripe.webhook_secret, 300)


def test_deliver_posts_the_signed_event_to_a_url(fake_stripe):
    received = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, self.headers["Stripe-Signature"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        fake_stripe.create_account()
        event = fake_stripe.events()[0]
        status = fake_stripe.deliver(event, f"http://127.0.0.1:{server.server_address[1]}/hook")
    finally:
        server.shutdown()
        server.server_close()
    assert status == 200
    [(body, header)] = received
    assert json.loads(body)["id"] == event["id"]
    assert stripe.WebhookSignature.verify_header(body, header, fake_stripe.webhook_secret, 300)
