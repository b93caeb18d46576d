from django.contrib import admin

from .models import Fulfilment, Order, OrderEvent, OrderLine, StandingOrder, StandingOrderRun


class FulfilmentInline(admin.TabularInline):
    model = Fulfilment
    extra = 0
    readonly_fields = ["cooperative", "status", "subtotal", "reason"]
    can_delete = False


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    readonly_fields = [
        "fulfilment",
        "listing",
        "quantity",
        "unit_price",
        "price_source",
        "confirmed_quantity",
        "accepted_quantity",
        "delivery_issue",
        "delivery_note",
        "line_total",
    ]
    can_delete = False


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    readonly_fields = ["fulfilment", "actor", "from_status", "to_status", "note", "created_at"]
    can_delete = False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Read-only: orders move through the API's services, so stock and events move with them."""

    list_display = ["id", "organisation", "store", "status", "total", "created_at"]
    list_filter = ["status", "organisation"]
    inlines = [FulfilmentInline, OrderLineInline, OrderEventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class StandingOrderRunInline(admin.TabularInline):
    model = StandingOrderRun
    extra = 0
    readonly_fields = ["period", "outcome", "order", "message"]
    can_delete = False


@admin.register(StandingOrder)
class StandingOrderAdmin(admin.ModelAdmin):
    list_display = ["id", "organisation", "store", "weekday", "is_active"]
    list_filter = ["is_active", "weekday"]
    inlines = [StandingOrderRunInline]
