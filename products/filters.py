import django_filters
from django.db.models import F, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from backend.api import BooleanFilter, FilterSet, IdFilter
from backend.schema import decimal_pattern

from . import access
from .models import Category, Grade, Listing, Lot, Product, Unit
from .selectors import category_descendant_ids

MONEY_FILTER = {"max_digits": 12, "decimal_places": 2, "min_value": 0}


@extend_schema_field(
    {
        "type": "string",
        "pattern": decimal_pattern(decimal_places=2, whole_digits=10, min_value=0),
    }
)
class MoneyFilter(django_filters.NumberFilter):
    """An amount, said in the schema as the decimal string the filter takes (as amounts are in
    bodies): no sign, at most 10 whole digits and 2 places."""


class CategoryTreeFilter(IdFilter):
    """?category=<id> matches that category and every category below it."""

    def filter(self, qs, value):
        if value is None:
            return qs
        return qs.filter(**{f"{self.field_name}__in": category_descendant_ids(category_id=value)})


class CategoryFilter(FilterSet):
    parent = IdFilter(field_name="parent_id")

    class Meta:
        model = Category
        fields = ["parent"]


class ProductFilter(FilterSet):
    category = CategoryTreeFilter(field_name="category_id")

    class Meta:
        model = Product
        fields = ["category", "unit", "is_active"]


class ListingFilter(FilterSet):
    category = CategoryTreeFilter(field_name="product__category_id")
    cooperative = IdFilter(field_name="cooperative_id")
    product = IdFilter(field_name="product_id")
    grade = django_filters.ChoiceFilter(choices=Grade.choices)
    unit = django_filters.ChoiceFilter(choices=Unit.choices)
    status = django_filters.ChoiceFilter(choices=Listing.Status.choices)
    price_min = MoneyFilter(field_name="base_price", lookup_expr="gte", **MONEY_FILTER)
    price_max = MoneyFilter(field_name="base_price", lookup_expr="lte", **MONEY_FILTER)
    in_stock = BooleanFilter(method="filter_in_stock")
    certification = django_filters.CharFilter(
        field_name="certifications__code", max_length=30, distinct=True
    )

    class Meta:
        model = Listing
        fields = [
            "category",
            "cooperative",
            "product",
            "grade",
            "unit",
            "status",
            "price_min",
            "price_max",
            "in_stock",
            "certification",
        ]

    @extend_schema_field(OpenApiTypes.BOOL)
    def filter_in_stock(self, qs, name, value):
        available = Q(stock_on_hand__gt=F("stock_reserved"))
        return qs.filter(available) if value else qs.exclude(available)


class LotFilter(FilterSet):
    listing = IdFilter(field_name="listing_id")
    cooperative = IdFilter(field_name="listing__cooperative_id")
    household = IdFilter(method="filter_household")
    harvested_after = django_filters.DateFilter(field_name="harvest_date", lookup_expr="gte")
    harvested_before = django_filters.DateFilter(field_name="harvest_date", lookup_expr="lte")

    def filter_household(self, qs, name, value):
        """Which lots a household supplied is household data: staff see it, managers for their
        own cooperatives' households; for anyone else the filter matches nothing."""
        qs = qs.filter(contributions__household_id=value).distinct()
        return access.lots_by_household_visible(user=self.request.user, queryset=qs)

    class Meta:
        model = Lot
        fields = ["listing", "cooperative", "household", "harvested_after", "harvested_before"]
