"""Payment and payout rails behind two small interfaces (rails/base.py). Orders and
settlement never name a provider: they read payments' amounts and ask ``payout_rail_for``.
A new rail (Stripe on payments/stripe_gateway.py, WeChat Pay, Alipay) is a class here, a
choice in models.Rail or models.PayoutRail, and a line in the registries below."""

from suppliers.models import Cooperative

from ..models import PayoutRail as PayoutRailName
from ..models import Rail
from .bank import BankBatchPayoutRail, BankTransferRail
from .base import PaymentRail, PayoutRail, RailUnavailable
from .stripe import StripePaymentRail
from .stripe_connect import StripeConnectPayoutRail

PAYMENT_RAILS: dict[str, PaymentRail] = {
    Rail.BANK_TRANSFER: BankTransferRail(),
    Rail.STRIPE: StripePaymentRail(),
}
PAYOUT_RAILS: dict[str, PayoutRail] = {
    PayoutRailName.BANK_BATCH: BankBatchPayoutRail(),
    PayoutRailName.STRIPE_TRANSFER: StripeConnectPayoutRail(),
}


def payment_rail(name: str) -> PaymentRail:
    """The rail by name; RailUnavailable (503) when it is not configured (Stripe without
    STRIPE_API_KEY)."""
    rail = PAYMENT_RAILS.get(name)
    if rail is None or not rail.is_available():
        raise RailUnavailable(name)
    return rail


def payout_rail_name_for(cooperative: Cooperative) -> str:
    """Cooperatives with a Stripe connected account are paid by transfer while the Stripe
    rail is on; all others, and all of them without ``STRIPE_API_KEY``, by the bank batch file
    (to their bank details in ``payout_reference``): households are not kept waiting on a
    rail this deployment does not have. Chosen once, when settlement makes the payout."""
    rail = PAYOUT_RAILS[PayoutRailName.STRIPE_TRANSFER]
    if cooperative.stripe_account and rail.is_available():
        return PayoutRailName.STRIPE_TRANSFER
    return PayoutRailName.BANK_BATCH


def payout_rail(name: str) -> PayoutRail:
    """The payout rail by name, switched on or not (a payout keeps the rail it was made
    with; a send on a rail switched off since then is retried)."""
    return PAYOUT_RAILS[name]


__all__ = [
    "PAYMENT_RAILS",
    "PAYOUT_RAILS",
    "PaymentRail",
    "PayoutRail",
    "RailUnavailable",
    "payment_rail",
    "payout_rail",
    "payout_rail_name_for",
]
