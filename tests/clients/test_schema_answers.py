"""The schema lies the generated-client tour tripped on, pinned fast (no generation, no live
server): what the answers hold must be what the schema documents for responses."""

import pytest

from products.models import Listing

pytestmark = pytest.mark.generated_client


@pytest.fixture(scope="module")
def components(schema):
    return schema["components"]["schemas"]


def enum_of(components, component, prop):
    ref = components[component]["properties"][prop]["allOf"][0]["$ref"]
    return components[ref.rsplit("/", 1)[-1]]["enum"]


def test_listing_answers_may_be_sold_out_but_requests_may_not_set_it(components):
    assert enum_of(components, "Listing", "status") == list(Listing.Status.values)
    for request in ("ListingRequest", "PatchedListing"):
        assert enum_of(components, request, "status") == list(Listing.SETTABLE_STATUSES)


@pytest.mark.parametrize(
    ("component", "prop"),
    [
        ("Fulfilment", "requested_delivery_date"),  # an order may name no date
        ("FulfilmentDetail", "requested_delivery_date"),
        ("OrderEvent", "actor_name"),  # the jobs act as no one
    ],
)
def test_fields_answered_as_null_are_documented_nullable(components, component, prop):
    assert components[component]["properties"][prop].get("nullable") is True


def test_no_quantity_or_amount_is_documented_as_a_json_number(components):
    numbers = [
        f"{name}.{prop}"
        for name, component in components.items()
        for prop, schema in component.get("properties", {}).items()
        if schema.get("type") == "number"
    ]
    assert not numbers  # decimals leave as strings ("270.500"): COERCE_DECIMAL_TO_STRING


def test_operations_taking_an_idempotency_key_document_its_reuse_as_422(schema):
    keyed = {
        f"{method.upper()} {path}": operation["responses"]
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))
    }
    assert "POST /api/v1/orders/" in keyed
    missing = [name for name, responses in keyed.items() if "422" not in responses]
    assert not missing
    for responses in keyed.values():
        body = responses["422"]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/Error"}


def test_error_details_some_codes_add_are_documented_and_optional(components):
    detail = components["ErrorDetail"]
    extras = {"available", "minimum_order_values", "current_status", "allowed_transitions"}
    assert extras <= set(detail["properties"])
    assert not extras & set(detail["required"])
