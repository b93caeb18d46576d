"""payments/stripe_gateway.py against the fake Stripe server, over HTTP through the real SDK:
what each call sends and returns, that a retry never moves money twice, how Stripe's
refusals and outages reach callers, webhook signatures, and the rail switched off."""

import ast
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest

from backend.errors import exception_handler
from payments import stripe_gateway as gateway

ORDER = 7
AMOUNT = 150000  # ¥1,500.00


def create(amount_fen=AMOUNT, key=None, **kwargs):
    key = key or gateway.idempotency_key("payment_intent", ORDER, amount_fen)
    return gateway.create_payment_intent(
        order_id=ORDER, amount_fen=amount_fen, idempotency_key=key, **kwargs
    )


def paid(fake, amount_fen=AMOUNT, capture=None):
    """An intent the buyer confirmed with a card, captured when ``capture`` is given."""
    intent = create(amount_fen)
    fake.confirm(intent.id)
    if capture is not None:
        gateway.capture(
            payment_intent_id=intent.id, amount_to_capture_fen=capture, idempotency_key="cap"
        )
    return intent


# --- payment intents ----------------------------------------------------------------------------


def test_create_returns_what_a_buyers_app_needs(fake_stripe):
    intent = create(metadata={"buyer": "12"})
    assert intent.id.startswith("pi_") and intent.client_secret.startswith(intent.id)
    assert (intent.status, intent.amount_fen, intent.currency) == (
        "requires_payment_method",
        AMOUNT,
        "cny",
    )
    assert intent.capture_method == "manual"
    assert dict(intent.metadata) == {"buyer": "12", "order": "7"}
    assert fake_stripe.get(intent.id)["transfer_group"] == "order_7"


def test_amounts_must_be_whole_fen(fake_stripe):
    for wrong in (Decimal("1500.00"), 1500.0, 0, -5, True):
        with pytest.raises(ValueError):
            create(amount_fen=wrong, key="k")
    assert fake_stripe.requests == []


def test_a_retried_create_with_the_same_key_makes_one_intent(fake_stripe):
    first = create()
    again = create()  # a task run twice: the same key, derived from the order and amount
    assert again == first
    assert len(fake_stripe.objects("payment_intent")) == 1
    assert [r.replayed for r in fake_stripe.requests] == [False, True]


def test_the_same_create_from_four_workers_at_once_makes_one_intent(fake_stripe):
    with ThreadPoolExecutor(max_workers=4) as pool:
        intents = list(pool.map(lambda _: create(), range(4)))
    assert len({intent.id for intent in intents}) == 1
    assert len(fake_stripe.objects("payment_intent")) == 1


def test_a_create_whose_answer_is_lost_is_retried_and_makes_one_intent(fake_stripe):
    fake_stripe.drop_responses(1)  # Stripe created it; the answer never came back
    intent = create()
    assert [i["id"] for i in fake_stripe.objects("payment_intent")] == [intent.id]
    assert [(r.status, r.replayed) for r in fake_stripe.requests] == [(None, False), (200, True)]


def test_the_same_key_for_another_amount_is_a_conflict(fake_stripe):
    create(key="order-7")
    with pytest.raises(gateway.IdempotencyConflict) as caught:
        create(amount_fen=AMOUNT - 100, key="order-7")
    assert (caught.value.status_code, caught.value.code) == (409, "stripe_idempotency_conflict")
    assert len(fake_stripe.objects("payment_intent")) == 1


def test_confirm_then_capture_less_than_was_held(fake_stripe):
    intent = create()
    fake_stripe.confirm(intent.id)
    held = gateway.retrieve_payment_intent(intent.id)
    assert (held.status, held.amount_capturable_fen) == ("requires_capture", AMOUNT)
    # A quality rejection: only what was accepted is taken; Stripe releases the rest.
    captured = gateway.capture(
        payment_intent_id=intent.id, amount_to_capture_fen=120000, idempotency_key="cap-7"
    )
    assert (captured.status, captured.amount_received_fen) == ("succeeded", 120000)
    assert captured.amount_capturable_fen == 0 and captured.latest_charge.startswith("ch_")
    again = gateway.capture(
        payment_intent_id=intent.id, amount_to_capture_fen=120000, idempotency_key="cap-7"
    )
    assert again == captured
    with pytest.raises(gateway.GatewayError) as caught:  # a new key: Stripe says no
        gateway.capture(payment_intent_id=intent.id, idempotency_key="cap-7b")
    assert caught.value.provider_code == "payment_intent_unexpected_state"
    assert caught.value.status_code == 409 and caught.value.code == "stripe_refused"


