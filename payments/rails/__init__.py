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

PAYMENT_RAILS: dict[str, PaymentRail] = {
    Rail.BANK_TRANSFER: BankTransferRail(),
    Rail.STRIPE: StripePaymentRail(),
}
PAYOUT_RAILS: dict[str, PayoutRail] = {PayoutRailName.BANK_BATCH: BankBatchPayoutRail()}


def payment_rail(name: str) -> PaymentRail:
    """The rail by name; RailUnavailable (503) when it is not configured (Stripe without
    STRIPE_API_KEY)."""
    rail = PAYMENT_RAILS.get(name)
    if rail is None or not rail.is_available():
        raise RailUnavailable(name)
    return rail


def payout_rail_name_for(cooperative: Cooperative) -> str:
    """Cooperatives with a Stripe connected account (``acct_…``) are paid by transfer; all
    others by the bank batch file."""
    if cooperative.payout_reference.startswith("acct_"):
        return PayoutRailName.STRIPE_TRANSFER
    return PayoutRailName.BANK_BATCH


__all__ = [
    "PAYMENT_RAILS",
    "PAYOUT_RAILS",
    "PaymentRail",
    "PayoutRail",
    "RailUnavailable",
    "payment_rail",
    "payout_rail_name_for",
]
