from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from backend import serializers
from backend.relations import ScopedPrimaryKeyRelatedField
from buyers.selectors import store_list, stores_known
from products.serializers import MAX_QUANTITY, quantity_field

from . import access
from .models import (
    Fulfilment,
    Order,
    OrderEvent,
    OrderLine,
    PurchaseImport,
    PurchaseImportOrder,
    StandingOrder,
    StandingOrderRun,
)
from .selectors import pick_list

DECIMAL_QUANTITY = {"max_digits": 12, "decimal_places": 3}


# A rule OpenAPI cannot say: it depends on the listing. Said here, refused with a 400.
ON_THE_GRID = _(
    "At least the listing's min_order_quantity, in steps of its order_increment above that; "
    "otherwise a 400 naming this line's quantity."
)


# --- input -------------------------------------------------------------------------------------
class LineInputSerializer(serializers.Serializer):
    # An id, not a related field: order_place locks all listings in one query and names the
    # line of any that is missing or not on sale (no query per line here).
    listing = serializers.IntegerField(min_value=1, max_value=2**62)
    quantity = quantity_field(help_text=ON_THE_GRID)


class OrderCreateSerializer(serializers.Serializer):
    # Only the user's own organisation's stores can be named; order_place checks it is active.
    store = ScopedPrimaryKeyRelatedField(
        scope=lambda user: store_list(user=user), known=stores_known
    )
    lines = LineInputSerializer(many=True, min_length=1, max_length=100)
    requested_delivery_date = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


def refuse_repeated_lines(lines: list[dict]) -> list[dict]:
    """Each line once: the views turn the list into a dict by line, where a repeated line
    would silently keep only its last entry."""
    seen: set[int] = set()
    errors: list[dict] = []
    for entry in lines:
        repeated = entry["line"] in seen
        seen.add(entry["line"])
        errors.append({"line": [_("This line is named twice.")]} if repeated else {})
    if any(errors):
        raise serializers.ValidationError(errors)
    return lines


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class ConfirmLineSerializer(serializers.Serializer):
    line = serializers.IntegerField(min_value=1)
    quantity = serializers.DecimalField(min_value=0, max_value=MAX_QUANTITY, **DECIMAL_QUANTITY)


class ConfirmSerializer(serializers.Serializer):
    """Lines not named are confirmed in full; name a line with a lower quantity to confirm
    short."""

    lines = ConfirmLineSerializer(many=True, required=False, max_length=100)

    def validate_lines(self, lines):
        return refuse_repeated_lines(lines)


class PickSerializer(serializers.Serializer):
    line = serializers.IntegerField(min_value=1)
    lot = serializers.IntegerField(min_value=1)
    quantity = quantity_field()


class PackSerializer(serializers.Serializer):
    """Optional: the lots to draw each named line from; other lines are drawn first in, first
    out."""

    picks = PickSerializer(many=True, required=False, max_length=500)


class DeliverLineSerializer(serializers.Serializer):
    line = serializers.IntegerField(min_value=1)
    accepted_quantity = serializers.DecimalField(
        min_value=0, max_value=MAX_QUANTITY, **DECIMAL_QUANTITY
    )
    issue = serializers.ChoiceField(
        choices=OrderLine.DeliveryIssue.choices,
        required=False,
        default="",
        help_text="shortfall (less arrived, the default) or quality (rejected at the store).",
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class DeliverSerializer(serializers.Serializer):
    """Lines not named are accepted in full; accepting less needs a note (shortfall,
    quality)."""

    lines = DeliverLineSerializer(many=True, required=False, max_length=100)

    def validate_lines(self, lines):
        return refuse_repeated_lines(lines)


# --- output ------------------------------------------------------------------------------------
class OrderLineSerializer(serializers.ModelSerializer):
    product_name_zh = serializers.CharField(source="listing.product.name_zh", read_only=True)
    unit = serializers.CharField(source="listing.unit", read_only=True)

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "listing",
            "product_name_zh",
            "unit",
            "quantity",
            "unit_price",
            "price_source",
            "confirmed_quantity",
            "accepted_quantity",
            "delivery_issue",
            "delivery_note",
            "line_total",
        ]


