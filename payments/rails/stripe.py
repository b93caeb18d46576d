"""Card payments through Stripe, on payments/stripe_gateway.py (the only module that imports
``stripe``): one PaymentIntent per order, in CNY, integer fen, keyed by the order and the
amount.

**When the PaymentIntent is made: once every cooperative has answered, for the confirmed
goods value, captured automatically when the buyer's app confirms it.** Not at placing with
a manual capture, because:

- a card authorisation lapses after about seven days, and a part can wait for its
  cooperative, its lead time and the next delivery run (planned up to 14 days ahead) for
  longer; a capture after a lapse fails and the goods are already on the truck;
- until the cooperatives confirm, the amount is a guess: short confirmations and rejected
  parts would be held on the buyer's card for goods nobody will send;
- supermarkets pay confirmed orders, then settle differences: what the store does not accept
  at delivery (a shortfall, a quality rejection) is refunded, as a bank transfer's
  overpayment is.

So what is captured is lowered in one of two ways (payments/services/cards.py): before the
buyer pays, the intent for the old amount is cancelled and the next start makes one for the
new amount (a new key, since the key names the amount); after, the difference is refunded
through the refund model and the ledger."""

from decimal import Decimal

from backend.money import to_fen

from .. import stripe_gateway
from ..models import Payment, Rail, Refund
from .base import Outcome

# What a PaymentIntent's status means for our payment row (Stripe's statuses on the left).
PAYMENT_STATUS = {
    "succeeded": Payment.Status.COLLECTED,
    "canceled": Payment.Status.CANCELLED,
}
REFUND_STATUS = {
    "succeeded": Refund.Status.SUCCEEDED,
    "failed": Refund.Status.FAILED,
    "canceled": Refund.Status.FAILED,
}


def from_fen(amount_fen: int) -> Decimal:
    return (Decimal(amount_fen) / 100).quantize(Decimal("0.01"))


def payment_status(intent: stripe_gateway.PaymentIntent) -> str:
    """A declined attempt leaves the intent asking for another card: failed, until the buyer
    tries again (then pending, or collected)."""
    if intent.status == "requires_payment_method" and intent.last_error_code:
        return Payment.Status.FAILED
    return PAYMENT_STATUS.get(intent.status, Payment.Status.PENDING)


def intent_outcome(intent: stripe_gateway.PaymentIntent) -> Outcome:
    return Outcome(
        status=payment_status(intent),
        reference=intent.id,
        client={
            "client_secret": intent.client_secret,
            "payment_intent": intent.id,
            "status": intent.status,
            "amount": str(from_fen(intent.amount_fen)),
            "currency": intent.currency,
        },
        reason=intent.last_error_code or "",
        amount=from_fen(intent.amount_received_fen),
    )


def intent_key(payment, amount_fen: int) -> str:
    """The order and the amount name the intent; after a cancelled one, the attempt too
    (Stripe would answer the old key with the cancelled intent for 24 hours)."""
    if payment.attempt:
        return stripe_gateway.idempotency_key(
            "payment_intent", payment.order_id, amount_fen, f"a{payment.attempt}"
        )
    return stripe_gateway.idempotency_key("payment_intent", payment.order_id, amount_fen)


class StripePaymentRail:
    name = Rail.STRIPE

    def is_available(self) -> bool:
        return stripe_gateway.is_enabled()

    def start(self, *, payment) -> Outcome:
        """The order's PaymentIntent for ``payment.amount``: the same order, amount and
        attempt answer the same intent (Stripe replays the key), a new amount or a new
        attempt after a cancellation makes a new one."""
        amount_fen = to_fen(payment.amount)
        intent = stripe_gateway.create_payment_intent(
            order_id=payment.order_id,
            amount_fen=amount_fen,
            idempotency_key=intent_key(payment, amount_fen),
            capture_method="automatic",
            metadata={"payment": str(payment.pk)},
        )
        return intent_outcome(intent)

    def status(self, *, payment) -> Outcome:
        """The intent as Stripe has it now: webhooks only say that something changed, so
        duplicates and deliveries out of order all end in Stripe's current state."""
        return intent_outcome(stripe_gateway.retrieve_payment_intent(payment.provider_reference))

    def withdraw(self, *, payment) -> Outcome:
        """Cancel an intent nobody paid (its amount is no longer what is owed)."""
        intent = stripe_gateway.cancel(
            payment_intent_id=payment.provider_reference,
            idempotency_key=stripe_gateway.idempotency_key("cancel", payment.provider_reference),
            reason="abandoned",
        )
        return intent_outcome(intent)

    def refund(self, *, refund) -> Outcome:
        provider_refund = stripe_gateway.refund(
            payment_intent_id=refund.payment.provider_reference,
            amount_fen=to_fen(refund.amount),
            idempotency_key=stripe_gateway.idempotency_key("refund", refund.idempotency_key),
            reason=refund.reason,
            metadata={"refund": str(refund.pk), "order": str(refund.payment.order_id)},
        )
        return Outcome(
            status=REFUND_STATUS.get(provider_refund.status, Refund.Status.PENDING),
            reference=provider_refund.id,
        )
