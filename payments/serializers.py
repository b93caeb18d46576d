"""Input and output of the payments API. Ids in bodies are scoped by the selectors, so an
order the user may not see is the same 400 as one that does not exist."""

from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from backend import serializers
from backend.money import MAX_AMOUNT
from backend.relations import ScopedPrimaryKeyRelatedField

from . import selectors
from .models import (
    BankBatch,
    BankTransfer,
    BankTransferAllocation,
    HouseholdShare,
    Payment,
    Payout,
    Rail,
    Refund,
    SettlementRun,
    Statement,
    StatementLine,
)

# Computed amounts are decimal strings, like every amount of the API (not JSON numbers).
AS_MONEY = extend_schema_field(serializers.DecimalField(max_digits=14, decimal_places=2))

AMOUNT = {
    "max_digits": 12,
    "decimal_places": 2,
    "min_value": Decimal("0.01"),
    "max_value": MAX_AMOUNT,
}


class AllocationInputSerializer(serializers.Serializer):
    """One order a transfer pays; without an amount, what the order still owes (as far as
    the transfer goes)."""

    order = ScopedPrimaryKeyRelatedField(scope=selectors.orders_for_transfer)
    amount = serializers.DecimalField(required=False, **AMOUNT)


class BankTransferCreateSerializer(serializers.Serializer):
    """A bank transfer (对公转账) as the bank shows it. A partner system records its own
    organisation's (``organisation`` may be left out); staff name the organisation."""

    organisation = ScopedPrimaryKeyRelatedField(
        scope=selectors.organisations_for_transfer, required=False
    )
    bank_reference = serializers.CharField(max_length=64)
    amount = serializers.DecimalField(**AMOUNT)
    received_on = serializers.DateField()

    def validate_received_on(self, value):
        if value > timezone.localdate():
            raise serializers.ValidationError(_("A transfer cannot arrive in the future."))
        return value

    payer_name = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    allocations = AllocationInputSerializer(many=True, required=False, max_length=100)


class BankTransferAllocateSerializer(serializers.Serializer):
    """More of a transfer's remainder matched to orders."""

    allocations = AllocationInputSerializer(many=True, min_length=1, max_length=100)


class AllocationSerializer(serializers.ModelSerializer):
    order = serializers.IntegerField(source="payment.order_id", read_only=True)

    class Meta:
        model = BankTransferAllocation
        fields = ["order", "amount", "created_at"]


class BankTransferSerializer(serializers.ModelSerializer):
    """A recorded transfer: what was matched to which order, and what is left unallocated
    (an overpayment, or money not yet matched)."""

    allocated = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    unallocated = serializers.SerializerMethodField()
    allocations = AllocationSerializer(many=True, read_only=True)

    class Meta:
        model = BankTransfer
        fields = [
            "id",
            "organisation",
            "bank_reference",
            "amount",
            "received_on",
            "payer_name",
            "allocated",
            "unallocated",
            "allocations",
            "created_at",
        ]
        read_only_fields = fields

    @AS_MONEY
    def get_unallocated(self, transfer) -> str:
        return str(transfer.amount - transfer.allocated)


class PaymentSerializer(serializers.ModelSerializer):
    """One rail's collection for one order; ``order_due`` is what the whole order still owes
    across rails (its total follows accepted quantities)."""

    order_total = serializers.DecimalField(
        source="order.total", max_digits=12, decimal_places=2, read_only=True
    )
    order_due = serializers.SerializerMethodField()

    class Meta:
        model = Payment
        fields = [
            "id",
            "order",
            "rail",
            "status",
            "amount",
            "amount_collected",
            "amount_refunded",
            "provider_reference",
            "failure_reason",
            "order_total",
            "order_due",
            "created_at",
        ]
        read_only_fields = fields

    @AS_MONEY
    def get_order_due(self, payment) -> str:
        return str(max(payment.order.total - payment.order_paid, Decimal(0)))


class PaymentStartSerializer(serializers.Serializer):
    """Pay an order on a rail: ``stripe`` (card; the app confirms with the client secret) or
    ``bank_transfer`` (the account to transfer to)."""

    order = ScopedPrimaryKeyRelatedField(scope=selectors.orders_for_payment)
    rail = serializers.ChoiceField(choices=Rail.choices)


class PaymentClientSerializer(serializers.Serializer):
    """What the buyer's app needs to pay. Stripe: ``client_secret`` (for Stripe.js or the
    mobile SDKs' confirmPayment), the PaymentIntent, its status, amount and currency. Bank
    transfer: payee, account, bank, and the purpose to quote."""

    client_secret = serializers.CharField(required=False, allow_null=True)
    payment_intent = serializers.CharField(required=False)
    status = serializers.CharField(required=False)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)
    currency = serializers.CharField(required=False)
    payee = serializers.CharField(required=False)
    account = serializers.CharField(required=False)
    bank = serializers.CharField(required=False)
    purpose = serializers.CharField(required=False)


class PaymentStartedSerializer(PaymentSerializer):
    """A payment and what the buyer's app needs to complete it."""

    client = PaymentClientSerializer(read_only=True)

    class Meta(PaymentSerializer.Meta):
        fields = [*PaymentSerializer.Meta.fields, "client"]
        read_only_fields = fields


