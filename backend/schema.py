"""OpenAPI generation: the schema is the contract partners generate clients from, so it says
every answer an operation can give, all errors in the one error shape of backend.errors.

- Operation ids and tags come from the path after ``/api/v1/`` (``listings_list``, tag
  ``listings``; settings.SPECTACULAR_SETTINGS["SCHEMA_PATH_PREFIX"]); extra POST actions drop
  the method (``fulfilments_confirm``).
- Every operation has a summary: standard actions get one from the resource's name, extra
  actions and plain views declare theirs with ``extend_schema(summary=...)``.
- ``components_without_request_suffix`` (a postprocessing hook) names request bodies for
  what they are: ``TokenRequest``, not ``TokenRequestRequest``.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import build_choice_field, get_lib_doc_excludes, get_view_model
from drf_spectacular.utils import OpenApiParameter
from rest_framework.permissions import AllowAny

from backend import serializers

from .api import bounded_id_regex
from .fields import PhoneField
from .idempotency import HEADER as IDEMPOTENCY_HEADER_NAME
from .idempotency import KEY_PATTERN
from .validators import CN_MOBILE_INPUT_PATTERN, CN_PHONE_E164_PATTERN


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("Machine-readable error code, e.g. validation_error."))
    message = serializers.CharField(help_text=_("Human-readable summary."))
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("Messages per field at fault; nested fields as dotted paths (tiers.0.price)."),
    )
    # Machine-readable details some codes add (DomainError's extras); absent otherwise.
    available = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text=_("insufficient_stock: per listing id, the quantity still available."),
    )
    minimum_order_values = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text=_("below_minimum_order_value: per cooperative id, its minimum order value."),
    )
    current_status = serializers.CharField(
        required=False, help_text=_("illegal_transition: the status now.")
    )
    allowed_transitions = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text=_("illegal_transition: the moves this user may make from here."),
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


ERROR_DESCRIPTIONS = {
    "400": _("Invalid input: malformed JSON, wrong types, values out of range, unknown ids."),
    "401": _("Missing or invalid credentials."),
    "403": _("Authenticated, but this role may not do this."),
    "404": _("Not found, or not visible to this user."),
    "406": _("The Accept header asks for something other than JSON."),
    "409": _("Conflicts with the current state (duplicates, stock, state transitions)."),
    "413": _("The request body is larger than %(limit)s bytes."),
    "414": _("The URL (path and query string) is longer than %(limit)s bytes."),
    "415": _("The body is not JSON: send Content-Type: application/json."),
    "422": _("The Idempotency-Key was already used for a different request."),
    "429": _("Too many requests; retry after the Retry-After header."),
    "431": _("A request header is longer than %(limit)s bytes."),
    "402": _("The card was declined; nothing was charged."),
    "503": _(
        "A payment provider this needs is off (not set up here) or cannot be reached just "
        "now; try again later."
    ),
}
NOT_MODIFIED = _("Not modified: the ETag sent in If-None-Match still matches.")

# Summaries of the standard actions, from the model's verbose names.
ACTION_SUMMARIES = {
    "list": _("List %(plural)s"),
    "create": _("Create %(name)s"),
    "retrieve": _("Read %(name)s"),
    "update": _("Replace %(name)s"),
    "partial_update": _("Update part of %(name)s"),
    "destroy": _("Delete %(name)s"),
}
STANDARD_ACTIONS = {*ACTION_SUMMARIES, "metadata"}


IDEMPOTENCY_HEADER = OpenApiParameter(
    name=IDEMPOTENCY_HEADER_NAME,
    type={"type": "string", "pattern": KEY_PATTERN, "minLength": 1, "maxLength": 255},
    location=OpenApiParameter.HEADER,
    required=False,
    description=_(
        "Retry safely: the same key and body answer the original response without doing the "
        "work again; the same key with another body is a 422. Printable ASCII, up to 255 "
        "characters (a UUID fits). Kept at least 24 hours."
    ),
)


def _limits() -> dict[str, int]:
    return {
        "413": settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
        "414": settings.MAX_URL_BYTES,
        "431": settings.MAX_HEADER_BYTES,
    }


class AutoSchema(SpectacularAutoSchema):
    def _action(self) -> str | None:
        return getattr(self.view, "action", None)

    def _is_extra_action(self) -> bool:
        action = self._action()
        return action is not None and action not in STANDARD_ACTIONS

    def get_operation_id(self) -> str:
        operation_id = super().get_operation_id()
        # fulfilments_confirm, not fulfilments_confirm_create: the action is the verb.
        if self.method == "POST" and self._is_extra_action():
            return operation_id.removesuffix("_create")
        return operation_id

    def get_summary(self) -> str | None:
        template = ACTION_SUMMARIES.get(self._action() or "")
        model = get_view_model(self.view, emit_warnings=False)
        if template is None or model is None:
            return None  # extra actions and plain views declare their own
        if self._action() == "list":
            return str(template % {"plural": model._meta.verbose_name_plural})
        return str(template % {"name": model._meta.verbose_name})

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.DecimalField) and schema.get("format") == "decimal":
            schema.update(_decimal_string(field))
        elif isinstance(field, serializers.ListSerializer | serializers.ListField):
            # drf-spectacular leaves out the item counts of nested lists (tiers, lines).
            if field.min_length is not None:
                schema["minItems"] = field.min_length
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
        elif (
            isinstance(field, serializers.PrimaryKeyRelatedField)
            and schema.get("type") == "integer"
        ):
            schema.setdefault("minimum", 1)  # ids start at 1; one that names no row is a 400
        elif isinstance(_model_field(field), PhoneField):
            # drf-spectacular makes a blank-allowed input a oneOf with "" already; a read-only
            # optional phone (a driver's) is a plain string, "" when not given.
            blank = field.read_only and _model_field(field).blank and "oneOf" not in schema
            _constrain(schema, _phone(direction, blank=blank))
        for validator in getattr(field, "validators", ()):
            _constrain(schema, getattr(validator, "openapi", {}))
        if direction == "request" and isinstance(field, serializers.CharField):
            _constrain(schema, _text(field, schema))
        return schema

    def _resolve_path_parameters(self, variables):
        parameters = super()._resolve_path_parameters(variables)
        # Ids in URLs match bounded_id_regex (digits, at most 18): say "integer", so a generated
        # client takes an int, not a string it must format.
        id_pattern = f"^{bounded_id_regex()}$"
        for parameter in parameters:
            if parameter["schema"].get("pattern") == id_pattern:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": 10**18 - 1}
        return parameters

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        creates = self._is_create_operation() or self._action() in getattr(
            self.view, "idempotent_actions", ()
        )
        if self.method == "POST" and creates:
            parameters = [*parameters, IDEMPOTENCY_HEADER]
        return parameters

    def _error_codes(self) -> list[str]:
        """Every error this operation can answer, besides those a view declares itself."""
        has_body = self.method in ("POST", "PUT", "PATCH")
        codes = ["400"] if has_body or self.method == "GET" else []  # GET: ?fields, filters
        if not any(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            codes += ["401", "403"]
        if "{" in self.path:
            codes.append("404")
        codes.append("406")
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes.append("409")
        if has_body:
            codes += ["413", "415"]
        codes.append("414")
        if self.method == "POST" and any(
            p.name == IDEMPOTENCY_HEADER_NAME for p in self.get_override_parameters()
        ):
            codes.append("422")
        if getattr(self.view, "throttle_classes", None):
            codes.append("429")
        codes.append("431")
        # A view that calls a payment provider names what the provider can add: "503" (off
        # or unreachable), "402" where a card is charged (payments/stripe_gateway.py).
        codes += getattr(self.view, "provider_error_codes", ())
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        limits = _limits()
        for code in self._error_codes():
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                description = ERROR_DESCRIPTIONS[code]
                if code in limits:
                    description = description % {"limit": limits[code]}
                response["description"] = str(description)
                responses[code] = response
        if self.method == "GET":
            responses.setdefault("304", {"description": str(NOT_MODIFIED)})
        return responses


def _model_field(field):
    """The model field a ModelSerializer field was built from, if any."""
    model = getattr(getattr(getattr(field, "parent", None), "Meta", None), "model", None)
    if model is None or not isinstance(field.source, str) or "." in field.source:
        return None
    try:
        return model._meta.get_field(field.source)
    except FieldDoesNotExist:  # a property or annotation, not a column
        return None


def _constrain(schema: dict, constraints: dict) -> None:
    """Add a string's constraints; where blank is allowed, drf-spectacular made it a oneOf of
    the string and a blank one (maxLength 0): the constraints go on the string branch, or a
    blank value would fail them."""
    constraints = dict(constraints)
    if "description" in constraints:
        schema["description"] = str(constraints.pop("description"))
    target = schema["oneOf"][0] if "oneOf" in schema else schema
    target.update(constraints)


def _text(field, schema: dict) -> dict:
    """What DRF refuses in any text it takes, for a text without a pattern of its own: a NUL
    character, and where blank is refused, only spaces (DRF trims first)."""
    target = schema["oneOf"][0] if "oneOf" in schema else schema
    if "pattern" in target:
        return {}
    if field.trim_whitespace and not field.allow_blank:
        # Python strips \x1c-\x1f and \x85 too, which a JSON Schema regex (ECMA) does not
        # call space: a text of only those is blank to DRF.
        return {"pattern": r"^[^\x00]*[^\x00\s\x1c-\x1f\x85][^\x00]*$"}
    return {"pattern": r"^[^\x00]*$"}


def _phone(direction, *, blank: bool = False) -> dict:
    phone = _phone_pattern(direction)
    if blank:  # an optional phone (a driver's) is "" when not given
        phone["pattern"] = f"^(?:{phone['pattern'][1:-1]})?$"
    return phone


def _phone_pattern(direction) -> dict:
    if direction == "response":
        pattern = CN_PHONE_E164_PATTERN
        description = _("Phone number in E.164 (+8613812345678).")
    else:
        pattern = CN_MOBILE_INPUT_PATTERN
        description = _(
            "A mainland China mobile number, with or without +86; a landline with its area code "
            "(0851-8555 1234) and spaces are accepted too. Stored and answered as E.164."
        )
    return {"pattern": pattern, "description": description}


def decimal_pattern(
    *, decimal_places: int, whole_digits: int, min_value=None, max_value=None
) -> str:
    """A pattern for a decimal string that only admits values the field accepts.

    drf-spectacular's admits "" and "-", a sign where the minimum refuses one, and zero where
    the minimum is the smallest step (a quantity of at least 0.001). Here: at least one digit;
    no sign when the minimum is not negative; no zero when it is positive; and, when the
    maximum is a power of ten (100000000), fewer whole digits than it has, so every value the
    pattern admits is inside both bounds. Bounds a pattern cannot say are in the description.
    """
    places = decimal_places
    fraction = f"(?:\\.[0-9]{{1,{places}}})?" if places else ""
    tenths = _single_tenths(max_value)
    if tenths and places and (min_value is None or min_value == 0):
        # A maximum of 0.d (a commission of at most 0.5): below d tenths, or d tenths exactly.
        below = f"[0-{tenths - 1}][0-9]{{0,{places - 1}}}"
        return f"^0(?:\\.(?:{below}|{tenths}0{{0,{places - 1}}}))?$"
    if max_value is not None and max_value > 0 and _is_power_of_ten(max_value):
        whole_digits = min(whole_digits, len(str(int(max_value))) - 1)
    if min_value is not None and min_value > 0 and min_value == Decimal(1).scaleb(-places):
        # Positive: a non-zero whole part, or 0 and a fraction with a non-zero digit.
        tiny = "|".join(f"{'0' * i}[1-9][0-9]{{0,{places - 1 - i}}}" for i in range(places))
        small = f"|0\\.(?:{tiny})" if places else ""
        return f"^(?:[1-9][0-9]{{0,{whole_digits - 1}}}{fraction}{small})$"
    sign = "" if min_value is not None and min_value >= 0 else "-?"
    return f"^{sign}[0-9]{{1,{whole_digits}}}{fraction}$"


def _single_tenths(value) -> int | None:
    """d when value is 0.d (0.1 to 0.9), else None."""
    if value is None:
        return None
    tenths = Decimal(value) * 10
    if 0 < tenths < 10 and tenths == tenths.to_integral_value():
        return int(tenths)
    return None


def _is_power_of_ten(value) -> bool:
    value = Decimal(value)
    return value == value.to_integral_value() and str(int(value)).rstrip("0") == "1"


def _decimal_string(field) -> dict:
    out = {
        "pattern": decimal_pattern(
            decimal_places=field.decimal_places,
            whole_digits=field.max_whole_digits,
            min_value=field.min_value,
            max_value=field.max_value,
        )
    }
    if field.min_value is not None or field.max_value is not None:
        bounds = _("A decimal string from %(min)s to %(max)s.") % {
            "min": field.min_value if field.min_value is not None else "-",
            "max": field.max_value if field.max_value is not None else "-",
        }
        out["description"] = " ".join(filter(None, [str(field.help_text or ""), str(bounds)]))
    return out


class ServerSetChoiceFieldExtension(OpenApiSerializerFieldExtension):
    """Requests take the choices a client may set; responses every value the server answers."""

    target_class = "backend.serializers.ServerSetChoiceField"

    def map_serializer_field(self, auto_schema, direction):
        if direction == "response":
            return build_choice_field(serializers.ChoiceField(choices=self.target.read_choices))
        return build_choice_field(self.target)


def doc_excludes() -> list[type]:
    """Classes whose docstrings never describe a component: DRF's (drf-spectacular's default)
    and the project's serializer bases, which say how fields are checked, not what a
    component is."""
    return [
        *get_lib_doc_excludes(),
        serializers.WholeItemMixin,
        serializers.Serializer,
        serializers.ModelSerializer,
    ]


def components_without_request_suffix(result, generator, request, public):
    """COMPONENT_SPLIT_REQUEST gives every body a ``…Request`` twin so read-only fields stay
    out of writes. Where that twin has no response counterpart (a body only ever sent:
    ``TokenRequestRequest``, ``PatchedListingRequest``) or one of the very same shape, the
    suffix says nothing: drop it, and point every reference at the plain name."""
    schemas = result.get("components", {}).get("schemas", {})
    renames = {}
    for name in list(schemas):
        if not name.endswith("Request"):
            continue
        plain = name.removesuffix("Request")
        if plain not in schemas or schemas[plain] == schemas[name]:
            renames[name] = plain
    for old, new in renames.items():
        schemas[new] = schemas.pop(old)
    if not renames:
        return result
    refs = {
        f"#/components/schemas/{old}": f"#/components/schemas/{new}" for old, new in renames.items()
    }

    def walk(node):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref in refs:
                node["$ref"] = refs[ref]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    result["components"]["schemas"] = dict(sorted(schemas.items()))
    return result


def query_strings_without_nul(result, generator, request, public):
    """A text query parameter (a filter such as ?village=) refuses NUL, as every text input
    does (Django's forms and PostgreSQL both refuse it): say so where nothing else narrows
    the string."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                schema = parameter.get("schema", {})
                if (
                    parameter.get("in") == "query"
                    and schema.get("type") == "string"
                    and not {"enum", "pattern", "format"} & schema.keys()
                ):
                    schema["pattern"] = r"^[^\x00]*$"
    return result
