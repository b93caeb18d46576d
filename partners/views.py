import math
from dataclasses import asdict

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from backend.api import SparseFieldsMixin, bounded_id_regex
from backend.idempotency import IdempotentCreateMixin, idempotent

from . import access, selectors, services
from .serializers import (
    AttemptSerializer,
    DeliverySerializer,
    PartnerKeyCreatedSerializer,
    PartnerKeyCreateSerializer,
    PartnerKeySerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointSecretSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateSerializer,
)


class PartnerKeyViewSet(
    SparseFieldsMixin,
    IdempotentCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """API keys of a buyer organisation's partner systems. Approvers create and revoke their
    organisation's keys; staff all. The key itself is answered once, on creation. Keep several
    live keys to rotate: create the new one, move the system over, revoke the old one."""

    serializer_class = PartnerKeySerializer
    permission_classes = [access.IntegrationPermission]
    lookup_field = "prefix"
    lookup_value_regex = "[A-Za-z0-9]{1,8}"
    ordering_fields = ["created"]
    ordering = ["-created"]

    def get_queryset(self):
        return selectors.key_list(user=self.request.user)

    @extend_schema(request=PartnerKeyCreateSerializer, responses={201: PartnerKeyCreatedSerializer})
    def create(self, request, *args, **kwargs):
        """Issue a key, answered once. Send an Idempotency-Key to retry safely: a replay
        answers the same key's record with ``key`` null (the key is never stored); if the
        first answer was lost, revoke that key and create another."""

        def issue():
            data = PartnerKeyCreateSerializer(data=request.data, context={"request": request})
            data.is_valid(raise_exception=True)
            key, plain = services.partner_key_create(user=request.user, **data.validated_data)
            key.key = plain
            return Response(PartnerKeyCreatedSerializer(key).data, status=status.HTTP_201_CREATED)

        return idempotent(request, issue, kept=lambda body: {**body, "key": None})

    @extend_schema(responses={200: PartnerKeySerializer})
    def destroy(self, request, *args, **kwargs):
        """Revoke the key, at once and for good (200 with the revoked key)."""
        key = services.partner_key_revoke(key=self.get_object())
        return Response(self.get_serializer(key).data)


class WebhookEndpointViewSet(SparseFieldsMixin, IdempotentCreateMixin, viewsets.ModelViewSet):
    """Where a buyer organisation's systems are told of its orders' events, signed with the
    endpoint's secret (docs/integration.md). Approvers and staff manage them. DELETE
    deactivates: PATCH {"is_active": true} switches it back on."""

    serializer_class = WebhookEndpointSerializer
    permission_classes = [access.IntegrationPermission]
    lookup_value_regex = bounded_id_regex()
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filterset_fields = ["is_active"]

    def get_queryset(self):
        return selectors.webhook_endpoint_list(user=self.request.user)

    def _answer(self, endpoint, serializer=WebhookEndpointSerializer, code=status.HTTP_200_OK):
        return Response(serializer(endpoint).data, status=code)

    @extend_schema(
        request=WebhookEndpointCreateSerializer, responses={201: WebhookEndpointSecretSerializer}
    )
    def create(self, request, *args, **kwargs):
        """Add an endpoint; the answer holds its signing secret, shown only here."""

        def add():
            data = WebhookEndpointCreateSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            endpoint = services.webhook_endpoint_create(user=request.user, **data.validated_data)
            return self._answer(endpoint, WebhookEndpointSecretSerializer, status.HTTP_201_CREATED)

        return idempotent(request, add)

    @extend_schema(request=WebhookEndpointUpdateSerializer, responses=WebhookEndpointSerializer)
    def partial_update(self, request, *args, **kwargs):
        endpoint = self.get_object()
        data = WebhookEndpointUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(
            services.webhook_endpoint_update(
                user=request.user, endpoint=endpoint, data=data.validated_data
            )
        )

    @extend_schema(responses={200: WebhookEndpointSerializer})
    def destroy(self, request, *args, **kwargs):
        """Deactivate (not delete): 200 with the endpoint."""
        endpoint = self.get_object()
        return self._answer(
            services.webhook_endpoint_deactivate(user=request.user, endpoint=endpoint)
        )

    @extend_schema(
        summary=gettext_lazy("Rotate a webhook endpoint's secret"),
        request=None,
        responses=WebhookEndpointSecretSerializer,
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A new signing secret, shown only in this answer; the old one stops at once."""
        endpoint = services.webhook_endpoint_rotate_secret(endpoint=self.get_object())
        return self._answer(endpoint, WebhookEndpointSecretSerializer)

    @extend_schema(
        summary=gettext_lazy("Send a test delivery"),
        request=None,
        responses=AttemptSerializer,
    )
    @action(detail=True, methods=["post"])
    def ping(self, request, pk=None):
        """Send a signed sample delivery (type "ping") now, and answer what happened: the
        outcome, the receiver's status code and the latency. Not counted as a failure."""
        attempt = asdict(services.webhook_endpoint_ping(endpoint=self.get_object()))
        if attempt["retry_after"] is not None:
            attempt["retry_after"] = math.ceil(attempt["retry_after"])
        return Response(AttemptSerializer(attempt).data)

    @extend_schema(
        summary=gettext_lazy("An endpoint's delivery log"),
        responses=DeliverySerializer(many=True),
        filters=False,
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def deliveries(self, request, pk=None):
        """Every event sent (or to be sent) to this endpoint, newest first: status, attempts,
        the last answer's status code and latency, the last error, and when."""
        deliveries = selectors.webhook_deliveries(endpoint=self.get_object())
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)
