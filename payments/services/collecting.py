"""Collecting from buyers: bank transfers matched to orders, and refunds.

Locks: the orders a write touches (by primary key), then their payments, then the bank
transfer: the project's lock order (order → fulfilment → payment) with the transfer after
the payments it pays."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from backend import outbox
from backend.errors import Conflict, DomainError
from backend.formatting import money
from backend.money import MAX_AMOUNT
from buyers.models import BuyerOrganisation
from orders.models import Fulfilment, Order

from .. import access
from ..exceptions import AllocationRefused, BankReferenceTaken
from ..ledger import Posting, ledger_post
from ..models import Account, BankTransfer, BankTransferAllocation, Payment, Rail, Refund
from ..rails import payment_rail
from ..selectors import order_balance, transfer_allocated


@dataclass(frozen=True)
class AllocationRequest:
    order_id: int
    amount: Decimal | None = None  # None: what the order still owes, as far as the transfer goes


def _check_amount(amount: Decimal, field: str) -> None:
    if amount <= 0 or amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        raise DomainError(
            _("Amounts are positive, at most %(max)s, in whole fen.") % {"max": money(MAX_AMOUNT)},
            fields={
                field: [_("Enter an amount from 0.01 to %(max)s.") % {"max": money(MAX_AMOUNT)}]
            },
        )


def bank_transfer_record(
    *,
    user: User,
    organisation: BuyerOrganisation,
    bank_reference: str,
    amount: Decimal,
    received_on: datetime.date,
    payer_name: str = "",
    allocations: list[AllocationRequest] = (),
) -> tuple[BankTransfer, bool]:
    """Record money a buyer organisation sent by bank and match it to its orders. The bank
    reference is the retry key: the same transfer again answers the first (created False);
    another transfer under the same reference is a 409. Whatever the allocations leave stays
    on the transfer as its unallocated remainder, never dropped."""
    access.check_records_transfer(user=user, organisation_id=organisation.pk)
    _check_amount(amount, "amount")
    bank_reference = bank_reference.strip()
    if not bank_reference:
        raise DomainError(
            _("Give the bank's reference of the transfer."),
            fields={"bank_reference": [_("This field may not be blank.")]},
        )
    existing = BankTransfer.objects.filter(
        organisation=organisation, bank_reference=bank_reference
    ).first()
    if existing is not None:
        return _same_transfer(existing, amount, received_on), False
    try:
        with transaction.atomic():
            transfer = BankTransfer.objects.create(
                organisation=organisation,
                bank_reference=bank_reference,
                amount=amount,
                received_on=received_on,
                payer_name=payer_name,
                recorded_by=user,
            )
            # The money arrived: cash, and a credit of the organisation until it is matched.
            ledger_post(
                kind="bank_transfer_received",
                key=f"bank_transfer:{transfer.pk}",
                memo=f"bank transfer {bank_reference}",
                postings=[
                    Posting(Account.CASH, amount, organisation_id=organisation.pk),
                    Posting(Account.BUYER_RECEIVABLE, -amount, organisation_id=organisation.pk),
                ],
            )
            if allocations:
                _allocate(transfer, list(allocations), field="allocations")
    except IntegrityError:
        # A concurrent request recorded the same reference first: answer as a retry would.
        existing = BankTransfer.objects.filter(
            organisation=organisation, bank_reference=bank_reference
        ).first()
        if existing is None:
            raise
        return _same_transfer(existing, amount, received_on), False
    return transfer, True


def _same_transfer(existing: BankTransfer, amount: Decimal, received_on) -> BankTransfer:
    if existing.amount != amount or existing.received_on != received_on:
        raise BankReferenceTaken(
            _("This organisation already recorded another transfer under this bank reference."),
            fields={"bank_reference": [_("Already recorded with another amount or date.")]},
        )
    return existing


@transaction.atomic
def bank_transfer_allocate(
    *, user: User, transfer: BankTransfer, allocations: list[AllocationRequest]
) -> BankTransfer:
    """Match (more of) a transfer's remainder to orders of its organisation."""
    access.check_records_transfer(user=user, organisation_id=transfer.organisation_id)
    _allocate(transfer, allocations, field="allocations")
    return transfer


