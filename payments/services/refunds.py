"""Refunds staff give through the API: the rail must be on, the key names the request."""

import hashlib
from decimal import Decimal

from accounts.models import User
from orders.models import Fulfilment

from .. import access
from ..models import Payment, Refund
from ..rails import payment_rail
from .collecting import refund_record


def refund_give(
    *,
    user: User,
    payment: Payment,
    amount: Decimal,
    reason: str,
    fulfilment: Fulfilment | None = None,
    note: str = "",
    idempotency_key: str | None = None,
) -> tuple[Refund, bool]:
    """A refund staff give (a cancellation after payment, a shortfall, a quality rejection,
    an adjustment), recorded once per key: the client's Idempotency-Key, or without one a
    key derived from the request, so the same refund asked twice is given once (two equal
    adjustments of one part need two keys). A card refund needs its rail on here (503)."""
    access.check_gives_refunds(user=user)
    payment_rail(payment.rail)
    if idempotency_key:
        key = f"api:{user.pk}:{idempotency_key}"
        if len(key) > 100:  # the column's width: a long client key is named by its digest
            key = f"api:{user.pk}:" + hashlib.sha256(idempotency_key.encode()).hexdigest()
    else:
        part = fulfilment.pk if fulfilment is not None else "-"
        key = f"api:payment:{payment.pk}:{reason}:{part}:{amount}"
    return refund_record(
        payment=payment,
        amount=amount,
        reason=reason,
        idempotency_key=key,
        fulfilment=fulfilment,
        note=note,
        user=user,
    )
