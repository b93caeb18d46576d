"""Reads of partner keys and webhook endpoints, scoped by partners.access."""

from django.db.models import QuerySet

from accounts.models import PartnerApiKey, User
from notices import catalog
from notices.models import Notice

from . import access
from .keys import recipient_key
from .models import WebhookEndpoint


def key_list(*, user) -> QuerySet[PartnerApiKey]:
    return access.keys_visible(
        user=user, queryset=PartnerApiKey.objects.select_related("user").order_by("-created")
    )


def partner_account_choices(*, user) -> QuerySet[User]:
    """Partner accounts a key may be issued for by this user (a request body names one)."""
    return access.partner_accounts_for_keys(user=user, queryset=User.objects.all())


def webhook_endpoint_list(*, user) -> QuerySet[WebhookEndpoint]:
    return access.endpoints_visible(user=user, queryset=WebhookEndpoint.objects.all())


def webhook_endpoint_count(*, organisation_id: int) -> int:
    return WebhookEndpoint.objects.filter(organisation_id=organisation_id).count()


def webhook_endpoints_for(organisation_id: int, event_type: str) -> list[WebhookEndpoint]:
    """The organisation's active endpoints subscribed to this event type. Filtered in Python:
    an organisation has a handful of endpoints, and a JSON "contains" is not SQLite's."""
    return [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(
            organisation_id=organisation_id, is_active=True
        ).order_by("pk")
        if event_type in endpoint.event_types
    ]


def webhook_deliveries(*, endpoint: WebhookEndpoint) -> QuerySet[Notice]:
    """The outbox's notices to this endpoint, newest first: its delivery log."""
    return Notice.objects.filter(
        channel=catalog.WEBHOOK, recipient_key=recipient_key(endpoint.pk)
    ).order_by("-id")
