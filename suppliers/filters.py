from backend.api import FilterSet, IdFilter

from .models import Cooperative, Household


class CooperativeFilter(FilterSet):
    class Meta:
        model = Cooperative
        fields = ["township", "village", "is_active"]


class HouseholdFilter(FilterSet):
    cooperative = IdFilter(field_name="cooperative_id")

    class Meta:
        model = Household
        fields = ["cooperative", "village", "on_poverty_list"]
