from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.permissions import is_staff
from backend.errors import Forbidden
from backend.viewsets import ResourceViewSet

from . import selectors, services
from .models import Membership
from .serializers import BuyerOrganisationSerializer, StoreSerializer


class StaffWritesMembersRead(BasePermission):
    """Buyer organisations: staff write; members read their own (the selector scopes)."""

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        return request.method in SAFE_METHODS or is_staff(request.user)


class StoresPermission(BasePermission):
    """Stores: members read their organisation's; staff and the organisation's approvers
    write them."""

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if request.method in SAFE_METHODS or is_staff(user):
            return True
        membership = selectors.membership_of(user=user)
        return membership is not None and membership.role == Membership.Role.APPROVER


class BuyerOrganisationViewSet(ResourceViewSet):
    """Buyer organisations with their stores and members. Staff see and write all; members
    see their own."""

    serializer_class = BuyerOrganisationSerializer
    permission_classes = [StaffWritesMembersRead]
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
    permission_classes = [StoresPermission]
    search_fields = ["name", "address"]
    ordering_fields = ["id", "name"]
    filterset_fields = ["organisation", "is_active"]

    def get_queryset(self):
        return selectors.store_list(user=self.request.user)

    def perform_create(self, serializer):
        organisation = serializer.validated_data["organisation"]
        if not is_staff(self.request.user) and organisation.pk != selectors.organisation_id_of(
            user=self.request.user
        ):
            raise Forbidden(
                "You can only add stores to your own organisation.",
                fields={"organisation": ["Not your organisation."]},
            )
        serializer.instance = services.store_create(**serializer.validated_data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("organisation", None)  # a store does not change hands
        serializer.instance = services.store_update(store=serializer.instance, data=data)
