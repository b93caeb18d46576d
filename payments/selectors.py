"""Every read of payments for a user, scoped by payments/access.py, and the derived amounts
(what an order still owes, what a transfer has left) that services and views share."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth

from buyers.access import organisations_visible
from buyers.models import BuyerOrganisation
from orders.models import Fulfilment, Order

from . import access
from .models import (
    BankBatch,
    BankTransfer,
    HouseholdShare,
    Payment,
    Payout,
    Refund,
    SettlementRun,
    Statement,
)

ZERO = Value(Decimal("0.00"), output_field=DecimalField(max_digits=12, decimal_places=2))


@dataclass(frozen=True)
class OrderBalance:
    total: Decimal
    collected: Decimal
    refunded: Decimal
    adjusted: Decimal = Decimal(0)  # adjustments: accepted goods refunded (a complaint)

    @property
    def paid(self) -> Decimal:
        """Collected net of refunds, counting adjustments as paid: their money went back
        to the buyer on purpose, and the cooperative bears it."""
        return self.collected - self.refunded + self.adjusted

    @property
    def due(self) -> Decimal:
        """What the buyer still owes (never below zero)."""
        return max(self.total - self.paid, Decimal(0))

    @property
    def overpaid(self) -> Decimal:
        """What the buyer paid beyond the total (after a short delivery, say): a refund due."""
        return max(self.paid - self.total, Decimal(0))


def order_balance(*, order: Order) -> OrderBalance:
    """The order's total follows accepted quantities (short confirmations, shortfalls and
    quality rejections lower it); what is due is that total less what was collected net of
    refunds, over every rail."""
    sums = Payment.objects.filter(order=order).aggregate(
        collected=Coalesce(Sum("amount_collected"), ZERO),
        refunded=Coalesce(Sum("amount_refunded"), ZERO),
    )
    adjusted = Refund.objects.filter(
        payment__order=order, reason=Refund.Reason.ADJUSTMENT, status=Refund.Status.SUCCEEDED
    ).aggregate(s=Coalesce(Sum("amount"), ZERO))["s"]
    return OrderBalance(
        total=order.total,
        collected=sums["collected"],
        refunded=sums["refunded"],
        adjusted=adjusted,
    )


def paid_subquery(order_ref: str = "order_id"):
    """SQL: what an order's payments collected net of refunds, adjustments counted as paid
    (OrderBalance.paid; 0 without payments)."""
    money = DecimalField(max_digits=14, decimal_places=2)
    paid = (
        Payment.objects.filter(order_id=OuterRef(order_ref))
        .values("order_id")
        .annotate(paid=Sum(F("amount_collected") - F("amount_refunded")))
        .values("paid")
    )
    adjusted = (
        Refund.objects.filter(
            payment__order_id=OuterRef(order_ref),
            reason=Refund.Reason.ADJUSTMENT,
            status=Refund.Status.SUCCEEDED,
        )
        .values("payment__order_id")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    return Coalesce(Subquery(paid, output_field=money), ZERO) + Coalesce(
        Subquery(adjusted, output_field=money), ZERO
    )


def transfer_allocated(*, transfer: BankTransfer) -> Decimal:
    return transfer.allocations.aggregate(s=Coalesce(Sum("amount"), ZERO))["s"]


# --- reads for a user ---------------------------------------------------------------------------
def bank_transfer_list(*, user) -> QuerySet:
    allocated = (
        BankTransfer.objects.filter(pk=OuterRef("pk"))
        .annotate(s=Sum("allocations__amount"))
        .values("s")
    )
    queryset = (
        BankTransfer.objects.select_related("organisation")
        .prefetch_related("allocations__payment")
        .annotate(
            allocated=Coalesce(
                Subquery(allocated, output_field=DecimalField(max_digits=14, decimal_places=2)),
                ZERO,
            )
        )
    )
    return access.organisation_rows_visible(user=user, queryset=queryset)


def payment_list(*, user) -> QuerySet:
    queryset = Payment.objects.select_related("order").annotate(order_paid=paid_subquery())
    return access.organisation_rows_visible(
        user=user, queryset=queryset, field="order__organisation_id"
    )


def refund_list(*, user) -> QuerySet:
    queryset = Refund.objects.select_related("payment")
    return access.organisation_rows_visible(
        user=user, queryset=queryset, field="payment__order__organisation_id"
    )


def pending_refunds(*, payment: Payment) -> Decimal:
    """Refunds asked of the provider and not yet answered: already promised to the buyer."""
    return payment.refunds.filter(status=Refund.Status.PENDING).aggregate(
        s=Coalesce(Sum("amount"), ZERO)
    )["s"]


def statement_list(*, user) -> QuerySet:
    queryset = Statement.objects.select_related("cooperative", "run")
    return access.cooperative_rows_visible(user=user, queryset=queryset)


def statement_lines(*, statement: Statement) -> QuerySet:
    return statement.lines.select_related("fulfilment").order_by("fulfilment_id")


def statement_shares(*, statement: Statement) -> QuerySet:
    return statement.shares.select_related("household").order_by("household_id")


def poverty_list_subtotal(shares) -> Decimal:
    """What a statement's households on the poverty list (as they stood when it was made)
    receive of it: the sum of their shares."""
    return sum((s.amount for s in shares if s.on_poverty_list), Decimal("0.00"))


def household_earnings(*, user, household_id: int | None = None) -> QuerySet:
    """A household's shares summed per calendar month of the statements (Asia/Shanghai),
    for the households the user may see."""
    queryset = access.cooperative_rows_visible(
        user=user,
        queryset=HouseholdShare.objects.all(),
        field="statement__cooperative_id",
    )
    if household_id is not None:
        queryset = queryset.filter(household_id=household_id)
    return (
        queryset.annotate(month=TruncMonth("statement__period_end"))
        .values("household_id", "household__name", "household__on_poverty_list", "month")
        .annotate(amount=Sum("amount"), statements=Sum(Value(1)))
        .order_by("-month", "household_id")
    )


def settlement_run_list(*, user) -> QuerySet:
    return access.staff_rows_visible(user=user, queryset=SettlementRun.objects.all())


def payout_list(*, user) -> QuerySet:
    queryset = Payout.objects.select_related("statement__cooperative")
    return access.staff_rows_visible(user=user, queryset=queryset)


def bank_batch_list(*, user) -> QuerySet:
    return access.staff_rows_visible(user=user, queryset=BankBatch.objects.all())


def bank_batch_payouts(*, batch: BankBatch) -> QuerySet:
    return batch.payouts.select_related("statement__cooperative").order_by("pk")


def pending_bank_payouts() -> QuerySet:
    return Payout.objects.filter(rail="bank_batch", status=Payout.Status.PENDING, batch=None)


def orders_for_transfer(user) -> QuerySet:
    """Orders a bank transfer may name: those the user may see (staff: all; a partner
    system: its organisation's). The service then checks they are the transfer's payer's."""
    return access.organisation_rows_visible(user=user, queryset=Order.objects.all())


def orders_for_payment(user) -> QuerySet:
    """Orders a payment may name: those the user may see; the service then checks the user
    pays for the order's organisation."""
    return access.organisation_rows_visible(user=user, queryset=Order.objects.all())


def payments_for_refund(user) -> QuerySet:
    return access.organisation_rows_visible(
        user=user, queryset=Payment.objects.all(), field="order__organisation_id"
    )


def fulfilments_for_refund(user) -> QuerySet:
    """Parts a refund may name (an adjustment's): those of orders the user may see."""
    return access.organisation_rows_visible(
        user=user, queryset=Fulfilment.objects.all(), field="order__organisation_id"
    )


def organisations_for_transfer(user) -> QuerySet:
    """Organisations a transfer may name as the payer: those the user may see."""
    return organisations_visible(user=user, queryset=BuyerOrganisation.objects.all())


def organisation(organisation_id: int) -> BuyerOrganisation:
    return BuyerOrganisation.objects.get(pk=organisation_id)
