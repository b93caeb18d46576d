"""The Stripe webhook endpoint, without models: it verifies a delivery and hands the event to
a ``store`` callable given at routing, which records it once by its id and queues its
processing (after commit)::

    path("payments/stripe/webhook/", StripeWebhookView.as_view(store=provider_event_record))

Nothing reaches ``store`` unless ``Stripe-Signature`` matches the raw body and is recent
(payments/stripe_gateway.py): a missing, wrong or stale signature is a 400
``invalid_signature`` and nothing is recorded. Every verified event is acknowledged with a
200, also one of a type nobody handles, or Stripe would send it again for three days; a
duplicate is ``store``'s to recognise by the event id. Without ``STRIPE_WEBHOOK_SECRET`` the
answer is a 503 ``stripe_unavailable``, which Stripe retries.
"""

from collections.abc import Callable

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from backend import serializers

from . import stripe_gateway

SIGNATURE_HEADER = "Stripe-Signature"


class WebhookReceivedSerializer(serializers.Serializer):
    """A delivery Stripe need not send again."""

    received = serializers.BooleanField()


class StripeWebhookView(APIView):
    """Stripe calls this with events about payments, refunds and transfers. Signed by Stripe,
    not signed in: no credentials, no throttle, the signature is the check."""

    authentication_classes = []
    permission_classes = [AllowAny]
    provider_error_codes = ("503",)
    # Records a verified event: given with as_view(store=...); an instance attribute then.
    store: Callable[[stripe_gateway.Event], object] | None = None

    @extend_schema(
        summary=_("Receive a Stripe event"),
        request={"application/json": OpenApiTypes.OBJECT},
        parameters=[
            OpenApiParameter(
                SIGNATURE_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=True,
                description=_("t=<unix time>,v1=<HMAC-SHA256 of t.body with the secret>"),
            )
        ],
        responses={200: WebhookReceivedSerializer},
    )
    def post(self, request):
        # The raw bytes as sent: parsing first (request.data) would lose what was signed.
        event = stripe_gateway.construct_event(request.body, request.headers.get(SIGNATURE_HEADER))
        self.store(event)
        return Response(WebhookReceivedSerializer({"received": True}).data)
