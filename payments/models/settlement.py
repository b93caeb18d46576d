"""Settling to cooperatives: a settlement run makes one statement per cooperative for the
fulfilments completed and not yet settled; each statement is split among the households
whose lots the goods came from, and paid out once."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from orders.models import Fulfilment
from products.models import MONEY
from suppliers.models import Cooperative, Household


class SettlementRun(models.Model):
    """One run of settlement (the daily job, or staff on demand). It settles what was
    completed up to ``period_end``; the policy it ran with is kept for the record."""

    period_end = models.DateField(_("settles fulfilments completed up to"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )  # null: the daily job
    settle_unpaid_net_terms = models.BooleanField(_("settled unpaid net-terms orders"))
    statements_count = models.PositiveIntegerField(default=0, verbose_name=_("statements count"))
    fulfilments_count = models.PositiveIntegerField(default=0, verbose_name=_("fulfilments count"))
    started_at = models.DateTimeField(auto_now_add=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("settlement run")
        verbose_name_plural = _("settlement runs")

    def __str__(self):
        return f"run {self.pk} to {self.period_end}"


class Statement(models.Model):
    """结算单: what a cooperative is owed for the fulfilments one run settled.

    commission = round_fen((goods_value − refunds) × commission_rate), rounded once per
    statement, halves away from zero; net_payable = goods_value − refunds − commission. The
    database holds both rules' sum (commission + net = goods − refunds)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        PAID = "paid", _("paid")
        FAILED = "failed", _("failed")

    run = models.ForeignKey(
        SettlementRun,
        on_delete=models.PROTECT,
        related_name="statements",
        verbose_name=_("settlement run"),
    )
    cooperative = models.ForeignKey(
        Cooperative,
        on_delete=models.PROTECT,
        related_name="statements",
        verbose_name=_("cooperative"),
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    goods_value = models.DecimalField(_("goods value accepted (CNY)"), **MONEY)
    commission_rate = models.DecimalField(_("commission rate"), max_digits=5, decimal_places=4)
    commission = models.DecimalField(_("commission (CNY)"), **MONEY)
    refunds = models.DecimalField(_("refunds and adjustments (CNY)"), default=0, **MONEY)
    net_payable = models.DecimalField(_("net payable (CNY)"), **MONEY)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    failure_reason = models.CharField(_("why it failed"), max_length=500, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True, verbose_name=_("paid at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        constraints = [
            models.UniqueConstraint(fields=["run", "cooperative"], name="statement_one_per_run"),
            models.CheckConstraint(condition=Q(goods_value__gte=0), name="statement_goods_gte_0"),
            models.CheckConstraint(
                condition=Q(commission__gte=0), name="statement_commission_gte_0"
            ),
            models.CheckConstraint(condition=Q(refunds__gte=0), name="statement_refunds_gte_0"),
            models.CheckConstraint(condition=Q(net_payable__gte=0), name="statement_net_gte_0"),
            models.CheckConstraint(
                condition=Q(goods_value=F("commission") + F("net_payable") + F("refunds")),
                name="statement_commission_plus_net_is_goods_less_refunds",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="statement_period_range"
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(failure_reason=""),
                name="statement_failure_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["cooperative", "-id"])]

    def __str__(self):
        return f"{self.cooperative} {self.period_start}–{self.period_end}: ¥{self.net_payable}"


class StatementLine(models.Model):
    """One settled fulfilment. Unique per fulfilment: each is settled once, whatever runs
    race."""

    statement = models.ForeignKey(
        Statement, on_delete=models.PROTECT, related_name="lines", verbose_name=_("statement")
    )
    fulfilment = models.OneToOneField(
        Fulfilment,
        on_delete=models.PROTECT,
        related_name="statement_line",
        verbose_name=_("fulfilment"),
    )
    goods_value = models.DecimalField(_("goods value accepted (CNY)"), **MONEY)

    class Meta:
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(goods_value__gte=0), name="statement_line_goods_gte_0"
            ),
        ]

    def __str__(self):
        return f"{self.statement_id} ← {self.fulfilment_id}"


class HouseholdShare(models.Model):
    """A household's part of a statement's net, in proportion to what its lot contributions
    supplied of the settled lines (backend.money.split: the shares add up to the net)."""

    statement = models.ForeignKey(
        Statement, on_delete=models.PROTECT, related_name="shares", verbose_name=_("statement")
    )
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="settlement_shares",
        verbose_name=_("household"),
    )
    # The goods value traced to the household: the weight of its share.
    goods_value = models.DecimalField(
        _("goods value traced (CNY)"), max_digits=16, decimal_places=6
    )
    amount = models.DecimalField(_("share (CNY)"), **MONEY)
    # As the household stood when the statement was made (the list changes over the years).
    on_poverty_list = models.BooleanField(_("on the registered poverty list"))

    class Meta:
        verbose_name = _("household share")
        verbose_name_plural = _("household shares")
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "household"], name="household_share_once_per_statement"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="household_share_gte_0"),
        ]

    def __str__(self):
        return f"{self.statement_id} {self.household_id}: ¥{self.amount}"


