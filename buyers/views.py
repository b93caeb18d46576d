from backend.viewsets import ResourceViewSet

from . import access, selectors, services
from .serializers import BuyerOrganisationSerializer, StoreSerializer


class BuyerOrganisationViewSet(ResourceViewSet):
    """Buyer organisations with their stores and members. Staff see and write all; members
    see their own."""

    serializer_class = BuyerOrganisationSerializer
    permission_classes = [access.BuyerOrganisationPermission]
    search_fields = ["name_zh", "name_en"]
    ordering_fields = ["id", "name_zh"]
    filterset_fields = ["kind", "is_active"]

    def get_queryset(self):
        return selectors.organisation_list(user=self.request.user).prefetch_related(
            "stores", "memberships__user"
        )

    def perform_create(self, serializer):
        serializer.instance = services.organisation_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.organisation_update(
            organisation=serializer.instance, data=serializer.validated_data
        )


class StoreViewSet(ResourceViewSet):
    """Stores (门店): where orders are delivered."""

    serializer_class = StoreSerializer
    permission_classes = [access.StorePermission]
    search_fields = ["name", "address"]
    ordering_fields = ["id", "name"]
    filterset_fields = ["organisation", "is_active"]

    def get_queryset(self):
        return selectors.store_list(user=self.request.user)

    def perform_create(self, serializer):
        organisation = serializer.validated_data["organisation"]
        access.check_store_organisation(user=self.request.user, organisation_id=organisation.pk)
        serializer.instance = services.store_create(**serializer.validated_data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("organisation", None)  # a store does not change hands
        serializer.instance = services.store_update(store=serializer.instance, data=data)