class FulfilmentSummarySerializer(serializers.ModelSerializer):
    cooperative_name = serializers.CharField(source="cooperative.name_zh", read_only=True)
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = Fulfilment
        fields = ["id", "cooperative", "cooperative_name", "status", "subtotal", "reason", "lines"]


class OrderSerializer(serializers.ModelSerializer):
    store_name = serializers.CharField(source="store.name", read_only=True)
    fulfilments = FulfilmentSummarySerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "organisation",
            "store",
            "store_name",
            "placed_by",
            "status",
            "total",
            "requested_delivery_date",
            "note",
            "reservation_expires_at",
            "approved_by",
            "approved_at",
            "reorder_of",
            "standing_order",
            "fulfilments",
            "created_at",
        ]


class PickHouseholdSerializer(serializers.Serializer):
    household = serializers.IntegerField()
    name = serializers.CharField()
    village = serializers.CharField()
    on_poverty_list = serializers.BooleanField()
    quantity = serializers.DecimalField(**DECIMAL_QUANTITY)


class PickLotSerializer(serializers.Serializer):
    lot = serializers.IntegerField()
    code = serializers.CharField()
    harvest_date = serializers.DateField()
    quantity = serializers.DecimalField(**DECIMAL_QUANTITY)
    households = PickHouseholdSerializer(many=True)


class PickLineSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    listing = serializers.IntegerField()
    drawn = serializers.BooleanField(help_text="True once packed; before, the proposed draw.")
    lots = PickLotSerializer(many=True)


class FulfilmentSerializer(FulfilmentSummarySerializer):
    """A cooperative's part of an order, as listed."""

    order = serializers.IntegerField(source="order_id", read_only=True)
    buyer_name = serializers.CharField(source="order.organisation.name_zh", read_only=True)
    store_name = serializers.CharField(source="order.store.name", read_only=True)
    store_address = serializers.CharField(source="order.store.address", read_only=True)
    requested_delivery_date = serializers.DateField(
        source="order.requested_delivery_date", read_only=True, allow_null=True
    )

    class Meta(FulfilmentSummarySerializer.Meta):
        fields = [
            *FulfilmentSummarySerializer.Meta.fields,
            "order",
            "buyer_name",
            "store_name",
            "store_address",
            "requested_delivery_date",
        ]


class FulfilmentDetailSerializer(FulfilmentSerializer):
    """One part with its pick list: which lots supply each line and which households are
    behind them (for the cooperative's managers and staff; null for buyers)."""

    pick_list = serializers.SerializerMethodField()

    class Meta(FulfilmentSerializer.Meta):
        fields = [*FulfilmentSerializer.Meta.fields, "pick_list"]

    @extend_schema_field(PickLineSerializer(many=True, allow_null=True))
    def get_pick_list(self, fulfilment):
        """Households are personal data: the pick list is for the cooperative and staff."""
        if not access.can_see_pick_list(user=self.context["request"].user, fulfilment=fulfilment):
            return None
        return PickLineSerializer(pick_list(fulfilment=fulfilment), many=True).data


