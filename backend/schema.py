"""OpenAPI generation: every operation documents the error responses it can give, all in the
one error shape of backend.errors."""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import build_choice_field
from drf_spectacular.utils import OpenApiParameter
from rest_framework.permissions import AllowAny

from backend import serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable error code, e.g. validation_error.")
    message = serializers.CharField(help_text="Human-readable summary.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per field at fault; nested fields as dotted paths (tiers.0.price).",
    )
    # Machine-readable details some codes add (DomainError's extras); absent otherwise.
    available = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="insufficient_stock: per listing id, the quantity still available.",
    )
    minimum_order_values = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="below_minimum_order_value: per cooperative id, its minimum order value.",
    )
    current_status = serializers.CharField(
        required=False, help_text="illegal_transition: the status now."
    )
    allowed_transitions = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="illegal_transition: the moves this user may make from here.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


ERROR_DESCRIPTIONS = {
    "400": "Invalid input: malformed JSON, wrong types, values out of range, unknown ids.",
    "401": "Missing or invalid credentials.",
    "403": "Authenticated, but this role may not do this.",
    "404": "Not found, or not visible to this user.",
    "409": "Conflicts with the current state (duplicates, stock, state transitions).",
    "422": "The Idempotency-Key was already used for a different request.",
    "429": "Too many requests; retry after the Retry-After header.",
}


IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key",
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Retry safely: the same key and body answer the original response without doing the "
        "work again; the same key with another body is a 422. Kept at least 24 hours."
    ),
)


class AutoSchema(SpectacularAutoSchema):
    def _takes_idempotency_key(self) -> bool:
        creates = self._is_create_operation() or getattr(self.view, "action", None) in getattr(
            self.view, "idempotent_actions", ()
        )
        return self.method == "POST" and creates

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self._takes_idempotency_key():
            parameters = [*parameters, IDEMPOTENCY_HEADER]
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = []
        public = any(isinstance(p, AllowAny) for p in self.view.get_permissions())
        if self.method in ("POST", "PUT", "PATCH") or self._is_list_view():
            codes.append("400")
        if not public:
            codes += ["401", "403"]
        if "{" in self.path:
            codes.append("404")
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes.append("409")
        if self._takes_idempotency_key():
            codes.append("422")
        if getattr(self.view, "throttle_classes", None):
            codes.append("429")
        for code in codes:
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = ERROR_DESCRIPTIONS[code]
                responses[code] = response
        return responses


class SettableChoiceFieldExtension(OpenApiSerializerFieldExtension):
    """Requests list the choices a client may set, responses every choice it may be
    answered."""

    target_class = "backend.serializers.SettableChoiceField"

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        if direction == "response":
            field = serializers.ChoiceField(
                choices=field.answered_choices, allow_blank=field.allow_blank
            )
        return build_choice_field(field)
