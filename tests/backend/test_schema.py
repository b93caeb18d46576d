"""OpenAPI 3 at /api/schema/ and browsable docs at /api/docs/, open to anonymous callers, with
every error response documented in the one error shape (backend.schema)."""

import json
import re

import pytest
from django.core.management import call_command
from drf_spectacular.validation import validate_schema

from tests.conftest import operations

REQUIRED_PATHS = [
    "/api/v1/cooperatives/",
    "/api/v1/households/",
    "/api/v1/products/",
    "/api/v1/categories/",
    "/api/v1/listings/",
    "/api/v1/lots/",
    "/api/v1/auth/token/",
]
# Signed in by no one: a login, and Stripe's webhook (its signature is the check).
PUBLIC_PATHS = {"/api/v1/auth/token/", "/api/v1/payments/stripe/webhook/"}
WRITE_METHODS = {"post", "put", "patch"}
ERROR_REF = "#/components/schemas/Error"


def test_schema_is_served_to_anonymous_as_openapi_3_json(anon):
    response = anon.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert "json" in response["Content-Type"]
    assert json.loads(response.content)["openapi"].startswith("3.")


def test_schema_answers_json_to_the_accept_header(anon):
    response = anon.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert json.loads(response.content)["openapi"].startswith("3.")


def test_schema_validates_against_the_openapi_json_schema(schema):
    validate_schema(schema)  # raises jsonschema.ValidationError when malformed


def test_schema_has_every_resource(schema):
    missing = [path for path in REQUIRED_PATHS if path not in schema["paths"]]
    assert not missing


def test_every_protected_operation_documents_401(schema):
    missing = [
        f"{method.upper()} {path}"
        for path, method, operation in operations(schema)
        if path not in PUBLIC_PATHS and "401" not in operation["responses"]
    ]
    assert not missing


def test_every_write_documents_400(schema):
    missing = [
        f"{method.upper()} {path}"
        for path, method, operation in operations(schema)
        if method in WRITE_METHODS and "400" not in operation["responses"]
    ]
    assert not missing


def test_every_detail_operation_documents_404(schema):
    missing = [
        f"{method.upper()} {path}"
        for path, method, operation in operations(schema)
        if "{" in path and "404" not in operation["responses"]
    ]
    assert not missing


def test_error_responses_use_the_error_component(schema):
    wrong = []
    for path, method, operation in operations(schema):
        for code, response in operation["responses"].items():
            if code.startswith("4"):
                ref = response["content"]["application/json"]["schema"].get("$ref")
                if ref != ERROR_REF:
                    wrong.append(f"{method.upper()} {path} {code}")
    assert not wrong


def test_error_component_has_code_message_and_fields(schema):
    components = schema["components"]["schemas"]
    assert components["Error"]["properties"]["error"]["$ref"] == "#/components/schemas/ErrorDetail"
    detail = components["ErrorDetail"]
    assert {"code", "message", "fields"} <= set(detail["required"])
    assert detail["properties"]["fields"]["type"] == "object"
    assert detail["properties"]["fields"]["additionalProperties"]["type"] == "array"


def test_security_schemes_bearer_and_api_key(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert schemes["apiKeyAuth"]["type"] == "apiKey"
    assert schemes["apiKeyAuth"]["in"] == "header"
    assert schemes["apiKeyAuth"]["name"] == "Authorization"


def test_catalog_operations_accept_both_schemes(schema):
    security = schema["paths"]["/api/v1/listings/"]["get"]["security"]
    assert {"bearerAuth": []} in security
    assert {"apiKeyAuth": []} in security


def test_token_endpoint_needs_no_credentials(schema):
    operation = schema["paths"]["/api/v1/auth/token/"]["post"]
    assert operation["security"] == [{}]
    assert {"400", "429"} <= set(operation["responses"])


def test_schema_endpoint_is_not_listed(schema):
    assert "/api/schema/" not in schema["paths"]


def test_docs_are_html_for_anonymous(anon):
    response = anon.get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"/api/schema/" in response.content


def test_spectacular_command_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert out.read_text().startswith("openapi: 3.")


@pytest.mark.parametrize(
    ("value", "said_valid"),
    [("蜂产品", True), ("  ", False), ("蜂\x00产品", False)],
)
def test_required_text_says_what_drf_refuses(schema, staff, value, said_valid):
    """A required text: DRF trims it (only spaces is blank) and refuses NUL; its pattern says
    both, so what the schema calls valid is what the API takes."""
    pattern = schema["components"]["schemas"]["CategoryRequest"]["properties"]["name_zh"]["pattern"]
    assert (re.search(pattern, value) is not None) is said_valid
    body = {"slug": "bee", "name_zh": value}
    response = staff.post("/api/v1/categories/", body, format="json")
    assert (response.status_code == 201) is said_valid, response.content
