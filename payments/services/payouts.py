"""Paying statements out. Each statement is paid once: one payout per statement, a unique
idempotency key per payout, a unique provider reference per transfer.

- **Bank batch files (代发)** for cooperatives paid by bank: staff make a batch, upload it
  and mark it paid once the bank has paid it.
- **Stripe Connect transfers** for cooperatives with a connected account: the beat job
  ``send_due_payouts`` sends every payout whose ``next_attempt_at`` has come
  (``payout_send``). A payout moves pending → paid, or → failed with the reason; a failed one
  is tried again after ``PAYOUT_RETRY_BASE_SECONDS`` × 4^(attempts − 1) (1, 4, 16, 64 minutes
  by default) until ``PAYOUT_MAX_ATTEMPTS``, then stays failed, with nothing scheduled, for
  staff to retry (``payout_retry``). The schedule is a column and a beat job, not Celery
  countdowns: a countdown lives in the broker, is redelivered early after Redis's
  visibility timeout and is lost with the broker; the column is in PostgreSQL and shown to
  staff. All attempts fall well inside the 24 hours Stripe keeps an idempotency key.
"""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from backend import outbox
from backend.errors import Conflict

from ..ledger import Posting, Transaction, ledger_post, ledger_post_many
from ..models import Account, BankBatch, Payout, PayoutRail, Statement
from ..rails import RailUnavailable, payout_rail
from ..selectors import pending_bank_payouts

logger = logging.getLogger(__name__)


def no_bank_details() -> str:
    """Why a bank payout waits outside the batch files (kept on the payout for staff)."""
    return _(
        "The cooperative has no bank details (payout reference): this payout waits outside "
        "the bank batch until staff add them."
    )


def has_bank_details(cooperative) -> bool:
    return bool(cooperative.payout_reference.strip())


