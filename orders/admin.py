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
    list_display = ["id", "organisation", "store", "weekday", "is_active"]
    list_filter = ["is_active", "weekday"]
    inlines = [StandingOrderRunInline]
