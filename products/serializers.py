from decimal import Decimal

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from backend import serializers
from backend.relations import ScopedPrimaryKeyRelatedField
from buyers.selectors import organisation_choices
from suppliers.selectors import cooperative_list, household_choices

from . import access, selectors
from .models import (
    EARLIEST_HARVEST,
    Category,
    Certification,
    Listing,
    Lot,
    NegotiatedPrice,
    PriceTier,
    Product,
)

# Bounds that catch typos and absurd input long before the database's digit limits.
MAX_QUANTITY = Decimal("100000000")  # 100 million units
MAX_UNIT_PRICE = Decimal("1000000.00")
QUANTITY_FIELD = {"max_digits": 12, "decimal_places": 3, "max_value": MAX_QUANTITY}


TIERS_RULE = _(
    "Each tier starts at its own min_quantity, the first at or below the listing's "
    "min_order_quantity, and a larger quantity never costs more per unit; otherwise a 400 "
    "naming tiers."
)


def quantity_field(**kwargs):
    return serializers.DecimalField(min_value=Decimal("0.001"), **QUANTITY_FIELD, **kwargs)


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "parent", "slug", "name_zh", "name_en"]


class CertificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Certification
        fields = ["code", "name_zh", "name_en"]


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = [
            "id",
            "category",
            "name_zh",
            "name_en",
            "pinyin",
            "unit",
            "description",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["pinyin", "created_at", "updated_at"]


class PriceTierSerializer(serializers.ModelSerializer):
    min_quantity = quantity_field()
    unit_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), max_value=MAX_UNIT_PRICE
    )

    class Meta:
        model = PriceTier
        fields = ["min_quantity", "unit_price"]


class ListingSerializer(serializers.ModelSerializer):
    # Active cooperatives the user can see; suppliers.access then refuses (403) one they do
    # not manage.
    cooperative = ScopedPrimaryKeyRelatedField(
        scope=lambda user: cooperative_list(user=user).filter(is_active=True)
    )
    product = ScopedPrimaryKeyRelatedField(
        scope=lambda user: selectors.product_list(user=user).filter(is_active=True)
    )
    cooperative_name = serializers.CharField(source="cooperative.name_zh", read_only=True)
    product_name_zh = serializers.CharField(source="product.name_zh", read_only=True)
    product_name_en = serializers.CharField(source="product.name_en", read_only=True)
    category = serializers.IntegerField(source="product.category_id", read_only=True)
    min_order_quantity = quantity_field()
    order_increment = quantity_field()
    available_quantity = serializers.DecimalField(max_digits=12, decimal_places=3, read_only=True)
    base_price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        read_only=True,
        help_text="Unit price at the lowest tier (what the minimum order costs per unit).",
    )
    tiers = PriceTierSerializer(many=True, min_length=1, max_length=10, help_text=TIERS_RULE)
    certifications = serializers.SlugRelatedField(
        slug_field="code",
        many=True,
        required=False,
        queryset=selectors.certification_list(user=None),
    )
    status = serializers.ServerSetChoiceField(
        choices=Listing.SETTABLE_STATUSES,
        read_choices=Listing.Status.choices,
        required=False,
        help_text="Set draft, active or paused; reads also sold_out, which is set from stock.",
    )
    lead_time_days = serializers.IntegerField(min_value=0, max_value=365, required=False)

    class Meta:
        model = Listing
        fields = [
            "id",
            "cooperative",
            "cooperative_name",
            "product",
            "product_name_zh",
            "product_name_en",
            "category",
            "grade",
            "unit",
            "packaging",
            "description",
            "min_order_quantity",
            "order_increment",
            "base_price",
            "tiers",
            "available_quantity",
            "stock_on_hand",
            "stock_reserved",
            "lead_time_days",
            "certifications",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["stock_on_hand", "stock_reserved", "created_at", "updated_at"]
        extra_kwargs = {"unit": {"required": False}}
        validators = []  # the one-live-listing rule is listing_create's: a 409, not a 400

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            # What a listing offers can change; whose offer of which product it is, and the
            # unit its stock, tiers and orders are counted in, cannot.
            for name in ("cooperative", "product", "unit"):
                fields[name].read_only = True
        return fields


class ContributionInputSerializer(serializers.Serializer):
    household = serializers.PrimaryKeyRelatedField(queryset=household_choices())
    quantity = quantity_field()


class HouseholdContributionSerializer(serializers.Serializer):
    household = serializers.IntegerField()
    name = serializers.CharField()
    village = serializers.CharField()
    on_poverty_list = serializers.BooleanField()
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3)


