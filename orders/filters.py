import django_filters

from backend.api import FilterSet, IdFilter

from .models import Fulfilment, FulfilmentStatus, Order


class OrderFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=FulfilmentStatus.choices)
    store = IdFilter(field_name="store_id")
    cooperative = IdFilter(field_name="fulfilments__cooperative_id", distinct=True)
    placed_after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    placed_before = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte")

    class Meta:
        model = Order
        fields = ["status", "store", "cooperative", "placed_after", "placed_before"]


class FulfilmentFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=FulfilmentStatus.choices)
    order = IdFilter(field_name="order_id")
    cooperative = IdFilter(field_name="cooperative_id")

    class Meta:
        model = Fulfilment
        fields = ["status", "order", "cooperative"]
