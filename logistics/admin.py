from django.contrib import admin

from backend.admin import ViewOnlyAdmin, ViewOnlyInline

from .models import DeliveryRun, DeliverySchedule, RunAssignment, Shipment


@admin.register(DeliverySchedule)
class DeliveryScheduleAdmin(ViewOnlyAdmin):
    """Schedules are written through the API (services check the weekdays and cut-off)."""

    list_display = ["id", "name", "weekdays", "departure_time", "cutoff_hours", "is_active"]


class RunAssignmentInline(ViewOnlyInline):
    model = RunAssignment


@admin.register(DeliveryRun)
class DeliveryRunAdmin(ViewOnlyAdmin):
    list_display = ["id", "schedule", "date", "departs_at", "cutoff_at", "status"]
    list_filter = ["status", "schedule"]
    inlines = [RunAssignmentInline]


@admin.register(Shipment)
class ShipmentAdmin(ViewOnlyAdmin):
    list_display = ["id", "fulfilment", "mode", "package_count", "weight_kg", "window_end"]
