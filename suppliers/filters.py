from backend.api import FilterSet, IdFilter, SearchFilter

from . import selectors
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


class HouseholdSearchFilter(SearchFilter):
    """``search`` over households as the phone page searches them (suppliers.selectors):
    name, village or registration number, in Chinese or pinyin."""

    def filter_queryset(self, request, queryset, view):
        terms = self.get_search_terms(request)
        if not terms:
            return queryset
        return selectors.household_search(queryset=queryset, text=" ".join(terms))
