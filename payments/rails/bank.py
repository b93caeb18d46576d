"""The offline rails, which work everywhere without keys: buyers pay by bank transfer (对公
转账, recorded by staff or the buyer's partner system), and cooperatives are paid by a bank
batch file (代发) staff upload to the bank."""

from django.conf import settings

from ..models import Payout, PayoutRail, Rail, Refund
from .base import Outcome


class BankTransferRail:
    name = Rail.BANK_TRANSFER

    def is_available(self) -> bool:
        return True

    def start(self, *, payment) -> Outcome:
        """Nothing to call: the buyer transfers to the platform's account, quoting the order."""
        return Outcome(
            status=payment.status,
            client={
                "payee": settings.PAYMENTS_BANK_PAYEE,
                "account": settings.PAYMENTS_BANK_ACCOUNT,
                "bank": settings.PAYMENTS_BANK_NAME,
                "purpose": f"order {payment.order_id}",
            },
        )

    def refund(self, *, refund) -> Outcome:
        """Staff pay bank-transfer refunds back by bank themselves and record it done."""
        return Outcome(status=Refund.Status.SUCCEEDED)


class BankBatchPayoutRail:
    name = PayoutRail.BANK_BATCH

    def is_available(self) -> bool:
        return True

    def send(self, *, payout) -> Outcome:
        """A payout joins the next bank batch file (services.payouts.bank_batch_create); it is
        paid when staff mark the batch paid."""
        return Outcome(status=Payout.Status.PENDING)
