"""Settlement: one statement per cooperative, each fulfilment once, the commission rule, the
household split to the fen, the ledger balanced; payouts by bank batch; the overdue flag."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from orders.models import EventKind, OrderEvent
from payments.ledger import Posting, balance
from payments.models import (
    Account,
    BankBatch,
    HouseholdShare,
    LedgerEntry,
    LedgerTransaction,
    Payment,
    Payout,
    Statement,
    StatementLine,
)
from payments.services.collecting import AllocationRequest, bank_transfer_record, refund_record
from payments.services.overdue import orders_flag_overdue
from payments.services.payouts import bank_batch_create, bank_batch_mark_paid
from payments.services.settlement import SettlementPolicy, settlement_run
from tests.factories import HouseholdFactory, place_order
from tests.payments.conftest import deliver, traced_listing

pytestmark = pytest.mark.django_db


def pay(staff_user, order, reference=None, amount=None):
    bank_transfer_record(
        user=staff_user,
        organisation=order.organisation,
        bank_reference=reference or f"PAY-{order.pk}",
        amount=Decimal(amount) if amount else order.total,
        received_on=datetime.date(2026, 11, 28),
        allocations=[AllocationRequest(order.pk, None)],
    )


def test_a_paid_completed_order_is_settled_with_its_household_split(
    staff_user, delivered_order, cooperative, households
):
    pay(staff_user, delivered_order)
    run = settlement_run(user=staff_user)
    assert (run.statements_count, run.fulfilments_count) == (1, 1)
    statement = Statement.objects.get()
    # 15 kg accepted × 68.00; 3% commission on it, rounded once.
    assert statement.goods_value == Decimal("1020.00")
    assert statement.commission == Decimal("30.60")
    assert statement.net_payable == Decimal("989.40")
    shares = {s.household_id: s for s in statement.shares.all()}
    assert sum(s.amount for s in shares.values()) == statement.net_payable
    # The lot's contributions are 50/30/20: the picks drew the line from that one lot.
    assert [shares[h.pk].amount for h in households] == [
        Decimal("494.70"),
        Decimal("296.82"),
        Decimal("197.88"),
    ]
    assert shares[households[0].pk].on_poverty_list
    payout = Payout.objects.get()
    assert (payout.rail, payout.amount, payout.idempotency_key) == (
        "bank_batch",
        Decimal("989.40"),
        f"statement-{statement.pk}-payout",
    )
    assert balance(account=Account.COOPERATIVE_PAYABLE, cooperative_id=cooperative.pk) == Decimal(
        "-989.40"
    )
    assert balance(account=Account.PLATFORM_COMMISSION) == Decimal("-30.60")
    assert balance(account=Account.BUYER_RECEIVABLE) == 0  # billed and paid


def test_a_second_run_settles_nothing_again(staff_user, delivered_order):
    pay(staff_user, delivered_order)
    settlement_run(user=staff_user)
    again = settlement_run(user=staff_user)
    assert (again.statements_count, again.fulfilments_count) == (0, 0)
    assert StatementLine.objects.count() == 1


def test_unpaid_orders_wait_and_net_terms_follow_the_policy(staff_user, delivered_order):
    assert settlement_run().fulfilments_count == 0
    organisation = delivered_order.organisation
    organisation.net_terms_days = 30
    organisation.save()
    assert settlement_run().fulfilments_count == 0  # default: only once paid
    settled = settlement_run(policy=SettlementPolicy(settle_unpaid_net_terms=True))
    assert settled.fulfilments_count == 1
    assert balance(account=Account.BUYER_RECEIVABLE, organisation_id=organisation.pk) == Decimal(
        "1020.00"
    )  # what the buyer owes the platform now


def test_a_delivered_but_not_completed_part_waits(staff_user, purchaser_user, store, honey):
    order = deliver(place_order(purchaser_user, store, (honey, "10")), staff_user, complete=False)
    pay(staff_user, order)
    assert settlement_run().fulfilments_count == 0


def test_an_adjustment_is_deducted_before_commission(staff_user, delivered_order):
    pay(staff_user, delivered_order)
    refund_record(
        payment=Payment.objects.get(),
        amount=Decimal("20.00"),
        reason="adjustment",
        idempotency_key="complaint-1",
        fulfilment=delivered_order.fulfilments.get(),
    )
    statement = Statement.objects.get(run=settlement_run())
    assert statement.refunds == Decimal("20.00")
    assert statement.commission == Decimal("30.00")  # 3% of 1,000.00
    assert statement.net_payable == Decimal("970.00")
    assert statement.adjustment_refunds.count() == 1
    assert balance(account=Account.REFUNDS) == 0  # recovered from the cooperative


def test_one_statement_per_cooperative_and_queries_do_not_grow(
    staff_user, purchaser_user, store, cooperative, other_cooperative, honey
):
    grower = HouseholdFactory(cooperative=other_cooperative)
    tongcao = traced_listing(other_cooperative, [(grower, "100")], price="30.00")
    orders = [place_order(purchaser_user, store, (honey, "10"), (tongcao, "10")) for _ in range(2)]
    for order in orders:
        deliver(order, staff_user)
        pay(staff_user, order)

    with CaptureQueriesContext(connection) as small:
        settlement_run()
    more = [place_order(purchaser_user, store, (honey, "10"), (tongcao, "10")) for _ in range(4)]
    for order in more:
        deliver(order, staff_user)
        pay(staff_user, order)
    with CaptureQueriesContext(connection) as large:
        run = settlement_run()
    assert run.fulfilments_count == 8 and run.statements_count == 2
    assert len(large.captured_queries) == len(small.captured_queries)
    assert Statement.objects.filter(cooperative=cooperative).count() == 2


def test_every_ledger_transaction_sums_to_zero(staff_user, delivered_order):
    pay(staff_user, delivered_order, amount="1100.00")
    settlement_run()
    bank_batch_mark_paid(batch=bank_batch_create(user=staff_user), user=staff_user)
    for ledger_transaction in LedgerTransaction.objects.prefetch_related("entries"):
        assert sum(e.amount for e in ledger_transaction.entries.all()) == 0
    assert balance(account=Account.PAYOUTS) == 0
    assert balance(account=Account.COOPERATIVE_PAYABLE) == 0
    # Cash left: the commission, and the buyer's 80.00 overpayment still to refund.
    assert balance(account=Account.CASH) == Decimal("30.60") + Decimal("80.00")


def test_the_database_refuses_an_unbalanced_transaction():
    with pytest.raises(IntegrityError), transaction.atomic():
        row = LedgerTransaction.objects.create(kind="test", key="unbalanced")
        LedgerEntry.objects.create(transaction=row, account=Account.CASH, amount=Decimal("1.00"))
        # The deferred trigger checks at commit; make it check now.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_the_ledger_is_append_only():
    from payments.ledger import ledger_post

    posted = ledger_post(
        kind="test",
        key="append-only",
        postings=[
            Posting(Account.CASH, Decimal("1.00")),
            Posting(Account.BUYER_RECEIVABLE, Decimal("-1.00")),
        ],
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.filter(transaction=posted).update(amount=Decimal("2.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.filter(transaction=posted).delete()


def test_bank_batch_pays_each_statement_once(staff_user, delivered_order):
    pay(staff_user, delivered_order)
    settlement_run()
    batch = bank_batch_create(user=staff_user)
    assert batch.payouts.get().status == Payout.Status.SENT
    from backend.errors import Conflict

    with pytest.raises(Conflict):
        bank_batch_create(user=staff_user)  # nothing left to batch
    bank_batch_mark_paid(batch=batch, user=staff_user)
    with pytest.raises(Conflict):
        bank_batch_mark_paid(batch=batch, user=staff_user)
    assert Statement.objects.get().status == Statement.Status.PAID
    assert BankBatch.objects.get().status == BankBatch.Status.PAID


def test_overdue_orders_are_flagged_once(staff_user, delivered_order):
    today = datetime.date.today()
    assert orders_flag_overdue(today=today) == 0  # due at delivery: today
    later = today + datetime.timedelta(days=2)
    assert orders_flag_overdue(today=later) == 1
    assert orders_flag_overdue(today=later) == 0
    event = OrderEvent.objects.get(kind=EventKind.PAYMENT_OVERDUE)
    assert "¥1,020.00" in event.note


def test_net_terms_delay_the_flag_and_payment_ends_it(
    staff_user, delivered_order, purchaser_user, store, honey
):
    organisation = delivered_order.organisation
    organisation.net_terms_days = 30
    organisation.save()
    today = datetime.date.today()
    assert orders_flag_overdue(today=today + datetime.timedelta(days=20)) == 0
    pay(staff_user, delivered_order)
    assert orders_flag_overdue(today=today + datetime.timedelta(days=40)) == 0


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_settle_each_fulfilment_once(staff_user, purchaser_user, store, honey):
    orders = [place_order(purchaser_user, store, (honey, "10")) for _ in range(3)]
    for order in orders:
        deliver(order, staff_user)
        pay(staff_user, order)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(settlement_run().fulfilments_count)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [0, 3]
    assert StatementLine.objects.count() == 3
    statement = Statement.objects.get()
    assert sum(s.amount for s in HouseholdShare.objects.filter(statement=statement)) == (
        statement.net_payable
    )