class NotBeforeEarliestHarvest:
    """Lots are this century's harvests (the model's constraint lot_harvest_date_from_2000),
    said in the schema as a pattern on the year."""

    openapi = {
        "pattern": r"^[2-9][0-9]{3}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])$",
    }

    def __call__(self, value):
        if value < EARLIEST_HARVEST:
            raise serializers.ValidationError(
                gettext("The harvest date is before %(earliest)s.")
                % {"earliest": EARLIEST_HARVEST.isoformat()}
            )


class LotSerializer(serializers.ModelSerializer):
    """Lots for traceability (溯源). Buyers see how many households and villages supplied a lot
    and how much came from households on the poverty list; who those households are is for
    the cooperative's managers and staff only."""

    listing = ScopedPrimaryKeyRelatedField(scope=lambda user: selectors.visible_listings(user=user))
    quantity = quantity_field()
    contributions = ContributionInputSerializer(
        many=True,
        write_only=True,
        min_length=1,
        max_length=500,
        help_text=_(
            "Households of the listing's cooperative, each once, adding up to the lot's "
            "quantity; otherwise a 400 naming contributions."
        ),
    )
    household_count = serializers.SerializerMethodField()
    villages = serializers.SerializerMethodField()
    poverty_list_quantity = serializers.SerializerMethodField()
    households = serializers.SerializerMethodField()

    class Meta:
        model = Lot
        fields = [
            "id",
            "listing",
            "code",
            "harvest_date",
            "quantity",
            "notes",
            "household_count",
            "villages",
            "poverty_list_quantity",
            "households",
            "contributions",
            "created_at",
        ]
        read_only_fields = ["created_at"]
        extra_kwargs = {
            "harvest_date": {
                "validators": [NotBeforeEarliestHarvest()],
                "help_text": _("From 2000-01-01 to today."),
            }
        }
        validators = []  # a repeated lot code is lot_receive's 409, not a 400

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            for name in ("listing", "code", "quantity", "contributions"):
                fields[name].read_only = True
        return fields

    def get_household_count(self, lot) -> int:
        return len(lot.contributions.all())

    def get_villages(self, lot) -> list[str]:
        return sorted({c.household.village for c in lot.contributions.all()})

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=3))
    def get_poverty_list_quantity(self, lot) -> str:
        total = sum(
            (c.quantity for c in lot.contributions.all() if c.household.on_poverty_list), Decimal(0)
        )
        return serializers.DecimalField(max_digits=12, decimal_places=3).to_representation(total)

    @extend_schema_field(HouseholdContributionSerializer(many=True, allow_null=True))
    def get_households(self, lot):
        """Named contributions, for the cooperative's managers and staff; null for others."""
        if not access.can_see_lot_households(user=self.context["request"].user, lot=lot):
            return None
        return HouseholdContributionSerializer(
            [
                {
                    "household": c.household_id,
                    "name": c.household.name,
                    "village": c.household.village,
                    "on_poverty_list": c.household.on_poverty_list,
                    "quantity": c.quantity,
                }
                for c in lot.contributions.all()
            ],
            many=True,
        ).data


class NegotiatedPriceSerializer(serializers.ModelSerializer):
    """A buyer organisation's own tier table for a listing, valid for a date range."""

    tiers = PriceTierSerializer(many=True, min_length=1, max_length=10, help_text=TIERS_RULE)
    listing = ScopedPrimaryKeyRelatedField(scope=lambda user: selectors.visible_listings(user=user))
    organisation = serializers.PrimaryKeyRelatedField(queryset=organisation_choices())

    class Meta:
        model = NegotiatedPrice
        fields = [
            "id",
            "listing",
            "organisation",
            "valid_from",
            "valid_until",
            "tiers",
            "note",
            "created_at",
        ]
        read_only_fields = ["created_at"]
        extra_kwargs = {"valid_until": {"help_text": _("On or after valid_from.")}}
