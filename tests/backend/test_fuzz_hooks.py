"""The conformance fuzz lets a refusal of schema-valid data through only when
scripts/fuzz_hooks.py names it (REFUSALS); everything else fails positive_data_acceptance."""

import importlib.util
import re
from pathlib import Path

import pytest

from tests.conftest import operations

HOOKS = Path(__file__).resolve().parents[2] / "scripts" / "fuzz_hooks.py"


@pytest.fixture(scope="module")
def hooks():
    spec = importlib.util.spec_from_file_location("fuzz_hooks_under_test", HOOKS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def refused(*fields, code="validation_error"):
    return {"error": {"code": code, "message": "…", "fields": {f: ["…"] for f in fields}}}


@pytest.mark.parametrize(
    ("operation", "fields"),
    [
        ("POST /api/v1/orders/", ["lines.0.quantity"]),
        ("POST /api/v1/orders/", ["store", "lines.1.listing"]),
        ("PUT /api/v1/standing-orders/{id}/", ["lines"]),
        ("POST /api/v1/categories/", ["slug"]),
        ("POST /api/v1/lots/", ["contributions.0.household"]),
        ("GET /api/v1/listings/", ["cursor"]),
    ],
)
def test_a_listed_refusal_passes(hooks, operation, fields):
    assert hooks.refusal_allowed(operation, 400, refused(*fields))


@pytest.mark.parametrize(
    ("operation", "status", "body"),
    [
        # A phone format is the schema's to say: its refusal is a schema gap.
        ("POST /api/v1/cooperatives/", 400, refused("contact_phone")),
        # One listed field does not excuse another that is not.
        ("POST /api/v1/orders/", 400, refused("store", "note")),
        # Unique only where the model says so: a product's slug does not exist, a name does.
        ("POST /api/v1/stores/", 400, refused("slug")),
        # A quantity off the grid is the listing's rule for order lines, not for a lot.
        ("POST /api/v1/lots/", 400, refused("quantity")),
        # A 400 naming no field says nothing OpenAPI could not.
        ("POST /api/v1/orders/", 400, refused()),
        ("POST /api/v1/orders/", 422, refused(code="validation_error")),
        ("POST /api/v1/orders/", 415, refused("store")),
        ("POST /api/v1/orders/", 400, "<html>"),
    ],
)
def test_anything_else_fails(hooks, operation, status, body):
    assert not hooks.refusal_allowed(operation, status, body)


def test_a_reused_idempotency_key_passes(hooks):
    body = refused(code="idempotency_key_reused")
    assert hooks.refusal_allowed("POST /api/v1/orders/", 422, body)


@pytest.mark.django_db
def test_every_refusal_names_operations_of_the_schema(hooks, schema):
    """A listed refusal whose operations are gone (renamed, removed) is a stale excuse."""
    labels = [f"{method.upper()} {path}" for path, method, _ in operations(schema)]
    for refusal in hooks.REFUSALS:
        assert any(re.fullmatch(refusal.operations, label) for label in labels), refusal
