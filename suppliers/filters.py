import django_filters

from backend.api import IdFilter

from .models import Cooperative, Household


class CooperativeFilter(django_filters.FilterSet):
    class Meta:
        model = Cooperative
        fields = ["township", "village", "is_active"]


class HouseholdFilter(django_filters.FilterSet):
    cooperative = IdFilter(field_name="cooperative_id")

    class Meta:
        model = Household
        fields = ["cooperative", "village", "on_poverty_list"]