class PayoutRail(models.TextChoices):
    """How a cooperative is paid. A new payout rail is a choice here and a class in
    payments/rails/."""

    STRIPE_TRANSFER = "stripe_transfer", _("Stripe Connect transfer")
    BANK_BATCH = "bank_batch", _("bank batch file (代发)")


class BankBatch(models.Model):
    """A bank batch file (代发) of pending bank payouts, for staff to upload to the bank;
    staff mark it paid once the bank has paid it."""

    class Status(models.TextChoices):
        OPEN = "open", _("waiting for the bank")
        PAID = "paid", _("paid")

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
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
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("paid by"),
    )
    paid_at = models.DateTimeField(null=True, blank=True, verbose_name=_("paid at"))

    class Meta:
        verbose_name = _("bank batch")
        verbose_name_plural = _("bank batches")

    def __str__(self):
        return f"batch {self.pk} {self.status}"


class Payout(models.Model):
    """Paying one statement, once: unique per statement, with an idempotency key the rail
    sends to the provider."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        PAID = "paid", _("paid")
        FAILED = "failed", _("failed")

    statement = models.OneToOneField(
        Statement, on_delete=models.PROTECT, related_name="payout", verbose_name=_("statement")
    )
    rail = models.CharField(_("rail"), max_length=20, choices=PayoutRail.choices)
    amount = models.DecimalField(_("amount (CNY)"), **MONEY)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    batch = models.ForeignKey(
        BankBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payouts",
        verbose_name=_("batch"),
    )
    provider_reference = models.CharField(_("provider reference"), max_length=100, blank=True)
    # Also why a pending payout waits (a bank payout whose cooperative has no bank details
    # stays out of the batch files).
    failure_reason = models.CharField(_("why it failed or waits"), max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    # Stripe keeps a refusal (insufficient balance) under its idempotency key for 24 hours,
    # so the attempt after a refusal needs a key of its own; an attempt whose answer was lost
    # must reuse the key, so Stripe answers it with the first result. The key sent is
    # ``idempotency_key`` with this count of refusals (services.payouts.provider_key).
    refusals = models.PositiveSmallIntegerField(default=0, verbose_name=_("refusals"))
    # Attempts whose answer was lost (Stripe unreachable after the call went out): only these
    # can hide a transfer, so only then does a retry, or a move to the bank batch, first ask
    # Stripe for the statement's transfers (its keys last 24 hours, a retry may come later).
    unanswered = models.PositiveSmallIntegerField(
        default=0, verbose_name=_("attempts without an answer")
    )
    # When a payout waiting on a provider is tried next (the beat job sends those due); null
    # when nothing is scheduled: paid, in a bank batch, or failed for good (staff retry).
    next_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next attempt at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_gt_0"),
            models.CheckConstraint(
                condition=Q(batch__isnull=True) | Q(rail="bank_batch"),
                name="payout_batch_only_for_bank",
            ),
            # One provider transfer pays one statement: the backstop if a lost answer were
            # ever recorded twice.
            models.UniqueConstraint(
                fields=["provider_reference"],
                condition=~Q(provider_reference=""),
                name="payout_provider_reference_once",
            ),
            models.CheckConstraint(
                condition=Q(rail="bank_batch") | ~Q(status="paid") | ~Q(provider_reference=""),
                name="payout_transfer_paid_names_transfer",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(next_attempt_at__isnull=False),
                name="payout_due",
            )
        ]

    def __str__(self):
        return f"{self.statement_id} {self.rail} {self.status}"