def _allocate(transfer: BankTransfer, allocations: list[AllocationRequest], field: str) -> None:
    if not allocations:
        raise AllocationRefused(
            _("Name at least one order."), fields={field: [_("This list may not be empty.")]}
        )
    order_ids = [a.order_id for a in allocations]
    if len(set(order_ids)) != len(order_ids):
        raise AllocationRefused(
            _("Name each order once."), fields={field: [_("An order is named twice.")]}
        )
    orders = {
        order.pk: order
        for order in Order.objects.select_for_update().filter(pk__in=order_ids).order_by("pk")
    }
    for index, request in enumerate(allocations):
        order = orders.get(request.order_id)
        if order is None or order.organisation_id != transfer.organisation_id:
            raise AllocationRefused(
                _("Order %(order)s is not an order of the paying organisation.")
                % {"order": request.order_id},
                fields={f"{field}.{index}.order": [_("Not an order of this organisation.")]},
            )
        if request.amount is not None:
            _check_amount(request.amount, f"{field}.{index}.amount")
    payments = {}
    for order_id in sorted(order_ids):  # payments after their orders, by order
        payment, _created = Payment.objects.get_or_create(
            order_id=order_id, rail=Rail.BANK_TRANSFER, defaults={"amount": Decimal(0)}
        )
        payments[order_id] = Payment.objects.select_for_update().get(pk=payment.pk)
    transfer = BankTransfer.objects.select_for_update().get(pk=transfer.pk)
    remainder = transfer.amount - transfer_allocated(transfer=transfer)
    for index, request in enumerate(allocations):
        order = orders[request.order_id]
        due = order_balance(order=order).due
        amount = request.amount if request.amount is not None else min(due, remainder)
        where = f"{field}.{index}.amount"
        if amount > due:
            raise AllocationRefused(
                _("Order %(order)s owes %(due)s; the rest stays on the transfer.")
                % {"order": order.pk, "due": money(due)},
                fields={where: [_("More than the order owes (%(due)s).") % {"due": money(due)}]},
            )
        if amount > remainder:
            raise AllocationRefused(
                _("The transfer has %(left)s left to allocate.") % {"left": money(remainder)},
                fields={
                    where: [
                        _("More than the transfer has left (%(left)s).")
                        % {"left": money(remainder)}
                    ]
                },
            )
        if amount <= 0:
            continue  # nothing owed, or nothing left: nothing to write
        payment = payments[order.pk]
        allocation, created = BankTransferAllocation.objects.get_or_create(
            transfer=transfer, payment=payment, defaults={"amount": amount}
        )
        if not created:
            BankTransferAllocation.objects.filter(pk=allocation.pk).update(
                amount=allocation.amount + amount
            )
        payment.amount_collected += amount
        payment.amount = payment.amount_collected
        payment.status = Payment.Status.COLLECTED
        payment.save(update_fields=["amount_collected", "amount", "status", "updated_at"])
        payment.order = order
        outbox.record("payment_received", [payment])
        remainder -= amount
        # Matching moves the organisation's credit onto the order it pays.
        ledger_post(
            kind="payment_allocated",
            key=f"bank_transfer:{transfer.pk}:order:{order.pk}:{payment.amount_collected}",
            memo=f"bank transfer {transfer.bank_reference}",
            postings=[
                Posting(Account.BUYER_RECEIVABLE, amount, organisation_id=order.organisation_id),
                Posting(
                    Account.BUYER_RECEIVABLE,
                    -amount,
                    order_id=order.pk,
                    organisation_id=order.organisation_id,
                ),
            ],
        )