def test_capture_more_than_held_is_refused(fake_stripe):
    intent = paid(fake_stripe)
    with pytest.raises(gateway.GatewayError) as caught:
        gateway.capture(
            payment_intent_id=intent.id, amount_to_capture_fen=AMOUNT + 1, idempotency_key="c"
        )
    assert caught.value.provider_code == "amount_too_large"
    assert gateway.retrieve_payment_intent(intent.id).status == "requires_capture"


def test_cancel_releases_an_uncaptured_intent_but_not_a_captured_one(fake_stripe):
    intent = paid(fake_stripe)
    cancelled = gateway.cancel(payment_intent_id=intent.id, idempotency_key="cancel-7")
    assert (cancelled.status, cancelled.cancellation_reason) == (
        "canceled",
        "requested_by_customer",
    )
    captured = paid(fake_stripe, amount_fen=AMOUNT + 1, capture=AMOUNT + 1)
    with pytest.raises(gateway.GatewayError):
        gateway.cancel(payment_intent_id=captured.id, idempotency_key="cancel-8")
    assert gateway.retrieve_payment_intent(captured.id).status == "succeeded"


def test_a_declined_card_is_card_declined(fake_stripe):
    intent = create()
    with pytest.raises(gateway.CardDeclined) as caught:
        gateway.confirm_payment_intent(
            payment_intent_id=intent.id,
            payment_method="pm_card_chargeDeclinedInsufficientFunds",
            idempotency_key="confirm-1",
        )
    assert (caught.value.status_code, caught.value.provider_code) == (402, "insufficient_funds")
    after = gateway.retrieve_payment_intent(intent.id)
    assert (after.status, after.last_error_code) == (
        "requires_payment_method",
        "insufficient_funds",
    )
    confirmed = gateway.confirm_payment_intent(
        payment_intent_id=intent.id, payment_method="pm_card_visa", idempotency_key="confirm-2"
    )
    assert confirmed.status == "requires_capture"


# --- refunds and transfers ----------------------------------------------------------------------


def test_partial_refunds_up_to_what_was_captured(fake_stripe):
    intent = paid(fake_stripe, capture=120000)
    refund = gateway.refund(
        payment_intent_id=intent.id,
        amount_fen=20000,
        idempotency_key="refund-line-3",
        reason="quality_rejection",
    )
    assert (refund.status, refund.amount_fen, refund.payment_intent_id) == (
        "succeeded",
        20000,
        intent.id,
    )
    # Stripe hears one of its own reasons; ours travels in the metadata.
    assert refund.reason == "requested_by_customer"
    assert refund.metadata["reason"] == "quality_rejection"
    again = gateway.refund(
        payment_intent_id=intent.id,
        amount_fen=20000,
        idempotency_key="refund-line-3",
        reason="quality_rejection",
    )
    assert again == refund and len(fake_stripe.objects("refund")) == 1
    with pytest.raises(gateway.GatewayError) as caught:
        gateway.refund(
            payment_intent_id=intent.id,
            amount_fen=100001,
            idempotency_key="refund-too-much",
            reason="cancelled",
        )
    assert caught.value.provider_code == "amount_too_large"
    gateway.refund(
        payment_intent_id=intent.id, amount_fen=100000, idempotency_key="rest", reason="duplicate"
    )
    assert sum(r["amount"] for r in fake_stripe.objects("refund")) == 120000


