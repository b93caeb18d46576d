from django.contrib import admin

from .models import (
    BankBatch,
    BankTransfer,
    Payment,
    Payout,
    ProviderEvent,
    Refund,
    SettlementRun,
    Statement,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money moves only through payments' services (which post to the ledger): the admin
    shows it, it never edits it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["order", "rail", "status", "amount", "amount_collected", "amount_refunded"]
    list_filter = ["rail", "status"]
    raw_id_fields = ["order"]


@admin.register(BankTransfer)
class BankTransferAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "bank_reference", "amount", "received_on"]
    search_fields = ["bank_reference"]
    raw_id_fields = ["organisation", "recorded_by"]


@admin.register(Statement)
class StatementAdmin(ReadOnlyAdmin):
    list_display = ["cooperative", "period_start", "period_end", "net_payable", "status"]
    list_filter = ["status"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["payment", "amount", "reason", "status", "provider_reference", "created_at"]
    list_filter = ["reason", "status"]
    raw_id_fields = ["payment", "fulfilment", "statement", "created_by"]


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyAdmin):
    """What Stripe sent, once per event id; an empty "processed at" is still to do."""

    list_display = ["event_id", "type", "received_at", "processed_at"]
    list_filter = ["provider", "type"]
    search_fields = ["event_id"]


admin.site.register([SettlementRun, Payout, BankBatch], ReadOnlyAdmin)
