from django.contrib import admin

from .models import BankBatch, BankTransfer, Payment, Payout, SettlementRun, Statement


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


admin.site.register([SettlementRun, Payout, BankBatch], ReadOnlyAdmin)
