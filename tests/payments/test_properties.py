"""Money properties, for arbitrary quantities, prices and contributions (hypothesis):
household shares add up to the net, commission plus net is goods less refunds, and every
ledger transaction sums to zero, in the code and in the database."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.money import split
from payments.exceptions import UnbalancedTransaction
from payments.ledger import Posting, Transaction, _check, ledger_post_many
from payments.models import Account, LedgerEntry, LedgerTransaction
from payments.services.settlement import commission_for

fen = st.integers(min_value=0, max_value=10**11).map(lambda n: Decimal(n) / 100)
positive_fen = st.integers(min_value=1, max_value=10**9).map(lambda n: Decimal(n) / 100)
rate = st.integers(min_value=0, max_value=9999).map(lambda n: Decimal(n) / 10000)
quantity = st.integers(min_value=1, max_value=10**9).map(lambda n: Decimal(n) / 1000)


@given(
    goods=fen,
    refunds_part=st.fractions(min_value=0, max_value=1),
    commission_rate=rate,
)
def test_commission_plus_net_is_goods_less_refunds(goods, refunds_part, commission_rate):
    refunds = (
        goods * Decimal(refunds_part.numerator) / Decimal(refunds_part.denominator)
    ).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
    commission, net = commission_for(goods, refunds, commission_rate)
    assert commission + net == goods - refunds
    assert commission >= 0 and net >= 0
    assert commission == commission.quantize(Decimal("0.01"))


@given(
    net=fen,
    lines=st.lists(
        st.tuples(
            positive_fen,  # the line's accepted value
            st.lists(quantity, min_size=1, max_size=6),  # households' contributions to its lot
        ),
        min_size=1,
        max_size=8,
    ),
)
def test_household_shares_sum_to_the_net(net, lines):
    """The settlement weighs each household by value × its part of the lot, then splits."""
    weights: dict[int, Decimal] = {}
    for value, contributions in lines:
        lot = sum(contributions)
        for household, contribution in enumerate(contributions):
            weights[household] = weights.get(household, Decimal(0)) + value * contribution / lot
    shares = split(net, list(weights.values()))
    assert sum(shares) == net
    assert all(share >= 0 for share in shares)


amounts = st.lists(
    st.integers(min_value=-(10**9), max_value=10**9).filter(bool).map(lambda n: Decimal(n) / 100),
    min_size=1,
    max_size=6,
)
accounts = st.sampled_from(Account.values)


@given(amounts=amounts, account_list=st.lists(accounts, min_size=7, max_size=7))
def test_the_posting_service_refuses_any_unbalanced_transaction(amounts, account_list):
    postings = [Posting(a, amount) for a, amount in zip(account_list, amounts, strict=False)]
    balanced = [*postings, Posting(Account.CASH, -sum(amounts))]
    if sum(amounts) != 0:
        with pytest.raises(UnbalancedTransaction):
            _check(Transaction(kind="t", key="k", postings=postings))
    kept = (
        _check(Transaction(kind="t", key="k", postings=balanced))
        if any(p.amount for p in balanced)
        else []
    )
    assert sum(p.amount for p in kept) == 0


@pytest.mark.django_db
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amounts=amounts)
def test_what_the_database_holds_sums_to_zero(amounts):
    """Posted through the service, each transaction sums to zero in the database; written
    around the service, an unbalanced one is refused at commit by the database itself."""
    balanced = [Posting(Account.CASH, a) for a in amounts] + [
        Posting(Account.BUYER_RECEIVABLE, -sum(amounts))
    ]
    with transaction.atomic():
        if sum(amounts) != 0:
            rows = ledger_post_many(
                transactions=[Transaction(kind="t", key=f"k{id(amounts)}", postings=balanced)]
            )
            entries = LedgerEntry.objects.filter(transaction=rows[0])
            assert sum(e.amount for e in entries) == 0
        with pytest.raises(Exception) as refused, transaction.atomic():
            row = LedgerTransaction.objects.create(kind="t", key=f"bad{id(amounts)}")
            LedgerEntry.objects.bulk_create(
                LedgerEntry(transaction=row, account=Account.CASH, amount=a) for a in amounts
            )
            LedgerEntry.objects.create(
                transaction=row, account=Account.CASH, amount=Decimal("0.01")
            )
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        assert "does not balance" in str(refused.value)
        transaction.set_rollback(True)
