from django.contrib import admin

from .models import (
    Category,
    Certification,
    Listing,
    Lot,
    LotContribution,
    NegotiatedPrice,
    NegotiatedPriceTier,
    PriceTier,
    Product,
)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name_zh", "name_en", "slug", "parent"]
    search_fields = ["name_zh", "name_en", "slug"]


@admin.register(Certification)
class CertificationAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name_zh", "name_en", "pinyin", "category", "unit", "is_active"]
    list_filter = ["category", "is_active"]
    search_fields = ["name_zh", "name_en", "pinyin"]
    readonly_fields = ["pinyin"]


class PriceTierInline(admin.TabularInline):
    model = PriceTier
    extra = 0


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    """Stock is read-only here: it moves through lots and orders only."""

    list_display = ["__str__", "status", "stock_on_hand", "stock_reserved", "lead_time_days"]
    list_filter = ["status", "grade", "cooperative"]
    search_fields = ["product__name_zh", "cooperative__name_zh"]
    readonly_fields = ["stock_on_hand", "stock_reserved"]
    inlines = [PriceTierInline]


class LotContributionInline(admin.TabularInline):
    model = LotContribution
    extra = 0
    raw_id_fields = ["household"]
    readonly_fields = ["household", "quantity"]
    can_delete = False


@admin.register(Lot)
class LotAdmin(admin.ModelAdmin):
    list_display = ["code", "listing", "harvest_date", "quantity"]
    search_fields = ["code"]
    readonly_fields = ["listing", "code", "quantity"]
    inlines = [LotContributionInline]

    def has_add_permission(self, request):
        return False  # lots are received through the API so stock moves with them


class NegotiatedPriceTierInline(admin.TabularInline):
    model = NegotiatedPriceTier
    extra = 0


@admin.register(NegotiatedPrice)
class NegotiatedPriceAdmin(admin.ModelAdmin):
    list_display = ["listing", "organisation", "valid_from", "valid_until"]
    list_filter = ["organisation"]
    raw_id_fields = ["listing"]
    inlines = [NegotiatedPriceTierInline]
