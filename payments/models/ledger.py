"""The double-entry ledger: transactions of entries that sum to zero, written once and never
changed. Every balance (what a buyer owes, what the platform earned, what a cooperative is
owed) is a sum over entries; no balance is stored.

Signs: a debit is positive, a credit negative. The postings (payments/ledger.py):

=================  ========================================  ===============================
what happened      debit (+)                                 credit (−)
=================  ========================================  ===============================
money received     cash                                      buyer receivable (the
                                                             organisation's, unmatched)
matched to order   buyer receivable (organisation)           buyer receivable (the order)
refund paid        buyer receivable (or refunds, for an      cash
                   adjustment the cooperative bears)
settled statement  buyer receivable (goods value accepted,  cooperative payable (net),
                                                             platform commission, refunds
                                                             (adjustments recovered)
payout sent        cooperative payable                       payouts (in transit)
payout paid        payouts                                   cash
=================  ========================================  ===============================
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from buyers.models import BuyerOrganisation
from orders.models import Order
from products.models import MONEY
from suppliers.models import Cooperative


class Account(models.TextChoices):
    BUYER_RECEIVABLE = "buyer_receivable", _("buyer receivable")
    CASH = "cash", _("cash")
    PLATFORM_COMMISSION = "platform_commission", _("platform commission")
    COOPERATIVE_PAYABLE = "cooperative_payable", _("cooperative payable")
    PAYOUTS = "payouts", _("payouts in transit")
    REFUNDS = "refunds", _("refunds")


class LedgerTransaction(models.Model):
    """One event that moves money, posted once: ``key`` names its cause (``payment:7:
    allocation:3``, ``statement:12``), so posting it again is refused by the database."""

    kind = models.CharField(_("kind"), max_length=30)
    key = models.CharField(_("key"), max_length=120, unique=True)
    memo = models.CharField(_("memo"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")

    def __str__(self):
        return self.key


class LedgerEntry(models.Model):
    """One side of a transaction. The parties (order, organisation, cooperative) are there
    so balances can be derived per buyer, per order and per cooperative."""

    transaction = models.ForeignKey(
        LedgerTransaction,
        on_delete=models.PROTECT,
        related_name="entries",
        verbose_name=_("transaction"),
    )
    account = models.CharField(_("account"), max_length=30, choices=Account.choices)
    amount = models.DecimalField(_("amount (CNY; debit +, credit −)"), **MONEY)
    order = models.ForeignKey(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("order"),
    )
    organisation = models.ForeignKey(
        BuyerOrganisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organisation"),
    )
    cooperative = models.ForeignKey(
        Cooperative,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cooperative"),
    )

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_entry_amount_not_0"),
            models.CheckConstraint(
                condition=Q(
                    account__in=[
                        "buyer_receivable",
                        "cash",
                        "platform_commission",
                        "cooperative_payable",
                        "payouts",
                        "refunds",
                    ]
                ),
                name="ledger_entry_account_valid",
            ),
        ]
        indexes = [models.Index(fields=["account", "cooperative"])]

    def __str__(self):
        return f"{self.transaction_id} {self.account} {self.amount}"
