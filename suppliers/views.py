from rest_framework import viewsets

from backend.api import FilterBackend, OrderingFilter, SparseFieldsMixin, bounded_id_regex
from backend.idempotency import IdempotentCreateMixin
from backend.viewsets import ResourceViewSet

from . import access, selectors, services
from .filters import CooperativeFilter, HouseholdFilter, HouseholdSearchFilter
from .serializers import CooperativeSerializer, HouseholdSerializer


class CooperativeViewSet(ResourceViewSet):
    """Cooperatives (合作社). Everyone signed in reads them; platform staff write them.
    Payout details and commission are shown to staff and the cooperative's managers only."""

    serializer_class = CooperativeSerializer
    permission_classes = [access.CooperativePermission]
    filterset_class = CooperativeFilter
    search_fields = ["name_zh", "name_en", "village"]
    ordering_fields = ["id", "name_zh", "created_at"]

    def get_queryset(self):
        return selectors.cooperative_list(user=self.request.user).prefetch_related("managers")

    def perform_create(self, serializer):
        serializer.instance = services.cooperative_create(**serializer.validated_data)

    def perform_update(self, serializer):
        access.check_profile_update(user=self.request.user, fields=serializer.validated_data)
        serializer.instance = services.cooperative_update(
            cooperative=serializer.instance, data=serializer.validated_data
        )


class HouseholdViewSet(SparseFieldsMixin, IdempotentCreateMixin, viewsets.ModelViewSet):
    """Member households (农户): personal data, for platform staff and the managers of the
    household's cooperative only."""

    serializer_class = HouseholdSerializer
    permission_classes = [access.HouseholdPermission]
    lookup_value_regex = bounded_id_regex()
    filterset_class = HouseholdFilter
    # Chinese or pinyin (zhangsan, zs, 张三; a village's too): suppliers.selectors.
    filter_backends = [FilterBackend, HouseholdSearchFilter, OrderingFilter]
    search_fields = ["name", "village", "poverty_registration_no"]
    ordering_fields = ["id", "name", "village"]

    def get_queryset(self):
        return selectors.household_list(user=self.request.user)

    def perform_create(self, serializer):
        cooperative = serializer.validated_data["cooperative"]
        access.check_manages(user=self.request.user, cooperative_id=cooperative.pk)
        serializer.instance = services.household_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.household_update(
            household=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.household_delete(household=instance)
