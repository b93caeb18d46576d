"""Payments a provider holds (the Stripe rail; WeChat Pay or Alipay later): starting an
order's payment, applying what the provider says, lowering what is taken when the order's
total falls, and sending refunds.

Provider calls are never made inside a transaction: a row is written and committed first,
the call is keyed by what it does (the order and the amount, the refund's key), and its
answer is applied in a second short transaction under the usual locks (order → payment).
A call whose answer is lost is simply made again with the same key. Webhooks only say that
something changed: the payment's state is read from the provider again, so duplicates and
deliveries out of order all end where the provider is.

Why the intent is made after the cooperatives confirm, with automatic capture: see
payments/rails/stripe.py."""

import logging
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from accounts.models import User
from backend.errors import Conflict
from backend.formatting import money
from orders.models import FulfilmentStatus, Order, OrderLine

from .. import access
from ..ledger import Posting, ledger_post
from ..models import Account, Payment, Rail, Refund
from ..rails import payment_rail
from ..rails.base import Outcome
from ..selectors import order_balance, pending_refunds
from ..stripe_gateway import GatewayError
from .collecting import refund_apply, refund_record

logger = logging.getLogger(__name__)

# Parts still waiting for a cooperative (or the buyer's approver): the amount is not known.
UNANSWERED = (FulfilmentStatus.PENDING_APPROVAL, FulfilmentStatus.PLACED)
PROVIDER_RAILS = (Rail.STRIPE,)


def _locked(payment: Payment) -> Payment:
    Order.objects.select_for_update().get(pk=payment.order_id)
    return Payment.objects.select_for_update().get(pk=payment.pk)


def payment_start(*, user: User, order: Order, rail: str) -> tuple[Payment, Outcome, bool]:
    """Start paying an order on a rail, or answer the payment already started (created
    False). Bank transfer: the platform's account to transfer to. A provider rail: what the
    buyer's app needs to confirm (a client secret), for what the order owes now; a request
    for an amount no longer owed is withdrawn and a new one made. Refused (409) while a
    cooperative has not answered, or when nothing is owed."""
    access.check_pays_order(user=user, organisation_id=order.organisation_id)
    provider = payment_rail(rail)  # 503 when the rail is off here
    if rail not in PROVIDER_RAILS:
        payment = Payment.objects.filter(order=order, rail=rail).first()
        created = False
        if payment is None:
            _payable(order)  # the same refusals: the amount is not known yet, or none is owed
            payment, created = Payment.objects.get_or_create(
                order=order, rail=rail, defaults={"amount": Decimal(0)}
            )
        return payment, provider.start(payment=payment), created
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        payment, created = Payment.objects.get_or_create(
            order=order, rail=rail, defaults={"amount": Decimal(0)}
        )
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status != Payment.Status.COLLECTED:
            due = _payable(order)
            stale = bool(payment.provider_reference) and payment.amount != due
            if not payment.provider_reference:
                payment.amount = due
                payment.save(update_fields=["amount", "updated_at"])
    if payment.status == Payment.Status.COLLECTED:
        return payment, provider.status(payment=payment), created
    if payment.provider_reference and not stale:
        # Asked before for this amount: the intent as it is now (a replayed create would
        # answer its first state).
        outcome = provider.status(payment=payment)
        payment = payment_apply(payment=payment, outcome=outcome)
        if payment.status != Payment.Status.CANCELLED:
            return payment, outcome, created
        # Cancelled outside the system (Stripe's dashboard): give it up and ask anew.
        payment = _renew(payment, given_up=outcome.reference)
    elif stale:
        payment = _withdraw(payment)
        if payment.status == Payment.Status.COLLECTED:  # the buyer paid just before
            return payment, provider.status(payment=payment), created
        payment = _renew(payment)
    if payment.provider_reference:  # collected or asked again meanwhile: nothing new
        return payment, provider.status(payment=payment), created
    outcome = provider.start(payment=payment)
    return payment_apply(payment=payment, outcome=outcome, adopt=True), outcome, created


def _payable(order: Order) -> Decimal:
    if order.fulfilments.filter(status__in=UNANSWERED).exists():
        raise Conflict(
            _("Order %(order)s can be paid once every cooperative has confirmed its part.")
            % {"order": order.pk},
            fields={"order": [_("Waiting for the cooperatives to confirm.")]},
        )
    due = order_balance(order=order).due
    if due <= 0:
        raise Conflict(
            _("Order %(order)s owes nothing.") % {"order": order.pk},
            fields={"order": [_("Nothing to pay.")]},
        )
    return due


@transaction.atomic
def _renew(payment: Payment, *, given_up: str = "") -> Payment:
    """After a withdrawal, or a cancellation by the provider (``given_up``: the cancelled
    request, still current): ask for what the order owes now, under the next attempt's key
    (start makes the intent)."""
    payment = _locked(payment)
    if (
        given_up
        and payment.provider_reference == given_up
        and payment.status == Payment.Status.CANCELLED
    ):
        payment.provider_reference = ""
        payment.attempt += 1
        payment.save(update_fields=["provider_reference", "attempt", "updated_at"])
    if payment.status != Payment.Status.COLLECTED and not payment.provider_reference:
        payment.amount = _payable(payment.order)
        payment.status = Payment.Status.PENDING
        payment.save(update_fields=["amount", "status", "updated_at"])
    return payment