def test_a_transfer_pays_a_connected_account_once(fake_stripe):
    paid(fake_stripe, capture=AMOUNT)
    account = fake_stripe.create_account(email="coop@example.cn")
    kwargs = {
        "destination_account": account,
        "amount_fen": 135000,
        "transfer_group": gateway.transfer_group_for(ORDER),
        "idempotency_key": gateway.idempotency_key("statement", 31),
    }
    transfer = gateway.create_transfer(**kwargs, metadata={"statement": "31"})
    assert (transfer.destination_account, transfer.amount_fen, transfer.transfer_group) == (
        account,
        135000,
        "order_7",
    )
    assert gateway.create_transfer(**kwargs, metadata={"statement": "31"}) == transfer
    assert len(fake_stripe.objects("transfer")) == 1


def test_transfers_are_listed_by_group_and_account_newest_first(fake_stripe):
    fake_stripe.top_up(10000)
    coop, other = fake_stripe.create_account(), fake_stripe.create_account()
    made = [
        gateway.create_transfer(
            destination_account=account,
            amount_fen=100 + n,
            transfer_group=group,
            idempotency_key=f"t{n}",
        )
        for n, (account, group) in enumerate(
            [
                (coop, "statement_1"),
                (coop, "statement_2"),
                (other, "statement_1"),
                (coop, "statement_1"),
            ]
        )
    ]
    listed = gateway.list_transfers(transfer_group="statement_1", destination_account=coop)
    assert listed == [made[3], made[0]]
    assert gateway.list_transfers(transfer_group="statement_9", destination_account=coop) == []


def test_a_transfer_to_an_unknown_account_is_refused(fake_stripe):
    fake_stripe.top_up(10000)
    with pytest.raises(gateway.GatewayError) as caught:
        gateway.create_transfer(
            destination_account="acct_nobody",
            amount_fen=100,
            transfer_group="order_7",
            idempotency_key="t",
        )
    assert caught.value.provider_code == "resource_missing"
    # Stripe's own words (account ids, the platform's balance) stay in the log.
    assert caught.value.message == "Stripe refused the request (resource_missing)."
    assert fake_stripe.objects("transfer") == []


# --- outages and the rail switched off ---------------------------------------------------------


def test_a_passing_stripe_500_is_retried_by_the_sdk(fake_stripe):
    fake_stripe.fail_requests(1)
    intent = create()
    assert [i["id"] for i in fake_stripe.objects("payment_intent")] == [intent.id]


def test_stripe_failing_beyond_the_retries_is_unavailable(fake_stripe):
    fake_stripe.fail_requests(gateway.MAX_NETWORK_RETRIES + 1)
    with pytest.raises(gateway.StripeUnavailable) as caught:
        create()
    assert caught.value.status_code == 503
    assert fake_stripe.objects("payment_intent") == []