def refund_record(
    *,
    payment: Payment,
    amount: Decimal,
    reason: str,
    idempotency_key: str,
    fulfilment: Fulfilment | None = None,
    note: str = "",
    user: User | None = None,
) -> tuple[Refund, bool]:
    """Give money back to the buyer, in part. The idempotency key makes a retry answer the
    first refund. At most what the payment collected, less what it refunded or is refunding,
    goes back. An adjustment (charged to the cooperative on its next statement) names the
    cooperative's part and is at most its goods value."""
    existing = Refund.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return _same_refund(existing, payment, amount), False
    _check_amount(amount, "amount")
    if reason not in Refund.Reason.values:
        raise DomainError(_("Unknown refund reason."), fields={"reason": [_("Unknown reason.")]})
    try:
        with transaction.atomic():
            Order.objects.select_for_update().get(pk=payment.order_id)
            payment = Payment.objects.select_for_update().get(pk=payment.pk)
            pending = sum(
                payment.refunds.filter(status=Refund.Status.PENDING).values_list(
                    "amount", flat=True
                ),
                Decimal(0),
            )
            left = payment.amount_collected - payment.amount_refunded - pending
            if amount > left:
                raise Conflict(
                    _("At most %(left)s of this payment can still be refunded.")
                    % {"left": money(left)},
                    fields={
                        "amount": [
                            _("More than is left to refund (%(left)s).") % {"left": money(left)}
                        ]
                    },
                )
            if reason in NOT_OWED:
                _check_not_owed(payment, amount)
            if reason == Refund.Reason.ADJUSTMENT:
                _check_adjustment(payment, fulfilment, amount)
            elif fulfilment is not None and fulfilment.order_id != payment.order_id:
                raise DomainError(
                    _("The fulfilment is not part of this payment's order."),
                    fields={"fulfilment": [_("Not part of this order.")]},
                )
            refund = Refund.objects.create(
                payment=payment,
                fulfilment=fulfilment,
                amount=amount,
                reason=reason,
                note=note,
                idempotency_key=idempotency_key,
                created_by=user,
            )
            if payment.rail == Rail.BANK_TRANSFER:
                # Paid back by staff through the bank: done when recorded.
                outcome = payment_rail(payment.rail).refund(refund=refund)
                if outcome.status == Refund.Status.SUCCEEDED:
                    _refund_succeeded(refund, payment)
            else:
                # Provider rails (Stripe) send the refund after commit, keyed by the
                # idempotency key; the answer, or the provider's event, marks it done
                # (refund_apply). A send lost on the way is swept again (tasks).
                refund_pk = refund.pk
                transaction.on_commit(lambda: _send_later(refund_pk), robust=True)
    except IntegrityError:
        existing = Refund.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return _same_refund(existing, payment, amount), False
    return refund, True


# Refunds of money the buyer never owed: at most what was paid beyond the order's total,
# checked under the order's and the payment's locks. An overpayment too: a payment never
# holds more than its order owed when it was matched, so what it has left beyond the total
# is the overpayment; more would give back money the buyer still owes. (Money a transfer
# brought beyond its orders stays on the transfer, never on a payment.)
NOT_OWED = (
    Refund.Reason.CANCELLATION,
    Refund.Reason.SHORTFALL,
    Refund.Reason.QUALITY,
    Refund.Reason.OVERPAYMENT,
)


def _check_not_owed(payment: Payment, amount: Decimal) -> None:
    balance = order_balance(order=payment.order)
    others = Refund.objects.filter(
        payment__order_id=payment.order_id, status=Refund.Status.PENDING
    ).exclude(reason=Refund.Reason.ADJUSTMENT)
    promised = sum(others.values_list("amount", flat=True), Decimal(0))
    over = max(balance.overpaid - promised, Decimal(0))
    if amount > over:
        raise Conflict(
            _("The buyer paid %(over)s more than the order's total; at most that goes back.")
            % {"over": money(over)},
            fields={
                "amount": [
                    _("More than was paid beyond the total (%(over)s).") % {"over": money(over)}
                ]
            },
        )


def _send_later(refund_pk: int) -> None:
    from .. import tasks  # tasks call services: imported when first needed

    tasks.send_refund.delay(refund_pk)


