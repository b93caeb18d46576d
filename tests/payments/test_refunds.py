"""POST /api/v1/refunds/: staff give money back, in part, once per key, recorded and posted to
the ledger; a card refund goes to Stripe after commit. Bad input gets a clear 4xx in the one
error shape, and nothing is written."""

from decimal import Decimal

import pytest

from payments.ledger import balance
from payments.models import Account, LedgerEntry, Payment, Refund
from payments.services.collecting import AllocationRequest, bank_transfer_record
from tests.conftest import assert_error
from tests.factories import place_order
from tests.payments.conftest import deliver

pytestmark = pytest.mark.django_db
REFUNDS = "/api/v1/refunds/"


@pytest.fixture
def overpaid(staff_user, purchaser_user, store, honey):
    """20 kg of honey paid in full (1,360.00) by bank, then 5 kg rejected for quality at
    delivery: 340.00 paid beyond the total."""
    order = place_order(purchaser_user, store, (honey, "20"))
    bank_transfer_record(
        user=staff_user,
        organisation=order.organisation,
        bank_reference="PAID-1",
        amount=Decimal("1360.00"),
        received_on=order.created_at.date(),
        allocations=[AllocationRequest(order.pk)],
    )
    return deliver(order, staff_user, accepted={honey: ("15", "quality", "5 kg crystallised")})


def body(payment, amount="340.00", reason="quality", **extra):
    return {"payment": payment.pk, "amount": amount, "reason": reason, **extra}


def test_staff_refund_a_quality_rejection_once(staff, purchaser, other_purchaser, overpaid):
    payment = Payment.objects.get()
    given = staff.post(REFUNDS, body(payment), format="json", HTTP_IDEMPOTENCY_KEY="q-1")
    assert given.status_code == 201, given.content
    refund = given.json()
    assert (refund["amount"], refund["reason"], refund["status"], refund["order"]) == (
        "340.00",
        "quality",
        "succeeded",
        overpaid.pk,
    )
    replay = staff.post(REFUNDS, body(payment), format="json", HTTP_IDEMPOTENCY_KEY="q-1")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    zero = staff.post(REFUNDS, body(payment, amount="0.00"), format="json")
    assert_error(zero, 400, "validation_error", field="amount")
    assert Refund.objects.count() == 1
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("340.00")
    assert balance(account=Account.CASH) == Decimal("1020.00")
    # The buyer reads its refunds; another organisation sees none.
    assert [r["id"] for r in purchaser.get(REFUNDS).json()["results"]] == [refund["id"]]
    assert other_purchaser.get(REFUNDS).json()["results"] == []
    assert_error(other_purchaser.get(f"{REFUNDS}{refund['id']}/"), 404, "not_found")


def test_without_a_key_the_same_request_is_the_same_refund(staff, overpaid):
    payment = Payment.objects.get()
    first = staff.post(REFUNDS, body(payment, amount="100.00"), format="json")
    again = staff.post(REFUNDS, body(payment, amount="100.00"), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and Refund.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        pytest.param({"amount": "-1.00"}, 400, "validation_error", "amount", id="negative"),
        pytest.param({"amount": "340.01"}, 409, "conflict", "amount", id="over the overpayment"),
        pytest.param(
            {"amount": "340.01", "reason": "overpayment"},
            409,
            "conflict",
            "amount",
            id="an 'overpayment' beyond what was paid over the total",
        ),
        pytest.param({"amount": "1.001"}, 400, "validation_error", "amount", id="part of a fen"),
        pytest.param({"payment": 999999}, 400, "validation_error", "payment", id="unknown payment"),
        pytest.param({"reason": "whim"}, 400, "validation_error", "reason", id="unknown reason"),
        pytest.param(
            {"reason": "adjustment", "amount": "1.00"},
            400,
            "validation_error",
            "fulfilment",
            id="adjustment without its part",
        ),
    ],
)
def test_bad_refunds_are_refused_and_write_nothing(staff, overpaid, change, status, code, field):
    entries = LedgerEntry.objects.count()
    response = staff.post(REFUNDS, {**body(Payment.objects.get()), **change}, format="json")
    assert_error(response, status, code, field=field)
    assert not Refund.objects.exists() and LedgerEntry.objects.count() == entries


def test_only_staff_give_refunds(purchaser, partner, manager, overpaid):
    for client in (purchaser, partner, manager):
        response = client.post(REFUNDS, body(Payment.objects.get()), format="json")
        assert_error(response, 403, "permission_denied")
    assert not Refund.objects.exists()


def test_an_adjustment_of_another_order_s_part_is_refused(
    staff, overpaid, purchaser_user, store, honey
):
    other = place_order(purchaser_user, store, (honey, "10")).fulfilments.get()
    response = staff.post(
        REFUNDS,
        body(Payment.objects.get(), amount="1.00", reason="adjustment", fulfilment=other.pk),
        format="json",
    )
    assert_error(response, 400, "validation_error", field="fulfilment")
    assert not Refund.objects.exists()


def test_a_card_refund_needs_the_stripe_rail(staff, overpaid, settings):
    payment = Payment.objects.get()
    Payment.objects.filter(pk=payment.pk).update(rail="stripe", provider_reference="pi_x")
    settings.STRIPE_API_KEY = ""
    assert_error(staff.post(REFUNDS, body(payment), format="json"), 503, "rail_unavailable")
    assert not Refund.objects.exists()


def test_a_card_refund_is_sent_to_stripe_after_commit(
    staff, overpaid, fake_stripe, django_capture_on_commit_callbacks
):
    payment = Payment.objects.get()
    Payment.objects.filter(pk=payment.pk).update(rail="stripe", provider_reference="pi_x")
    with django_capture_on_commit_callbacks() as callbacks:
        given = staff.post(REFUNDS, body(payment), format="json")
    assert given.status_code == 201 and given.json()["status"] == "pending"
    assert len(callbacks) == 1  # the send, queued only once the refund is committed
    assert fake_stripe.requests == []