@transaction.atomic
def payment_apply(*, payment: Payment, outcome: Outcome, adopt: bool = False) -> Payment:
    """Record what the provider says of the payment's request. Only its current request
    counts (``adopt``: a new one becomes current); collected is final, and posts the money
    received once per request: cash in, the order's receivable down."""
    payment = _locked(payment)
    if payment.provider_reference != outcome.reference:
        if not (adopt and not payment.provider_reference):
            return payment  # a request this payment withdrew
        payment.provider_reference = outcome.reference
    if payment.status == Payment.Status.COLLECTED:
        payment.save(update_fields=["provider_reference", "updated_at"])
        return payment
    payment.status = outcome.status
    payment.failure_reason = outcome.reason if outcome.status == Payment.Status.FAILED else ""
    if outcome.status == Payment.Status.COLLECTED:
        payment.amount_collected = outcome.amount
        order = payment.order
        ledger_post(
            kind="payment_collected",
            key=f"payment:{payment.pk}:collected:{payment.provider_reference}",
            memo=f"{payment.rail} {payment.provider_reference}",
            postings=[
                Posting(
                    Account.CASH,
                    outcome.amount,
                    order_id=order.pk,
                    organisation_id=order.organisation_id,
                ),
                Posting(
                    Account.BUYER_RECEIVABLE,
                    -outcome.amount,
                    order_id=order.pk,
                    organisation_id=order.organisation_id,
                ),
            ],
        )
        # The total may have fallen while the buyer paid (a shortfall at delivery).
        _after_commit("lower_payment", payment.order_id)
    payment.save()
    return payment


def payment_refresh(*, payment: Payment) -> Payment:
    """Read the payment's request from its provider again and record it (a webhook's
    task)."""
    if payment.rail not in PROVIDER_RAILS or not payment.provider_reference:
        return payment
    outcome = payment_rail(payment.rail).status(payment=payment)
    return payment_apply(payment=payment, outcome=outcome)


def _withdraw(payment: Payment) -> Payment:
    """Cancel a request nobody paid; if the provider refuses because it was paid meanwhile,
    record the payment as collected instead."""
    provider = payment_rail(payment.rail)
    try:
        outcome = provider.withdraw(payment=payment)
    except GatewayError as error:
        if error.status_code != 409:
            raise
        return payment_refresh(payment=payment)
    with transaction.atomic():
        payment = _locked(payment)
        if payment.provider_reference == outcome.reference:
            if payment.status != Payment.Status.COLLECTED:
                payment.provider_reference = ""
                payment.status = Payment.Status.CANCELLED
                payment.attempt += 1
                payment.save(
                    update_fields=["provider_reference", "status", "attempt", "updated_at"]
                )
    return payment


def payment_lower(*, order_id: int) -> Refund | None:
    """The order's total fell (a short confirmation, a shortfall, a quality rejection, a
    cancellation): take less. A provider request nobody paid is withdrawn (the buyer's next
    start asks for the new amount); money collected beyond the total is refunded, once per
    total the order fell to (the refund's key), through refund_record and the ledger."""
    payment = Payment.objects.filter(order_id=order_id, rail__in=PROVIDER_RAILS).first()
    if payment is None:
        return None
    if payment.status != Payment.Status.COLLECTED:
        if payment.provider_reference and payment.amount > order_balance(order=payment.order).due:
            payment = _withdraw(payment)
        if payment.status != Payment.Status.COLLECTED:
            return None
    order = payment.order
    balance = order_balance(order=order)
    pending = pending_refunds(payment=payment)
    left = payment.amount_collected - payment.amount_refunded - pending
    amount = min(balance.overpaid - pending, left)
    if amount <= 0:
        return None
    refund, _created = refund_record(
        payment=payment,
        amount=amount,
        reason=_reason(order),
        idempotency_key=f"lower:order:{order.pk}:total:{order.total}",
        note=_("The order's total fell to %(total)s.") % {"total": money(order.total)},
    )
    return refund


def _reason(order: Order) -> str:
    statuses = set(order.fulfilments.values_list("status", flat=True))
    if statuses <= {FulfilmentStatus.CANCELLED, FulfilmentStatus.REJECTED}:
        return Refund.Reason.CANCELLATION
    issues = set(
        OrderLine.objects.filter(fulfilment__order=order).values_list("delivery_issue", flat=True)
    )
    if OrderLine.DeliveryIssue.QUALITY in issues:
        return Refund.Reason.QUALITY
    if OrderLine.DeliveryIssue.SHORTFALL in issues:
        return Refund.Reason.SHORTFALL
    return Refund.Reason.OVERPAYMENT


def payments_to_lower() -> list[int]:
    """Orders whose provider payment asks or took more than their total, and provider
    refunds never sent (their answer lost): the sweep's work."""
    collected = Q(status=Payment.Status.COLLECTED)
    took_more = collected & Q(amount_collected__gt=F("amount_refunded") + F("order__total"))
    asks_more = ~collected & ~Q(provider_reference="") & Q(amount__gt=F("order__total"))
    orders = Payment.objects.filter(rail__in=PROVIDER_RAILS).filter(took_more | asks_more)
    return list(orders.order_by("order_id").values_list("order_id", flat=True))


def refund_send(*, refund: Refund) -> Refund:
    """Ask the provider to pay a recorded refund back (after commit; keyed by the refund's
    idempotency key, so sending it twice gives back once)."""
    if refund.status != Refund.Status.PENDING or refund.payment.rail not in PROVIDER_RAILS:
        return refund
    outcome = payment_rail(refund.payment.rail).refund(refund=refund)
    return refund_apply(refund=refund, status=outcome.status, reference=outcome.reference)


def refunds_unsent() -> list[int]:
    return list(
        Refund.objects.filter(
            status=Refund.Status.PENDING, provider_reference="", payment__rail__in=PROVIDER_RAILS
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _after_commit(task: str, *args) -> None:
    from .. import tasks  # tasks call services: imported when first needed

    transaction.on_commit(lambda: getattr(tasks, task).delay(*args), robust=True)
