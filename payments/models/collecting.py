"""Collecting from buyers: one payment per order and rail, bank transfers matched to orders,
refunds, and the provider events a webhook stores."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from buyers.models import BuyerOrganisation
from orders.models import Fulfilment, Order
from products.models import MONEY


class Rail(models.TextChoices):
    """How a buyer pays. A new rail (WeChat Pay, Alipay) is a new choice here and a class in
    payments/rails/; orders and settlement only read payments' amounts."""

    STRIPE = "stripe", _("Stripe (card)")
    BANK_TRANSFER = "bank_transfer", _("bank transfer (对公转账)")


class Payment(models.Model):
    """What one rail collects for one order. ``amount`` is what the rail was asked for (a
    PaymentIntent's amount; for bank transfers what was matched so far); what the buyer
    still owes is the order's total less what all its payments collected net of refunds
    (payments.selectors.order_balance)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        COLLECTED = "collected", _("collected")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="payments", verbose_name=_("order")
    )
    rail = models.CharField(_("rail"), max_length=20, choices=Rail.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    amount = models.DecimalField(_("amount asked (CNY)"), **MONEY)
    amount_collected = models.DecimalField(_("collected (CNY)"), default=0, **MONEY)
    amount_refunded = models.DecimalField(_("refunded (CNY)"), default=0, **MONEY)
    # The provider's id (a PaymentIntent id); empty for bank transfers, which have their own
    # references per transfer.
    provider_reference = models.CharField(_("provider reference"), max_length=100, blank=True)
    failure_reason = models.CharField(_("why it failed"), max_length=500, blank=True)
    # How many provider requests this payment gave up (cancelled here, or in Stripe's
    # dashboard): part of the next request's idempotency key, because Stripe answers a
    # repeated key with the first (cancelled) request for 24 hours.
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=0)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(fields=["order", "rail"], name="payment_one_per_order_rail"),
            models.UniqueConstraint(
                fields=["rail", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="payment_provider_reference_unique",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_gte_0"),
            models.CheckConstraint(
                condition=Q(amount_collected__gte=0), name="payment_collected_gte_0"
            ),
            # Nothing is refunded that was not collected.
            models.CheckConstraint(
                condition=Q(amount_refunded__gte=0) & Q(amount_refunded__lte=F("amount_collected")),
                name="payment_refunded_within_collected",
            ),
        ]

    def __str__(self):
        return f"#{self.order_id} {self.rail} {self.status}"


class BankTransfer(models.Model):
    """对公转账: money that arrived on the platform's account from a buyer organisation,
    recorded by staff or the organisation's partner system. Its bank reference is unique per
    organisation, so recording it again is safe. What is not matched to orders stays here as
    the unallocated remainder, shown until staff match or refund it."""

    organisation = models.ForeignKey(
        BuyerOrganisation,
        on_delete=models.PROTECT,
        related_name="bank_transfers",
        verbose_name=_("organisation"),
    )
    bank_reference = models.CharField(_("bank reference"), max_length=64)
    amount = models.DecimalField(_("amount (CNY)"), **MONEY)
    received_on = models.DateField(_("received on"))
    payer_name = models.CharField(_("payer (as the bank shows it)"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("bank transfer")
        verbose_name_plural = _("bank transfers")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "bank_reference"],
                name="bank_transfer_reference_unique_per_organisation",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="bank_transfer_amount_gt_0"),
        ]

    def __str__(self):
        return f"{self.organisation} {self.bank_reference} ¥{self.amount}"


class BankTransferAllocation(models.Model):
    """How much of a transfer pays which order (through the order's bank-transfer payment).
    The service keeps the allocations of a transfer within its amount, under its lock."""

    transfer = models.ForeignKey(
        BankTransfer,
        on_delete=models.PROTECT,
        related_name="allocations",
        verbose_name=_("transfer"),
    )
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("payment")
    )
    amount = models.DecimalField(_("amount (CNY)"), **MONEY)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("bank transfer allocation")
        verbose_name_plural = _("bank transfer allocations")
        constraints = [
            models.UniqueConstraint(
                fields=["transfer", "payment"], name="allocation_one_per_transfer_payment"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_gt_0"),
        ]

    def __str__(self):
        return f"{self.transfer_id} → {self.payment_id}: ¥{self.amount}"


class Refund(models.Model):
    """Money given back to a buyer, in part or whole, at most once per idempotency key.

    Only an ``adjustment`` (goods accepted, then partly refunded, e.g. a later complaint)
    is charged to the cooperative on its next statement. The others (a cancellation after
    payment, a shortfall, a quality rejection, an overpayment) give back money the buyer
    never owed: accepted quantities already leave those goods out of the statement."""

    class Reason(models.TextChoices):
        CANCELLATION = "cancellation", _("cancelled after payment")
        SHORTFALL = "shortfall", _("delivery shortfall")
        QUALITY = "quality", _("quality rejection")
        OVERPAYMENT = "overpayment", _("overpayment")
        ADJUSTMENT = "adjustment", _("adjustment charged to the cooperative")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("payment")
    )
    # The cooperative's part an adjustment is charged to.
    fulfilment = models.ForeignKey(
        Fulfilment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refunds",
        verbose_name=_("fulfilment"),
    )
    amount = models.DecimalField(_("amount (CNY)"), **MONEY)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    provider_reference = models.CharField(_("provider reference"), max_length=100, blank=True)
    # The statement that charged this adjustment to the cooperative (null: not yet, or not
    # an adjustment).
    statement = models.ForeignKey(
        "payments.Statement",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adjustment_refunds",
        verbose_name=_("statement"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_gt_0"),
            models.CheckConstraint(
                condition=~Q(reason="adjustment") | Q(fulfilment__isnull=False),
                name="refund_adjustment_names_fulfilment",
            ),
        ]

    def __str__(self):
        return f"{self.payment_id} −¥{self.amount} {self.status}"


class ProviderEvent(models.Model):
    """An event a payment provider sent (a webhook), stored once by its id and processed by
    a task; a duplicate delivery finds the row and changes nothing."""

    provider = models.CharField(_("provider"), max_length=20, choices=Rail.choices)
    event_id = models.CharField(_("event id"), max_length=100)
    type = models.CharField(_("type"), max_length=100)
    payload = models.JSONField(_("payload"))
    received_at = models.DateTimeField(auto_now_add=True, verbose_name=_("received at"))
    processed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("processed at"))

    class Meta:
        verbose_name = _("provider event")
        verbose_name_plural = _("provider events")
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="provider_event_once"),
        ]

    def __str__(self):
        return f"{self.provider} {self.event_id} {self.type}"
