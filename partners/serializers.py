from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from backend import serializers
from backend.relations import ScopedPrimaryKeyRelatedField
from buyers.selectors import organisation_choices
from notices import catalog
from notices.models import Notice

from . import selectors
from .models import WebhookEndpoint


# --- API keys ---------------------------------------------------------------------------------
class PartnerKeySerializer(serializers.Serializer):
    """A partner API key as its owners see it: never the key itself, which is answered once,
    on creation."""

    prefix = serializers.CharField(
        read_only=True, help_text=_("The key's first part, before the dot: names it safely.")
    )
    name = serializers.CharField(read_only=True)
    partner = serializers.IntegerField(source="user_id", read_only=True)
    partner_name = serializers.CharField(source="user.name", read_only=True)
    created = serializers.DateTimeField(read_only=True)
    expiry_date = serializers.DateTimeField(read_only=True, allow_null=True)
    revoked = serializers.BooleanField(read_only=True)
    last_used_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text=_("Updated at most once a minute; null: never used."),
    )


class PartnerKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50, help_text=_("What the key is for."))
    partner = ScopedPrimaryKeyRelatedField(
        scope=lambda user: selectors.partner_account_choices(user=user),
        required=False,
        help_text=_(
            "The partner account the key acts as; may be left out when the organisation has "
            "exactly one."
        ),
    )
    expiry_date = serializers.DateTimeField(
        required=False, allow_null=True, help_text=_("After this the key stops working.")
    )


class PartnerKeyCreatedSerializer(PartnerKeySerializer):
    key = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text=_(
            "Send as `Authorization: Api-Key <key>`. Shown only in this answer; null in a "
            "replay of it (Idempotency-Key)."
        ),
    )


# --- webhook endpoints --------------------------------------------------------------------------
@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "enum": list(catalog.BUYER_SUBSCRIBABLE)},
        "minItems": 1,
        "maxItems": len(catalog.BUYER_SUBSCRIBABLE),
        "uniqueItems": True,
    }
)
class EventTypesField(serializers.ListField):
    def __init__(self, **kwargs):
        super().__init__(
            child=serializers.ChoiceField(choices=catalog.BUYER_SUBSCRIBABLE),
            min_length=1,
            max_length=len(catalog.BUYER_SUBSCRIBABLE),
            **kwargs,
        )

    def to_internal_value(self, data):
        names = super().to_internal_value(data)
        if len(set(names)) != len(names):
            raise serializers.ValidationError(_("Name each event type once."))
        return names


@extend_schema_field({"type": "string", "maxLength": 500, "pattern": r"^[Hh][Tt][Tt][Pp][Ss]?://"})
class WebhookUrlField(serializers.CharField):
    """http or https; whether its host may be called is the SSRF guard's (partners.url_guard)."""

    def __init__(self, **kwargs):
        super().__init__(max_length=500, **kwargs)


class WebhookEndpointSerializer(serializers.ModelSerializer):
    """A buyer organisation's webhook endpoint. The secret is never read back: it is answered
    on creation and rotation only."""

    event_types = EventTypesField(read_only=True)

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "organisation",
            "url",
            "description",
            "event_types",
            "is_active",
            "disabled_reason",
            "disabled_at",
            "consecutive_failures",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WebhookEndpointSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text=_("Signs every delivery (Shitun-Signature). Shown only in this answer."),
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointUpdateSerializer(serializers.Serializer):
    url = WebhookUrlField(required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    event_types = EventTypesField(required=False)
    is_active = serializers.BooleanField(
        required=False,
        help_text=_("true switches a disabled endpoint back on; false deactivates it."),
    )


class WebhookEndpointCreateSerializer(serializers.Serializer):
    organisation = serializers.PrimaryKeyRelatedField(queryset=organisation_choices())
    url = WebhookUrlField()
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    event_types = EventTypesField()


class AttemptSerializer(serializers.Serializer):
    """What a delivery attempt did."""

    outcome = serializers.ChoiceField(
        choices=["sent", "retry", "failed"],
        help_text=_("sent: 2xx; retry: 429, 5xx or no answer; failed: any other answer."),
    )
    status_code = serializers.IntegerField(allow_null=True)
    latency_ms = serializers.IntegerField(allow_null=True)
    detail = serializers.CharField(allow_blank=True)
    retry_after = serializers.IntegerField(
        allow_null=True, help_text=_("Seconds the receiver asked to wait (Retry-After).")
    )


class DeliverySerializer(serializers.ModelSerializer):
    """One event's delivery to an endpoint: the outbox's notice, which is its log."""

    event_id = serializers.CharField(
        source="event_key",
        read_only=True,
        help_text=_("The body's id and the Shitun-Event-Id header: the same on every retry."),
    )
    status = serializers.ChoiceField(
        choices=Notice.Status.choices,
        read_only=True,
        help_text=_(
            "pending: not delivered yet (a retry may be due); sent: answered 2xx; "
            "failed: no more tries (replayable by staff)."
        ),
    )

    class Meta:
        model = Notice
        fields = [
            "id",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "last_status_code",
            "last_latency_ms",
            "last_error",
            "next_attempt_at",
            "created_at",
            "sent_at",
        ]
        read_only_fields = fields