def _same_refund(existing: Refund, payment: Payment, amount: Decimal) -> Refund:
    if existing.payment_id != payment.pk or existing.amount != amount:
        raise Conflict(
            _("This idempotency key was used for another refund."),
            fields={"idempotency_key": [_("Already used for another refund.")]},
        )
    return existing


def _check_adjustment(payment: Payment, fulfilment: Fulfilment | None, amount: Decimal) -> None:
    if fulfilment is None or fulfilment.order_id != payment.order_id:
        raise DomainError(
            _("An adjustment names the cooperative's part of this order it is charged to."),
            fields={"fulfilment": [_("Name a part of this order.")]},
        )
    charged = sum(
        Refund.objects.filter(
            fulfilment=fulfilment,
            reason=Refund.Reason.ADJUSTMENT,
            status__in=[Refund.Status.PENDING, Refund.Status.SUCCEEDED],
        ).values_list("amount", flat=True),
        Decimal(0),
    )
    if amount + charged > fulfilment.subtotal:
        left = fulfilment.subtotal - charged
        raise Conflict(
            _("At most %(left)s more can be charged to this part.") % {"left": money(left)},
            fields={
                "amount": [
                    _("More than the part's goods value allows (%(left)s).") % {"left": money(left)}
                ]
            },
        )


@transaction.atomic
def refund_mark_succeeded(*, refund: Refund) -> Refund:
    """The provider says the refund went through (a webhook's task): safe to run twice."""
    payment = Payment.objects.get(pk=refund.payment_id)
    Order.objects.select_for_update().get(pk=payment.order_id)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    refund = Refund.objects.select_for_update().get(pk=refund.pk)
    if refund.status == Refund.Status.PENDING:
        _refund_succeeded(refund, payment)
    return refund


@transaction.atomic
def refund_apply(*, refund: Refund, status: str, reference: str = "") -> Refund:
    """What the provider says of a refund (its answer, or a webhook's task): pending moves
    to succeeded (posted) or failed, once; anything later is ignored. Safe to run twice."""
    payment = Payment.objects.get(pk=refund.payment_id)
    Order.objects.select_for_update().get(pk=payment.order_id)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    refund = Refund.objects.select_for_update().get(pk=refund.pk)
    if reference and not refund.provider_reference:
        refund.provider_reference = reference
        refund.save(update_fields=["provider_reference", "updated_at"])
    if refund.status == Refund.Status.PENDING:
        if status == Refund.Status.SUCCEEDED:
            _refund_succeeded(refund, payment)
        elif status == Refund.Status.FAILED:
            refund.status = Refund.Status.FAILED
            refund.save(update_fields=["status", "updated_at"])
    return refund


def _refund_succeeded(refund: Refund, payment: Payment) -> None:
    refund.status = Refund.Status.SUCCEEDED
    refund.save(update_fields=["status", "updated_at"])
    outbox.record("refund_paid", [refund])
    payment.amount_refunded += refund.amount
    payment.save(update_fields=["amount_refunded", "updated_at"])
    order = payment.order
    # An adjustment is money the cooperative bears: it sits on "refunds" until its next
    # statement recovers it. Any other refund gives back what the buyer did not owe.
    debit = (
        Account.REFUNDS if refund.reason == Refund.Reason.ADJUSTMENT else Account.BUYER_RECEIVABLE
    )
    cooperative_id = refund.fulfilment.cooperative_id if refund.fulfilment_id else None
    ledger_post(
        kind="refund_paid",
        key=f"refund:{refund.pk}",
        memo=refund.get_reason_display(),
        postings=[
            Posting(
                debit,
                refund.amount,
                order_id=order.pk,
                organisation_id=order.organisation_id,
                cooperative_id=cooperative_id if debit == Account.REFUNDS else None,
            ),
            Posting(
                Account.CASH,
                -refund.amount,
                order_id=order.pk,
                organisation_id=order.organisation_id,
            ),
        ],
    )