@transaction.atomic
def bank_batch_create(*, user: User | None) -> BankBatch:
    """Put every pending bank payout whose cooperative has bank details in a new batch file;
    one without waits, with the reason on it, rather than go to the bank as a row without an
    account. The payouts are locked (by primary key), so two staff creating batches at once
    cannot put a payout in both: the second finds none left (409)."""
    pending = list(
        pending_bank_payouts()
        .select_for_update(of=("self",))
        .select_related("statement__cooperative")
        .order_by("pk")
    )
    payouts = [p for p in pending if has_bank_details(p.statement.cooperative)]
    waiting = [p.pk for p in pending if not has_bank_details(p.statement.cooperative)]
    if waiting:
        Payout.objects.filter(pk__in=waiting).update(
            failure_reason=no_bank_details(), updated_at=timezone.now()
        )
    if not payouts:
        if waiting:
            raise Conflict(
                _(
                    "No bank payout can go into a batch: %(count)s wait for their "
                    "cooperative's bank details."
                )
                % {"count": len(waiting)},
                fields={},
                waiting_payouts=waiting,
            )
        raise Conflict(
            _("No bank payouts are waiting for a batch."),
            fields={},
        )
    batch = BankBatch.objects.create(created_by=user)
    Payout.objects.filter(pk__in=[p.pk for p in payouts]).update(
        batch=batch,
        status=Payout.Status.SENT,
        attempts=1,
        failure_reason="",
        updated_at=timezone.now(),
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


def retry_delay(attempts: int) -> datetime.timedelta:
    """Exponential backoff: the wait after the ``attempts``-th failed attempt."""
    return datetime.timedelta(seconds=settings.PAYOUT_RETRY_BASE_SECONDS * 4 ** (attempts - 1))


def payouts_due(*, now: datetime.datetime | None = None) -> list[int]:
    """Ids of the provider payouts whose next attempt has come, oldest first."""
    return list(
        Payout.objects.filter(
            rail=PayoutRail.STRIPE_TRANSFER,
            status__in=[Payout.Status.PENDING, Payout.Status.FAILED],
            next_attempt_at__lte=now or timezone.now(),
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def payout_send(*, payout_id: int) -> Payout:
    """Send one provider payout if its attempt is due; safe to run twice, at once or after
    a crash.

    The payout row stays locked while the rail calls Stripe: a second send of the same
    payout waits, then finds it paid (or rescheduled) and does nothing. A worker killed
    during the call takes its transaction with it; the rerun sends the same idempotency key,
    and Stripe answers with the transfer it already made."""
    payout = (
        Payout.objects.select_for_update(of=("self",))
        .select_related("statement__cooperative")
        .get(pk=payout_id)
    )
    now = timezone.now()
    if (
        payout.rail != PayoutRail.STRIPE_TRANSFER
        or payout.status in (Payout.Status.PAID, Payout.Status.SENT)
        or payout.next_attempt_at is None
        or payout.next_attempt_at > now
    ):
        return payout  # paid, failed for good, or not yet due (a duplicate message)
    rail = payout_rail(payout.rail)
    called = rail.is_available()  # switched off, the rail calls nobody: nothing is unknown
    outcome = rail.send(payout=payout)
    payout.attempts += 1
    if outcome.status == Payout.Status.PAID:
        _paid(payout, reference=outcome.reference, now=now)
        return payout
    if outcome.status == Payout.Status.FAILED:
        payout.refusals += 1  # Stripe keeps the refusal under the old key
    elif called:
        payout.unanswered += 1
    payout.status, payout.failure_reason = Payout.Status.FAILED, outcome.reason[:500]
    if payout.attempts < settings.PAYOUT_MAX_ATTEMPTS:
        payout.next_attempt_at = now + retry_delay(payout.attempts)
    else:
        payout.next_attempt_at = None
        logger.error(
            "payout %s of statement %s failed %s times, left for staff: %s",
            payout.pk,
            payout.statement_id,
            payout.attempts,
            outcome.reason,
        )
    payout.save(
        update_fields=[
            "status",
            "failure_reason",
            "attempts",
            "refusals",
            "unanswered",
            "next_attempt_at",
            "updated_at",
        ]
    )
    Statement.objects.filter(pk=payout.statement_id).update(
        status=Statement.Status.FAILED, failure_reason=payout.failure_reason or "failed"
    )
    return payout


def _paid(payout: Payout, *, reference: str, now: datetime.datetime) -> None:
    payout.status, payout.provider_reference = Payout.Status.PAID, reference
    payout.failure_reason, payout.next_attempt_at = "", None
    payout.save(
        update_fields=[
            "status",
            "provider_reference",
            "failure_reason",
            "attempts",
            "next_attempt_at",
            "updated_at",
        ]
    )
    Statement.objects.filter(pk=payout.statement_id).update(
        status=Statement.Status.PAID, paid_at=now, failure_reason=""
    )
    cooperative_id = payout.statement.cooperative_id
    # A transfer lands in the connected account at once: payable to cash, no money in transit.
    ledger_post(
        kind="payout_paid",
        key=f"payout:{payout.pk}:paid",
        postings=[
            Posting(Account.COOPERATIVE_PAYABLE, payout.amount, cooperative_id=cooperative_id),
            Posting(Account.CASH, -payout.amount, cooperative_id=cooperative_id),
        ],
    )


@transaction.atomic
def payout_retry(*, payout: Payout, user: User) -> Payout:
    """Staff try a failed transfer again now (the caller sends it after commit). Only a
    failed provider payout: a paid one is paid, a pending one is already waiting for its
    attempt, and bank payouts are paid with their batch."""
    payout = Payout.objects.select_for_update(of=("self",)).get(pk=payout.pk)
    if payout.rail != PayoutRail.STRIPE_TRANSFER:
        raise Conflict(
            _("Bank payouts are paid with their bank batch; they are not retried here."),
            fields={"rail": [_("Only Stripe transfers are retried.")]},
            current_status=payout.status,
        )
    if payout.status != Payout.Status.FAILED:
        raise Conflict(
            _("Only a failed payout can be retried; this one is %(status)s.")
            % {"status": payout.get_status_display()},
            fields={"status": [_("Not failed.")]},
            current_status=payout.status,
        )
    rail = payout_rail(payout.rail)
    if not rail.is_available():
        raise RailUnavailable(payout.rail)
    payout.status, payout.next_attempt_at = Payout.Status.PENDING, timezone.now()
    payout.save(update_fields=["status", "next_attempt_at", "updated_at"])
    Statement.objects.filter(pk=payout.statement_id).update(
        status=Statement.Status.PENDING, failure_reason=""
    )
    logger.info("payout %s retried by staff user %s", payout.pk, user.pk)
    return payout


@transaction.atomic
def payout_move_to_bank(*, payout: Payout, user: User) -> Payout:
    """Staff move a failed Stripe transfer to the bank batch (the Stripe rail was switched
    off, or the connected account is gone): it waits for the next batch file like any bank
    payout. Never twice: if any attempt's outcome was unknown (no answer), Stripe is asked
    first whether a transfer was made after all, and the move is refused if so, or if
    Stripe cannot say (503). The row stays locked meanwhile, so a send cannot race it."""
    payout = (
        Payout.objects.select_for_update(of=("self",))
        .select_related("statement__cooperative")
        .get(pk=payout.pk)
    )
    if payout.rail != PayoutRail.STRIPE_TRANSFER:
        raise Conflict(
            _("This payout is already paid by bank batch."),
            fields={"rail": [_("Only Stripe transfers are moved to the bank batch.")]},
            current_status=payout.status,
        )
    if payout.status != Payout.Status.FAILED:
        raise Conflict(
            _("Only a failed transfer can be moved to the bank batch; this one is %(status)s.")
            % {"status": payout.get_status_display()},
            fields={"status": [_("Not failed.")]},
            current_status=payout.status,
        )
    if payout.unanswered:  # some attempt got no answer: ask Stripe
        made = payout_rail(payout.rail).made_before(payout=payout)
        if made:
            raise Conflict(
                _(
                    "Stripe already made a transfer for this statement; retry the payout to "
                    "record it."
                ),
                fields={"rail": [_("Already transferred.")]},
                current_status=payout.status,
            )
    cooperative = payout.statement.cooperative
    payout.rail, payout.status, payout.next_attempt_at = (
        PayoutRail.BANK_BATCH,
        Payout.Status.PENDING,
        None,
    )
    payout.failure_reason = "" if has_bank_details(cooperative) else no_bank_details()
    payout.save(update_fields=["rail", "status", "next_attempt_at", "failure_reason", "updated_at"])
    Statement.objects.filter(pk=payout.statement_id).update(
        status=Statement.Status.PENDING, failure_reason=""
    )
    logger.info("payout %s moved to the bank batch by staff user %s", payout.pk, user.pk)
    return payout


__all__ = [
    "PayoutRail",
    "bank_batch_create",
    "bank_batch_mark_paid",
    "payout_fail",
    "payout_move_to_bank",
    "payout_retry",
    "payout_send",
    "payouts_due",
    "retry_delay",
]
