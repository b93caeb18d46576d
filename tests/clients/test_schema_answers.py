"""The schema lies the generated-client tour tripped on, pinned fast (no generation, no live
server): what the answers hold must be what the schema documents for responses."""

import json

import pytest
from rest_framework.test import APIClient

from products.models import Listing

pytestmark = pytest.mark.generated_client


@pytest.fixture(scope="module")
def components():
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)["components"]["schemas"]


def enum_of(components, component, prop):
    ref = components[component]["properties"][prop]["allOf"][0]["$ref"]
    return components[ref.rsplit("/", 1)[-1]]["enum"]


def test_listing_answers_may_be_sold_out_but_requests_may_not_set_it(components):
    assert enum_of(components, "Listing", "status") == list(Listing.Status.values)
    for request in ("ListingRequest", "PatchedListingRequest"):
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