class RefundCreateSerializer(serializers.Serializer):
    """Money given back to the buyer. ``cancellation``, ``shortfall``, ``quality`` and
    ``overpayment``: at most what was paid beyond the order's total now (it follows accepted
    quantities); ``adjustment``: goods accepted and then partly refunded, charged to the
    cooperative of ``fulfilment``."""

    payment = ScopedPrimaryKeyRelatedField(scope=selectors.payments_for_refund)
    amount = serializers.DecimalField(**AMOUNT)
    reason = serializers.ChoiceField(choices=Refund.Reason.choices)
    fulfilment = ScopedPrimaryKeyRelatedField(
        scope=selectors.fulfilments_for_refund, required=False, allow_null=True, default=None
    )
    note = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class RefundSerializer(serializers.ModelSerializer):
    order = serializers.IntegerField(source="payment.order_id", read_only=True)

    class Meta:
        model = Refund
        fields = [
            "id",
            "payment",
            "order",
            "fulfilment",
            "amount",
            "reason",
            "note",
            "status",
            "provider_reference",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class StatementSerializer(serializers.ModelSerializer):
    """结算单: commission = (goods value − refunds) × rate, rounded once to the fen, half up;
    net payable = goods value − refunds − commission."""

    cooperative_name = serializers.CharField(source="cooperative.name_zh", read_only=True)

    class Meta:
        model = Statement
        fields = [
            "id",
            "run",
            "cooperative",
            "cooperative_name",
            "period_start",
            "period_end",
            "goods_value",
            "commission_rate",
            "commission",
            "refunds",
            "net_payable",
            "status",
            "failure_reason",
            "paid_at",
            "created_at",
        ]
        read_only_fields = fields


class StatementLineSerializer(serializers.ModelSerializer):
    order = serializers.IntegerField(source="fulfilment.order_id", read_only=True)

    class Meta:
        model = StatementLine
        fields = ["fulfilment", "order", "goods_value"]
        read_only_fields = fields


class HouseholdShareSerializer(serializers.ModelSerializer):
    household_name = serializers.CharField(source="household.name", read_only=True)
    village = serializers.CharField(source="household.village", read_only=True)

    class Meta:
        model = HouseholdShare
        fields = [
            "household",
            "household_name",
            "village",
            "on_poverty_list",
            "goods_value",
            "amount",
        ]
        read_only_fields = fields


class StatementDetailSerializer(StatementSerializer):
    """A statement with its settled fulfilments and its household split (建档立卡 households
    marked, with their subtotal)."""

    lines = serializers.SerializerMethodField()
    shares = serializers.SerializerMethodField()
    poverty_list_subtotal = serializers.SerializerMethodField()

    class Meta(StatementSerializer.Meta):
        fields = [*StatementSerializer.Meta.fields, "lines", "shares", "poverty_list_subtotal"]
        read_only_fields = fields

    def get_lines(self, statement) -> list[dict]:
        return StatementLineSerializer(
            selectors.statement_lines(statement=statement), many=True
        ).data

    def get_shares(self, statement) -> list[dict]:
        return HouseholdShareSerializer(
            selectors.statement_shares(statement=statement), many=True
        ).data

    @AS_MONEY
    def get_poverty_list_subtotal(self, statement) -> str:
        total = selectors.poverty_list_subtotal(selectors.statement_shares(statement=statement))
        return f"{total:.2f}"


class HouseholdEarningSerializer(serializers.Serializer):
    """What one household earned in one month (the month of its statements' period end)."""

    household = serializers.IntegerField(source="household_id")
    household_name = serializers.CharField(source="household__name")
    on_poverty_list = serializers.BooleanField(source="household__on_poverty_list")
    month = serializers.DateField(help_text=_("The first day of the month."))
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    statements = serializers.IntegerField()


class SettlementRunCreateSerializer(serializers.Serializer):
    """Settle now, up to ``period_end`` (default: today; not later)."""

    period_end = serializers.DateField(required=False)

    def validate_period_end(self, value):
        if value > timezone.localdate():
            raise serializers.ValidationError(_("Settle up to today at the latest."))
        return value


class SettlementRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = SettlementRun
        fields = [
            "id",
            "period_end",
            "started_by",
            "settle_unpaid_net_terms",
            "statements_count",
            "fulfilments_count",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class PayoutSerializer(serializers.ModelSerializer):
    cooperative = serializers.IntegerField(source="statement.cooperative_id", read_only=True)

    class Meta:
        model = Payout
        fields = [
            "id",
            "statement",
            "cooperative",
            "rail",
            "amount",
            "status",
            "batch",
            "provider_reference",
            "failure_reason",
            "attempts",
            "next_attempt_at",
            "created_at",
        ]
        read_only_fields = fields


class BankBatchSerializer(serializers.ModelSerializer):
    payouts = PayoutSerializer(many=True, read_only=True)

    class Meta:
        model = BankBatch
        fields = ["id", "status", "created_by", "created_at", "paid_by", "paid_at", "payouts"]
        read_only_fields = fields
