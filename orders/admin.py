from django.contrib import admin

from backend.admin import ViewOnlyAdmin, ViewOnlyInline

from .models import Fulfilment, Order, OrderEvent, OrderLine, StandingOrder, StandingOrderRun


class FulfilmentInline(ViewOnlyInline):
    model = Fulfilment


class OrderLineInline(ViewOnlyInline):
    model = OrderLine


class OrderEventInline(ViewOnlyInline):
    model = OrderEvent


@admin.register(Order)
class OrderAdmin(ViewOnlyAdmin):
    """Orders move through the API's services, so stock and events move with them."""

    list_display = ["id", "organisation", "store", "status", "total", "created_at"]
    list_filter = ["status", "organisation"]
    inlines = [FulfilmentInline, OrderLineInline, OrderEventInline]


class StandingOrderRunInline(ViewOnlyInline):
    model = StandingOrderRun


@admin.register(StandingOrder)
class StandingOrderAdmin(admin.ModelAdmin):
    """Switch on and off, or change days; the cap is an approver's, set through the API.
    Never deleted: the runs are the record of what was ordered."""

    list_display = ["id", "organisation", "store", "weekday", "is_active"]
    list_filter = ["is_active", "weekday"]
    readonly_fields = [
        "organisation",
        "store",
        "created_by",
        "approved_cap",
        "approved_cap_by",
        "runs_from",
        "stopped_reason",
    ]
    inlines = [StandingOrderRunInline]

    def has_add_permission(self, request):
        return False  # lines are checked as the buyer sees them: made through the API

    def has_delete_permission(self, request, obj=None):
        return False
