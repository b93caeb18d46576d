"""Posting to the ledger: the one way entries are written. A transaction whose entries do not
sum to zero is refused here, before the database's own check at commit (PostgreSQL, see
migrations/0002_ledger_guards.py). Balances are sums over entries, never stored."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from .exceptions import UnbalancedTransaction
from .models import Account, LedgerEntry, LedgerTransaction


@dataclass(frozen=True)
class Posting:
    account: str
    amount: Decimal  # debit +, credit −
    order_id: int | None = None
    organisation_id: int | None = None
    cooperative_id: int | None = None


@dataclass(frozen=True)
class Transaction:
    kind: str
    key: str
    postings: Sequence[Posting]
    memo: str = ""


def _check(transaction: Transaction) -> list[Posting]:
    postings = [p for p in transaction.postings if p.amount != 0]
    total = sum((p.amount for p in postings), Decimal(0))
    if total != 0 or not postings:
        raise UnbalancedTransaction(
            f"Ledger transaction {transaction.key} does not balance: its entries sum to {total}."
        )
    for posting in postings:
        if posting.account not in Account.values:
            raise UnbalancedTransaction(f"Unknown ledger account {posting.account}.")
        if posting.amount != posting.amount.quantize(Decimal("0.01")):
            raise UnbalancedTransaction(f"{posting.amount} is not a whole number of fen.")
    return postings


def ledger_post_many(*, transactions: Iterable[Transaction]) -> list[LedgerTransaction]:
    """Post transactions, each balanced, in two queries however many there are (settlement
    posts one per statement). A transaction's key names its cause: posting the same cause
    twice breaks the unique key, so a retried job never counts money twice. Call inside the
    caller's atomic block."""
    checked = [(transaction, _check(transaction)) for transaction in transactions]
    if not checked:
        return []
    rows = LedgerTransaction.objects.bulk_create(
        LedgerTransaction(kind=t.kind, key=t.key, memo=t.memo[:200]) for t, _p in checked
    )
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            transaction=row,
            account=p.account,
            amount=p.amount,
            order_id=p.order_id,
            organisation_id=p.organisation_id,
            cooperative_id=p.cooperative_id,
        )
        for row, (_t, postings) in zip(rows, checked, strict=True)
        for p in postings
    )
    return rows


def ledger_post(*, kind: str, key: str, postings: Sequence[Posting], memo: str = ""):
    return ledger_post_many(
        transactions=[Transaction(kind=kind, key=key, postings=postings, memo=memo)]
    )[0]


def balance(*, account: str, **parties) -> Decimal:
    """The balance of an account, overall or for one party (``order_id=``,
    ``organisation_id=``, ``cooperative_id=``): debits less credits."""
    total = LedgerEntry.objects.filter(account=account, **parties).aggregate(s=Sum("amount"))["s"]
    return total or Decimal(0)
