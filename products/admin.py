from django.contrib import admin

from backend.admin import ViewOnlyAdmin, ViewOnlyInline
from backend.pinyin import pinyin_for_search

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

    def save_model(self, request, obj, form, change):
        obj.pinyin = pinyin_for_search(obj.name_zh)  # as products.services does
        super().save_model(request, obj, form, change)


class PriceTierInline(ViewOnlyInline):
    model = PriceTier


@admin.register(Listing)
class ListingAdmin(ViewOnlyAdmin):
    """Listings change through the API: their stock moves only with lots and orders."""

    list_display = ["__str__", "status", "stock_on_hand", "stock_reserved", "lead_time_days"]
    list_filter = ["status", "grade", "cooperative"]
    search_fields = ["product__name_zh", "cooperative__name_zh"]
    inlines = [PriceTierInline]


class LotContributionInline(ViewOnlyInline):
    model = LotContribution


@admin.register(Lot)
class LotAdmin(ViewOnlyAdmin):
    """Lots are received through the API, so stock moves with them."""

    list_display = ["code", "listing", "harvest_date", "quantity", "quantity_picked"]
    search_fields = ["code"]
    inlines = [LotContributionInline]


class NegotiatedPriceTierInline(ViewOnlyInline):
    model = NegotiatedPriceTier


@admin.register(NegotiatedPrice)
class NegotiatedPriceAdmin(ViewOnlyAdmin):
    list_display = ["listing", "organisation", "valid_from", "valid_until"]
    list_filter = ["organisation"]
    raw_id_fields = ["listing"]
    inlines = [NegotiatedPriceTierInline]
