"""partners' side of the one outbox (notices): the ``webhook`` channel and the
``partner_systems`` recipient group, registered in PartnersConfig.ready(). notices knows
neither webhooks nor endpoints; partners sits above it and plugs in here."""

from django.db.models import F, TextField
from django.db.models.functions import Cast

from notices import catalog
from notices.channels import FAILED, Attempt

from . import services, transport
from .keys import PREFIX, endpoint_id_of
from .models import WebhookEndpoint


class WebhookChannel:
    """POST the notice's payload (the catalog's envelope, built when the notice was written)
    to the endpoint, signed with its current secret. ``Shitun-Event-Id`` is the notice's event
    key: the same on every retry, so a receiver drops duplicates.

    An endpoint disabled or switched off after the notice was written gets nothing more: the
    notice ends failed, with the reason, and does not count against the endpoint (staff may
    replay it once the endpoint is back on)."""

    name = catalog.WEBHOOK

    def send(self, notice) -> Attempt:
        endpoint = self._endpoint(notice)
        if endpoint is None:
            return Attempt(FAILED, detail="the webhook endpoint was removed")
        if not endpoint.is_active:
            why = endpoint.disabled_reason or "switched off"
            return Attempt(FAILED, detail=f"the webhook endpoint is disabled: {why}"[:500])
        answer = transport.deliver(
            endpoint,
            event_id=notice.event_key,
            event_type=notice.event_type,
            payload=notice.payload,
        )
        notice._webhook_endpoint = endpoint  # for settled(), in the same run
        return answer

    def settled(self, notice, attempt: Attempt) -> None:
        """The endpoint's score: a sent notice resets its failures, a failed one (a 4xx, or
        the last retry spent) adds one. A notice refused because the endpoint was already off
        counts nothing."""
        endpoint = getattr(notice, "_webhook_endpoint", None)
        if endpoint is None:
            return
        outcome = attempt.outcome if notice.status == "sent" else FAILED
        services.endpoint_record_attempt(
            endpoint,
            Attempt(
                outcome,
                status_code=attempt.status_code,
                latency_ms=attempt.latency_ms,
                detail=attempt.detail,
            ),
        )

    @staticmethod
    def _endpoint(notice) -> WebhookEndpoint | None:
        endpoint_id = endpoint_id_of(notice.recipient_key)
        if endpoint_id is None:
            return None
        return WebhookEndpoint.objects.filter(pk=endpoint_id).first()


class PartnerSystems:
    """The ``partner_systems`` group: the active endpoints of the event's buyer organisation
    subscribed to its type. Asked in the outbox's one statement (notices.recipients)."""

    key_prefix = PREFIX

    def query(self, scopes: set[int]):
        return (
            WebhookEndpoint.objects.filter(organisation_id__in=scopes, is_active=True)
            .annotate(
                r_scope=F("organisation_id"),
                r_id=F("pk"),
                r_extra=Cast("event_types", output_field=TextField()),
            )
            .order_by()
        )
