"""Paying statements out: bank batch files (代发) for cooperatives paid by bank, marked paid
by staff once the bank has paid them. Each statement is paid once (one payout per
statement, a unique idempotency key per payout)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from backend import outbox
from backend.errors import Conflict

from ..ledger import Posting, Transaction, ledger_post_many
from ..models import Account, BankBatch, Payout, PayoutRail, Statement
from ..selectors import pending_bank_payouts


@transaction.atomic
def bank_batch_create(*, user: User | None) -> BankBatch:
    """Put every pending bank payout in a new batch file. The payouts are locked (by primary
    key), so two staff creating batches at once cannot put a payout in both: the second
    finds none left (409)."""
    payouts = list(pending_bank_payouts().select_for_update().order_by("pk"))
    if not payouts:
        raise Conflict(
            _("No bank payouts are waiting for a batch."),
            fields={},
        )
    batch = BankBatch.objects.create(created_by=user)
    Payout.objects.filter(pk__in=[p.pk for p in payouts]).update(
        batch=batch, status=Payout.Status.SENT, attempts=1, updated_at=timezone.now()
    )
    ledger_post_many(
        transactions=[
            Transaction(
                kind="payout_sent",
                key=f"payout:{payout.pk}:sent",
                postings=[
                    Posting(Account.COOPERATIVE_PAYABLE, payout.amount, cooperative_id=c),
                    Posting(Account.PAYOUTS, -payout.amount, cooperative_id=c),
                ],
            )
            for payout in payouts
            for c in [payout.statement.cooperative_id]
        ]
    )
    return batch


@transaction.atomic
def bank_batch_mark_paid(*, batch: BankBatch, user: User) -> BankBatch:
    """Staff confirm the bank paid the batch: its payouts and statements are paid."""
    batch = BankBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status == BankBatch.Status.PAID:
        raise Conflict(
            _("This batch is already marked paid."),
            fields={"status": [_("Already paid.")]},
            current_status=batch.status,
        )
    now = timezone.now()
    payouts = list(batch.payouts.select_related("statement").order_by("pk"))
    batch.status, batch.paid_by, batch.paid_at = BankBatch.Status.PAID, user, now
    batch.save(update_fields=["status", "paid_by", "paid_at"])
    Payout.objects.filter(batch=batch).update(status=Payout.Status.PAID, updated_at=now)
    Statement.objects.filter(payout__batch=batch).update(
        status=Statement.Status.PAID, paid_at=now, failure_reason=""
    )
    outbox.record("statement_paid", [p.statement for p in payouts])
    ledger_post_many(
        transactions=[
            Transaction(
                kind="payout_paid",
                key=f"payout:{payout.pk}:paid",
                postings=[
                    Posting(Account.PAYOUTS, payout.amount, cooperative_id=c),
                    Posting(Account.CASH, -payout.amount, cooperative_id=c),
                ],
            )
            for payout in payouts
            for c in [payout.statement.cooperative_id]
        ]
    )
    return batch


@transaction.atomic
def payout_fail(*, payout: Payout, reason: str) -> Payout:
    """A rail reports the payout failed: the statement shows failed with the reason."""
    payout = Payout.objects.select_for_update().get(pk=payout.pk)
    if payout.status == Payout.Status.PAID:
        return payout
    payout.status, payout.failure_reason = Payout.Status.FAILED, reason[:500]
    payout.save(update_fields=["status", "failure_reason", "updated_at"])
    Statement.objects.filter(pk=payout.statement_id).update(
        status=Statement.Status.FAILED, failure_reason=reason[:500] or "failed"
    )
    return payout


__all__ = ["PayoutRail", "bank_batch_create", "bank_batch_mark_paid", "payout_fail"]
