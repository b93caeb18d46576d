"""Bank transfers matched to orders, what stays due or unallocated, and refunds."""

import datetime
from decimal import Decimal

import pytest

from backend.errors import Conflict, DomainError, Forbidden
from payments.ledger import balance
from payments.models import Account, BankTransfer, LedgerEntry, Payment, Refund
from payments.selectors import order_balance
from payments.services.collecting import (
    AllocationRequest,
    bank_transfer_allocate,
    bank_transfer_record,
    refund_record,
)
from tests.factories import place_order
from tests.payments.conftest import deliver

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 28)


def record(user, organisation, reference, amount, *allocations):
    return bank_transfer_record(
        user=user,
        organisation=organisation,
        bank_reference=reference,
        amount=Decimal(amount),
        received_on=TODAY,
        allocations=[
            AllocationRequest(order.pk, Decimal(a) if a else None) for order, a in allocations
        ],
    )


def test_accepted_quantities_set_what_is_due(delivered_order):
    """A quality rejection lowers the total: 15 of 20 kg at 68.00."""
    assert delivered_order.total == Decimal("1020.00")
    assert order_balance(order=delivered_order).due == Decimal("1020.00")


def test_an_underpayment_leaves_the_rest_due(staff_user, organisation, delivered_order):
    _transfer, created = record(
        staff_user, organisation, "ICBC-1", "1000.00", (delivered_order, None)
    )
    assert created
    balance_now = order_balance(order=delivered_order)
    assert (balance_now.paid, balance_now.due) == (Decimal("1000.00"), Decimal("20.00"))
    payment = Payment.objects.get(order=delivered_order)
    assert (payment.rail, payment.status, payment.amount_collected) == (
        "bank_transfer",
        "collected",
        Decimal("1000.00"),
    )
    assert balance(account=Account.CASH) == Decimal("1000.00")
    assert balance(account=Account.BUYER_RECEIVABLE, order_id=delivered_order.pk) == Decimal(
        "-1000.00"
    )


def test_an_overpayment_stays_on_the_transfer(staff_user, organisation, delivered_order):
    transfer, _ = record(staff_user, organisation, "ICBC-2", "1500.00", (delivered_order, None))
    allocated = sum(a.amount for a in transfer.allocations.all())
    assert allocated == Decimal("1020.00")
    assert transfer.amount - allocated == Decimal("480.00")  # shown, never dropped
    assert order_balance(order=delivered_order).due == 0


def test_the_same_transfer_again_is_answered_once(staff_user, organisation, delivered_order):
    first, _ = record(staff_user, organisation, "ICBC-3", "500.00", (delivered_order, None))
    again, created = record(staff_user, organisation, "ICBC-3", "500.00", (delivered_order, None))
    assert (again.pk, created) == (first.pk, False)
    assert Payment.objects.get(order=delivered_order).amount_collected == Decimal("500.00")
    with pytest.raises(Conflict):
        record(staff_user, organisation, "ICBC-3", "600.00")


def test_an_order_of_another_organisation_is_refused_and_nothing_written(
    staff_user, organisation, other_organisation, delivered_order
):
    with pytest.raises(DomainError) as refused:
        record(staff_user, other_organisation, "ABC-1", "100.00", (delivered_order, None))
    assert "allocations.0.order" in refused.value.fields
    assert not BankTransfer.objects.exists() and not LedgerEntry.objects.exists()


def test_more_than_owed_or_left_is_refused(staff_user, organisation, delivered_order):
    with pytest.raises(DomainError) as refused:
        record(staff_user, organisation, "ABC-2", "5000.00", (delivered_order, "2000.00"))
    assert "allocations.0.amount" in refused.value.fields
    transfer, _ = record(staff_user, organisation, "ABC-3", "100.00")
    with pytest.raises(DomainError):
        bank_transfer_allocate(
            user=staff_user,
            transfer=transfer,
            allocations=[AllocationRequest(delivered_order.pk, Decimal("100.01"))],
        )
    assert not Payment.objects.exists()