def test_stripe_unreachable_is_unavailable(fake_stripe, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # the discard port: nothing listens
    with pytest.raises(gateway.StripeUnavailable):
        gateway.retrieve_payment_intent("pi_123")


def test_a_wrong_api_key_is_unavailable_not_the_clients_fault(fake_stripe, settings):
    settings.STRIPE_API_KEY = "sk_test_revoked"
    with pytest.raises(gateway.StripeUnavailable):
        create()


def test_without_a_key_the_rail_is_off_with_a_503_in_the_error_shape(settings):
    settings.STRIPE_API_KEY = ""
    assert gateway.is_enabled() is False
    calls = [
        lambda: create(),
        lambda: gateway.retrieve_payment_intent("pi_1"),
        lambda: gateway.capture(payment_intent_id="pi_1", idempotency_key="k"),
        lambda: gateway.cancel(payment_intent_id="pi_1", idempotency_key="k"),
        lambda: gateway.refund(
            payment_intent_id="pi_1", amount_fen=1, idempotency_key="k", reason="cancelled"
        ),
        lambda: gateway.create_transfer(
            destination_account="acct_1", amount_fen=1, transfer_group="g", idempotency_key="k"
        ),
    ]
    for call in calls:
        with pytest.raises(gateway.StripeUnavailable) as caught:
            call()
    response = exception_handler(caught.value, {})
    assert response.status_code == 503
    assert response.data == {
        "error": {
            "code": "stripe_unavailable",
            "message": "Card payments through Stripe are not set up here.",
            "fields": {},
        }
    }


def test_the_rail_is_on_with_a_key(fake_stripe):
    assert gateway.is_enabled() is True


def test_idempotency_keys_name_one_effect():
    assert gateway.idempotency_key("payment_intent", 7, 150000) == "shitun:payment_intent:7:150000"
    with pytest.raises(ValueError):
        gateway.idempotency_key()
    with pytest.raises(ValueError):
        gateway.idempotency_key("x" * 300)


# --- webhooks -----------------------------------------------------------------------------------


def test_a_signed_event_is_verified_and_read(fake_stripe):
    intent = paid(fake_stripe, capture=AMOUNT)
    [event] = fake_stripe.events("payment_intent.succeeded")
    verified = gateway.construct_event(*fake_stripe.signed(event))
    assert (verified.id, verified.type, verified.object_id) == (
        event["id"],
        "payment_intent.succeeded",
        intent.id,
    )
    assert verified.data_object["amount_received"] == AMOUNT and verified.livemode is False


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda fake, body: (body, None), id="missing header"),
        pytest.param(lambda fake, body: (body, ""), id="empty header"),
        pytest.param(lambda fake, body: (body, "garbage"), id="unparsable header"),
        pytest.param(
            lambda fake, body: (body, fake.signature_header(body, secret="whsec_other")),
            id="wrong secret",
        ),
        pytest.param(
            lambda fake, body: (body + b" ", fake.signature_header(body)), id="body changed"
        ),
        pytest.param(
            lambda fake, body: (
                body,
                fake.signature_header(body, timestamp=int(time.time()) - 301),
            ),
            id="stale beyond tolerance",
        ),
        pytest.param(
            lambda fake, body: (b"not json", fake.signature_header(b"not json")),
            id="signed but not an event",
        ),
        pytest.param(
            lambda fake, body: (b"\xff\xfe", fake.signature_header(b"\xff\xfe")),
            id="not utf-8",
        ),
    ],
)
def test_a_bad_signature_is_a_400(fake_stripe, tamper):
    fake_stripe.create_account()
    body, _ = fake_stripe.signed(fake_stripe.events()[0])
    payload, header = tamper(fake_stripe, body)
    with pytest.raises(gateway.WebhookSignatureInvalid) as caught:
        gateway.construct_event(payload, header)
    assert (caught.value.status_code, caught.value.code) == (400, "invalid_signature")


def test_a_recent_signature_within_tolerance_is_accepted(fake_stripe):
    fake_stripe.create_account()
    event = fake_stripe.events()[0]
    body, _ = fake_stripe.signed(event)
    header = fake_stripe.signature_header(body, timestamp=int(time.time()) - 240)
    assert gateway.construct_event(body, header).id == event["id"]


def test_webhooks_without_a_secret_are_unavailable(fake_stripe, settings):
    fake_stripe.create_account()
    body, header = fake_stripe.signed(fake_stripe.events()[0])
    settings.STRIPE_WEBHOOK_SECRET = ""
    with pytest.raises(gateway.StripeUnavailable):
        gateway.construct_event(body, header)


# --- one module -----------------------------------------------------------------------------------


def test_no_module_but_the_gateway_imports_stripe():
    """The issue's rule: all Stripe-specific code in one module (tests may use the SDK)."""
    root = Path(__file__).resolve().parents[2]
    folders = [p for p in root.iterdir() if p.is_dir() and p.name not in {".venv", "tests"}]
    sources = [*root.glob("*.py"), *(s for folder in folders for s in folder.rglob("*.py"))]
    importers = set()
    for source in sources:
        relative = source.relative_to(root)
        for node in ast.walk(ast.parse(source.read_text(), filename=str(source))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            if any(name.split(".")[0] == "stripe" for name in names):
                importers.add(str(relative))
    assert importers == {"payments/stripe_gateway.py"}
