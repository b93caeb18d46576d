import django_filters

from backend.api import FilterSet, IdFilter
from orders.models import Fulfilment, FulfilmentStatus


class DeliveryNoteFilter(FilterSet):
    """Which delivery notes an export holds: a run's, an order's, or by status."""

    run = IdFilter(field_name="run_assignment__run_id")
    order = IdFilter(field_name="order_id")
    status = django_filters.ChoiceFilter(choices=FulfilmentStatus.choices)

    class Meta:
        model = Fulfilment
        fields = ["run", "order", "status"]
