from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from backend import serializers
from backend.relations import ScopedPrimaryKeyRelatedField

from . import access
from .models import ALL_WEEKDAYS, DeliveryRun, DeliverySchedule, Shipment


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "integer", "minimum": 0, "maximum": 6},
        "minItems": 1,
        "maxItems": 7,
        "uniqueItems": True,
    }
)
class WeekdaysField(serializers.ListField):
    """Weekdays as a list (0 = Monday … 6 = Sunday); stored as a bit set."""

    def __init__(self, **kwargs):
        super().__init__(
            child=serializers.IntegerField(min_value=0, max_value=6),
            min_length=1,
            max_length=7,
            **kwargs,
        )

    def to_representation(self, data):
        if isinstance(data, int):
            data = [day for day in range(7) if data & ALL_WEEKDAYS & (1 << day)]
        return super().to_representation(data)

    def to_internal_value(self, data):
        days = super().to_internal_value(data)
        if len(set(days)) != len(days):
            raise serializers.ValidationError(_("Name each weekday once."))
        return sorted(days)


@extend_schema_field(
    {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"}
)
class LocalTimeField(serializers.TimeField):
    """A wall-clock time in Asia/Shanghai, HH:MM or HH:MM:SS. Not OpenAPI's "time" format:
    that one (RFC 3339) needs an offset, and a departure time has none."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M:%S", input_formats=["%H:%M", "%H:%M:%S"], **kwargs)


class ScheduleSerializer(serializers.ModelSerializer):
    weekdays = WeekdaysField(help_text=_("0 = Monday … 6 = Sunday (Asia/Shanghai)."))
    departure_time = LocalTimeField(help_text=_("departure time (Asia/Shanghai)"))
    cutoff_hours = serializers.IntegerField(
        min_value=0,
        max_value=336,
        help_text=_("Fulfilments confirmed up to this many hours before departure travel on it."),
    )

    class Meta:
        model = DeliverySchedule
        fields = [
            "id",
            "name",
            "weekdays",
            "departure_time",
            "cutoff_hours",
            "origin",
            "destination",
            "is_active",
        ]


class RunSerializer(serializers.ModelSerializer):
    schedule_name = serializers.CharField(source="schedule.name", read_only=True)
    origin = serializers.CharField(source="schedule.origin", read_only=True)
    destination = serializers.CharField(source="schedule.destination", read_only=True)

    class Meta:
        model = DeliveryRun
        fields = [
            "id",
            "schedule",
            "schedule_name",
            "date",
            "departs_at",
            "cutoff_at",
            "status",
            "origin",
            "destination",
        ]
        read_only_fields = fields


class ManifestRowSerializer(serializers.Serializer):
    stop = serializers.IntegerField()
    fulfilment = serializers.IntegerField()
    order = serializers.IntegerField()
    status = serializers.CharField()
    cooperative = serializers.CharField()
    buyer = serializers.CharField()
    store = serializers.CharField()
    address = serializers.CharField()
    contact_name = serializers.CharField()
    contact_phone = serializers.CharField()
    package_count = serializers.IntegerField(allow_null=True)
    weight_kg = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    tracking_number = serializers.CharField()


class ManifestSerializer(serializers.Serializer):
    run = RunSerializer()
    rows = ManifestRowSerializer(many=True)


_WINDOW_HELP = _("Must end after it starts, and not in the past.")


def _check_window(attrs):
    start, end = attrs.get("window_start"), attrs.get("window_end")
    if start is not None and end is not None and end <= start:
        raise serializers.ValidationError(
            {"window_end": [_("The window must end after it starts.")]}
        )
    return attrs


class ShipmentUpdateSerializer(serializers.ModelSerializer):
    """What a shipment's PATCH may change; the window moves only by a delay (an event)."""

    package_count = serializers.IntegerField(min_value=1, max_value=100_000)
    weight_kg = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=Decimal("0.01"), max_value=Decimal("99999999.99")
    )
    driver_phone = serializers.CharField(max_length=32, required=False, allow_blank=True)

    class Meta:
        model = Shipment
        fields = [
            "mode",
            "carrier_name",
            "vehicle_plate",
            "driver_name",
            "driver_phone",
            "tracking_number",
            "package_count",
            "weight_kg",
        ]


class ShipmentCreateSerializer(ShipmentUpdateSerializer):
    # Only parts the user sees; another cooperative's part is a 400 naming this field.
    fulfilment = ScopedPrimaryKeyRelatedField(
        scope=lambda user: access.fulfilments_for_shipment(user=user)
    )
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField(help_text=_WINDOW_HELP)

    class Meta(ShipmentUpdateSerializer.Meta):
        fields = ["fulfilment", *ShipmentUpdateSerializer.Meta.fields, "window_start", "window_end"]

    def validate(self, attrs):
        return _check_window(attrs)


class ShipmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Shipment
        fields = [
            "id",
            "fulfilment",
            "mode",
            "carrier_name",
            "vehicle_plate",
            "driver_name",
            "driver_phone",
            "tracking_number",
            "package_count",
            "weight_kg",
            "window_start",
            "window_end",
            "recorded_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class DelaySerializer(serializers.Serializer):
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField(help_text=_WINDOW_HELP)
    reason = serializers.CharField(max_length=300)

    def validate(self, attrs):
        return _check_window(attrs)


class DeliveryNoteLinkSerializer(serializers.Serializer):
    url = serializers.CharField(help_text=_("Opens the delivery note in a browser, no sign-in."))
    expires_at = serializers.DateTimeField()
