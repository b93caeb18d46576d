from django.contrib import admin

from .models import BuyerOrganisation, Membership, Store


class StoreInline(admin.TabularInline):
    model = Store
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(BuyerOrganisation)
class BuyerOrganisationAdmin(admin.ModelAdmin):
    list_display = ["name_zh", "kind", "approval_threshold", "net_terms_days", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name_zh", "name_en", "credit_code"]
    inlines = [StoreInline, MembershipInline]
