"""The two interfaces every rail implements. They stay small on purpose: a rail turns a row
(a payment, a refund, a payout) into a provider call and says what happened; the services
around it own the locks, the ledger and the state."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from django.utils.translation import gettext_lazy as _
from rest_framework import status

from backend.errors import DomainError


class RailUnavailable(DomainError):
    """The rail is switched off here (e.g. Stripe without STRIPE_API_KEY): a 503, so clients
    know to use another rail or try later."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "rail_unavailable"

    def __init__(self, rail: str):
        super().__init__(
            str(_("The %(rail)s payment rail is not available here.") % {"rail": rail}),
            rail=rail,
        )


@dataclass(frozen=True)
class Outcome:
    """What a provider call did: ``status`` is the row's new status; ``reference`` the
    provider's id; ``client`` what a buyer's app needs (a client secret, bank details);
    ``amount`` what the provider took (a payment collected), when it says."""

    status: str
    reference: str = ""
    client: dict = field(default_factory=dict)
    reason: str = ""
    amount: Decimal | None = None


class PaymentRail(Protocol):
    name: str

    def is_available(self) -> bool: ...

    def start(self, *, payment) -> Outcome:
        """Ask the buyer for ``payment.amount`` (after commit; safe to call twice: keyed by
        the order and the amount)."""

    def refund(self, *, refund) -> Outcome:
        """Give ``refund.amount`` back (after commit; keyed by ``refund.idempotency_key``)."""


class ProviderPaymentRail(PaymentRail, Protocol):
    """A rail whose provider holds the payment's state (Stripe; WeChat Pay, Alipay later):
    the services ask it again when the provider says something changed, and withdraw a
    request for an amount no longer owed."""

    def status(self, *, payment) -> Outcome:
        """The payment as the provider has it now."""

    def withdraw(self, *, payment) -> Outcome:
        """Cancel the request for ``payment.amount``, which nobody paid."""


class PayoutRail(Protocol):
    name: str

    def is_available(self) -> bool: ...

    def send(self, *, payout) -> Outcome:
        """Pay ``payout.amount`` to the statement's cooperative (keyed by
        ``payout.idempotency_key``)."""