class OrderEventSerializer(serializers.ModelSerializer):
    # null for what the jobs do (a reservation expiring), not a person
    actor_name = serializers.CharField(
        source="actor.name", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = OrderEvent
        fields = [
            "id",
            "kind",
            "fulfilment",
            "actor",
            "actor_name",
            "kind",
            "from_status",
            "to_status",
            "note",
            "created_at",
        ]


class StandingOrderLineSerializer(serializers.Serializer):
    # Whole even in a PATCH: the lines replace the standing order's table.
    # An id, not a related field: the service checks every line as the buyer sees listings
    # (in one query), and answers for one it cannot see exactly as for one that is missing.
    listing = serializers.IntegerField(min_value=1, max_value=2**62, source="listing_id")
    quantity = quantity_field(help_text=ON_THE_GRID)


class StandingOrderRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = StandingOrderRun
        fields = ["period", "outcome", "order", "message", "created_at"]


class StandingOrderSerializer(serializers.ModelSerializer):
    lines = StandingOrderLineSerializer(many=True, min_length=1, max_length=100)
    weekday = serializers.IntegerField(min_value=0, max_value=6)
    lead_days = serializers.IntegerField(
        min_value=0,
        max_value=60,
        required=False,
        help_text=_(
            "At least the lead_time_days of every listing on its lines; otherwise a 400 "
            "naming the line's listing."
        ),
    )
    approved_cap = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        help_text="Runs up to this total are placed approved even above the organisation's "
        "approval threshold; only an approver sets it. Null: every run above the threshold "
        "waits for an approver.",
    )
    runs = StandingOrderRunSerializer(many=True, read_only=True)

    class Meta:
        model = StandingOrder
        fields = [
            "id",
            "organisation",
            "store",
            "weekday",
            "lead_days",
            "lines",
            "is_active",
            "approved_cap",
            "approved_cap_by",
            "stopped_reason",
            "runs_from",
            "note",
            "runs",
            "created_at",
        ]
        read_only_fields = [
            "organisation",
            "approved_cap_by",
            "stopped_reason",
            "runs_from",
            "created_at",
        ]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            # Another store is another standing order; lines, days and the cap can change.
            fields["store"].read_only = True
        return fields


# --- purchase lists ----------------------------------------------------------------------------
class PurchaseImportUploadSerializer(serializers.Serializer):
    # An empty file gets the import's own words (spreadsheets.read), not DRF's.
    file = serializers.FileField(
        allow_empty_file=True,
        help_text=_(
            "A purchase list as CSV (UTF-8 or GBK) or XLSX, at most 2 MB and 2,000 rows, with "
            "the columns listing (or product), quantity and store, in English or Chinese."
        ),
    )


class ImportRowErrorSerializer(serializers.Serializer):
    column = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


class ImportRowSerializer(serializers.Serializer):
    """One row of the file as read: what it resolved to, or its errors."""

    row = serializers.IntegerField(help_text=_("The row's number in the file (the header is 1)."))
    values = serializers.DictField(child=serializers.CharField(allow_blank=True))
    listing = serializers.IntegerField(allow_null=True)
    product_name = serializers.CharField(allow_blank=True)
    cooperative = serializers.IntegerField(allow_null=True)
    cooperative_name = serializers.CharField(allow_blank=True)
    store = serializers.IntegerField(allow_null=True)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3, allow_null=True)
    unit = serializers.CharField(allow_blank=True)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    price_source = serializers.CharField(allow_blank=True)
    line_total = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    errors = ImportRowErrorSerializer(many=True)


class ImportGroupErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ImportPartSerializer(serializers.Serializer):
    cooperative = serializers.IntegerField()
    cooperative_name = serializers.CharField()
    subtotal = serializers.DecimalField(max_digits=14, decimal_places=2)


class ImportGroupSerializer(serializers.Serializer):
    """An order placing the list would make: one per store."""

    store = serializers.IntegerField()
    store_name = serializers.CharField()
    rows = serializers.ListField(child=serializers.IntegerField())
    parts = ImportPartSerializer(many=True)
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    errors = ImportGroupErrorSerializer(many=True)


class ImportOrderSerializer(serializers.ModelSerializer):
    class Meta:
        model = PurchaseImportOrder
        fields = ["store", "order"]


class PurchaseImportSerializer(serializers.ModelSerializer):
    rows = ImportRowSerializer(many=True, read_only=True)
    groups = ImportGroupSerializer(many=True, read_only=True)
    orders = ImportOrderSerializer(source="placed_orders", many=True, read_only=True)

    class Meta:
        model = PurchaseImport
        fields = [
            "id",
            "file_name",
            "status",
            "error_count",
            "created_at",
            "expires_at",
            "placed_at",
            "rows",
            "groups",
            "orders",
        ]
        read_only_fields = fields
