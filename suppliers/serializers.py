from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from accounts.selectors import cooperative_manager_list
from backend import serializers

from .access import can_see_private_cooperative_data
from .models import Cooperative, Household
from .selectors import cooperative_choices


class CooperativeSerializer(serializers.ModelSerializer):
    managers = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=cooperative_manager_list(),
    )

    # Business details the cooperative shares with the platform, not with buyers.
    PRIVATE_FIELDS = ("payout_reference", "stripe_account", "commission_rate", "managers")

    class Meta:
        model = Cooperative
        fields = [
            "id",
            "name_zh",
            "name_en",
            "credit_code",
            "township",
            "village",
            "contact_phone",
            "payout_reference",
            "stripe_account",
            "commission_rate",
            "min_order_value",
            "managers",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {
            "commission_rate": {"min_value": Decimal("0"), "max_value": Decimal("0.5")},
            # Raw input may be "+86 139 1234 5678"; the service stores E.164 (≤ 16 characters).
            "contact_phone": {"max_length": 32},
            "min_order_value": {"min_value": Decimal("0"), "max_value": Decimal("10000000")},
        }

    def to_representation(self, instance):
        data = super().to_representation(instance)
        user = self.context["request"].user
        if not can_see_private_cooperative_data(user=user, cooperative_id=instance.id):
            for name in self.PRIVATE_FIELDS:
                data.pop(name, None)
        return data


class HouseholdSerializer(serializers.ModelSerializer):
    cooperative = serializers.PrimaryKeyRelatedField(queryset=cooperative_choices())

    class Meta:
        model = Household
        fields = [
            "id",
            "cooperative",
            "name",
            "village",
            "phone",
            "on_poverty_list",
            "poverty_registration_no",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {
            "phone": {"max_length": 32},
            "poverty_registration_no": {
                "help_text": _(
                    "Required when on_poverty_list is true, empty when it is false; otherwise "
                    "a 400 naming this field."
                )
            },
        }

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if self.instance is not None and request is not None and request.method != "GET":
            fields["cooperative"].read_only = True  # a household does not change cooperative
        return fields
