from django.contrib import admin

from .models import Cooperative, Household


@admin.register(Cooperative)
class CooperativeAdmin(admin.ModelAdmin):
    list_display = ["name_zh", "name_en", "credit_code", "village", "commission_rate", "is_active"]
    list_filter = ["is_active", "township"]
    search_fields = ["name_zh", "name_en", "credit_code"]
    filter_horizontal = ["managers"]


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ["name", "cooperative", "village", "on_poverty_list"]
    list_filter = ["cooperative", "on_poverty_list", "village"]
    search_fields = ["name", "poverty_registration_no"]