@pytest.mark.parametrize("amount", ["-1.00", "0", "10000000000.00", "1.001"])
def test_bad_amounts_are_refused(staff_user, organisation, amount):
    with pytest.raises(DomainError):
        record(staff_user, organisation, "BAD", amount)
    assert not BankTransfer.objects.exists()


def test_a_purchaser_records_no_transfer(purchaser_user, organisation):
    with pytest.raises(Forbidden):
        record(purchaser_user, organisation, "P-1", "10.00")


def test_a_remainder_is_matched_later(staff_user, organisation, purchaser_user, store, honey):
    first = place_order(purchaser_user, store, (honey, "10"))
    transfer, _ = record(staff_user, organisation, "LATER", "1000.00")
    assert not transfer.allocations.exists()
    bank_transfer_allocate(
        user=staff_user, transfer=transfer, allocations=[AllocationRequest(first.pk, None)]
    )
    assert order_balance(order=first).due == 0
    assert transfer.allocations.get().amount == Decimal("680.00")


def test_a_refund_is_recorded_once_and_posted(
    staff_user, organisation, purchaser_user, store, honey
):
    # Paid 1,360.00 for 20 kg, then 5 kg rejected at delivery: 340.00 paid beyond the total.
    order = place_order(purchaser_user, store, (honey, "20"))
    record(staff_user, organisation, "R-1", "1360.00", (order, None))
    order = deliver(order, staff_user, accepted={honey: ("15", "quality", "crystallised")})
    payment = Payment.objects.get(order=order)
    refund, created = refund_record(
        payment=payment, amount=Decimal("20.00"), reason="overpayment", idempotency_key="r-1"
    )
    again, created_again = refund_record(
        payment=payment, amount=Decimal("20.00"), reason="overpayment", idempotency_key="r-1"
    )
    assert (created, created_again, again.pk) == (True, False, refund.pk)
    assert refund.status == Refund.Status.SUCCEEDED
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("20.00")
    assert order_balance(order=order).due == 0
    assert order_balance(order=order).overpaid == Decimal("320.00")
    assert balance(account=Account.CASH) == Decimal("1340.00")


def test_an_overpayment_refund_is_capped_at_what_was_paid_beyond_the_total(
    staff_user, organisation, purchaser_user, store, honey
):
    """Not at what the payment has left: that would refund money the buyer owes."""
    order = place_order(purchaser_user, store, (honey, "20"))
    record(staff_user, organisation, "R-3", "1360.00", (order, None))
    payment = Payment.objects.get(order=order)
    entries = LedgerEntry.objects.count()
    with pytest.raises(Conflict) as paid_exactly:
        refund_record(
            payment=payment, amount=Decimal("0.01"), reason="overpayment", idempotency_key="o-1"
        )
    assert paid_exactly.value.fields == {"amount": ["More than was paid beyond the total (¥0.00)."]}
    order = deliver(order, staff_user, accepted={honey: ("15", "quality", "crystallised")})
    with pytest.raises(Conflict):
        refund_record(
            payment=payment, amount=Decimal("340.01"), reason="overpayment", idempotency_key="o-2"
        )
    assert not Refund.objects.exists() and LedgerEntry.objects.count() == entries
    refund, _ = refund_record(
        payment=payment, amount=Decimal("340.00"), reason="overpayment", idempotency_key="o-3"
    )
    assert refund.status == Refund.Status.SUCCEEDED
    assert order_balance(order=order).due == 0 == order_balance(order=order).overpaid


def test_an_adjustment_names_a_part_of_the_order(staff_user, organisation, delivered_order):
    record(staff_user, organisation, "R-2", "1020.00", (delivered_order, None))
    payment = Payment.objects.get(order=delivered_order)
    with pytest.raises(DomainError):
        refund_record(
            payment=payment, amount=Decimal("5.00"), reason="adjustment", idempotency_key="a"
        )
    fulfilment = delivered_order.fulfilments.get()
    _refund, _ = refund_record(
        payment=payment,
        amount=Decimal("5.00"),
        reason="adjustment",
        idempotency_key="a",
        fulfilment=fulfilment,
    )
    assert balance(account=Account.REFUNDS, cooperative_id=fulfilment.cooperative_id) == Decimal(
        "5.00"
    )
