from django.utils.translation import gettext_lazy as _

from backend import serializers

from .models import Notice


class InboxNoticeSerializer(serializers.ModelSerializer):
    """A notice in its reader's language; ``payload`` is the event's data (order, part...)
    for an app to link to, the same a partner system's webhook carries."""

    class Meta:
        model = Notice
        fields = ["id", "event_type", "subject", "body", "payload", "created_at", "read_at"]
        read_only_fields = fields


class OutboxNoticeSerializer(serializers.ModelSerializer):
    """The delivery log: one row per (event, recipient, channel)."""

    class Meta:
        model = Notice
        fields = [
            "id",
            "event_key",
            "event_type",
            "user",
            "recipient_key",
            "channel",
            "language",
            "subject",
            "body",
            "payload",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_latency_ms",
            "last_error",
            "created_at",
            "sent_at",
            "read_at",
        ]
        read_only_fields = fields


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(read_only=True, help_text=_("Notices newly marked read."))
