from decimal import Decimal

from backend import serializers

from .models import BuyerOrganisation, Membership, Store
from .selectors import organisation_choices


class StoreSerializer(serializers.ModelSerializer):
    organisation = serializers.PrimaryKeyRelatedField(queryset=organisation_choices())

    class Meta:
        model = Store
        fields = [
            "id",
            "organisation",
            "name",
            "address",
            "district",
            "contact_name",
            "contact_phone",
            "is_active",
        ]
        extra_kwargs = {"contact_phone": {"max_length": 32}}


class MembershipSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="user.name", read_only=True)
    phone = serializers.CharField(source="user.phone", read_only=True)

    class Meta:
        model = Membership
        fields = ["user", "name", "phone", "role"]


class BuyerOrganisationSerializer(serializers.ModelSerializer):
    stores = StoreSerializer(many=True, read_only=True)
    members = MembershipSerializer(source="memberships", many=True, read_only=True)

    class Meta:
        model = BuyerOrganisation
        fields = [
            "id",
            "name_zh",
            "name_en",
            "kind",
            "credit_code",
            "contact_phone",
            "approval_threshold",
            "net_terms_days",
            "is_active",
            "stores",
            "members",
            "created_at",
        ]
        read_only_fields = ["created_at"]
        extra_kwargs = {
            "contact_phone": {"max_length": 32},
            "approval_threshold": {"min_value": Decimal("0"), "max_value": Decimal("100000000")},
            "net_terms_days": {"min_value": 0, "max_value": 180},
        }
