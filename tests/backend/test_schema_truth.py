"""The schema tells the truth (issue 11): what the API answers is what the schema says, in
names a generated client can use. Structure here; answers are checked against it by the fuzz
step (scripts/fuzz_api.py) for every role."""

import importlib.util
import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis.strategies import from_regex

from backend.validators import CN_MOBILE_INPUT_PATTERN, normalize_cn_phone
from tests.conftest import operations

ROOT = Path(__file__).resolve().parents[2]


def walk_properties(node, where=""):
    """Every (location, property schema) under a component, nested ones included."""
    if isinstance(node, dict):
        for name, prop in node.get("properties", {}).items():
            yield f"{where}.{name}", prop
        for key, value in node.items():
            yield from walk_properties(value, f"{where}.{key}" if key != "properties" else where)
    elif isinstance(node, list):
        for value in node:
            yield from walk_properties(value, where)


def test_listing_status_reads_sold_out_and_writes_only_what_a_client_may_set(schema):
    components = schema["components"]["schemas"]
    read = components["Listing"]["properties"]["status"]["allOf"][0]["$ref"].rsplit("/", 1)[1]
    write = components["ListingRequest"]["properties"]["status"]["allOf"][0]["$ref"]
    assert set(components[read]["enum"]) == {"draft", "active", "paused", "sold_out"}
    assert set(components[write.rsplit("/", 1)[1]]["enum"]) == {"draft", "active", "paused"}


def test_no_quantity_or_amount_is_documented_as_a_json_number(schema):
    """COERCE_DECIMAL_TO_STRING: every decimal leaves as a string; one typed number is a lie
    a generated client trips on (Lot.poverty_list_quantity was one)."""
    numbers = [
        f"{name}{where}"
        for name, component in schema["components"]["schemas"].items()
        for where, prop in walk_properties(component)
        if prop.get("type") == "number"
    ]
    assert not numbers


def test_poverty_list_quantity_is_a_decimal_string(schema):
    prop = schema["components"]["schemas"]["Lot"]["properties"]["poverty_list_quantity"]
    assert prop["type"] == "string"
    assert prop["format"] == "decimal"
    assert "pattern" in prop


@pytest.mark.parametrize("component", ["Fulfilment", "FulfilmentDetail"])
def test_requested_delivery_date_may_be_null(schema, component):
    prop = schema["components"]["schemas"][component]["properties"]["requested_delivery_date"]
    assert prop.get("nullable") is True


def test_component_names_carry_no_redundant_request_suffix(schema):
    names = set(schema["components"]["schemas"])
    assert "TokenRequest" in names
    assert not [name for name in names if name.endswith("RequestRequest")]
    # A …Request twin only where it differs from what is read back.
    same = [
        name
        for name in names
        if name.endswith("Request")
        and schema["components"]["schemas"].get(name.removesuffix("Request"))
        == schema["components"]["schemas"][name]
    ]
    assert not same


def test_no_reference_points_at_a_missing_component(schema):
    names = set(schema["components"]["schemas"])
    text = json.dumps(schema["paths"]) + json.dumps(schema["components"])
    refs = {part.split('"', 1)[0] for part in text.split('"#/components/schemas/')[1:]}
    assert refs <= names


def test_operation_ids_are_resource_and_action(schema):
    ids = {operation["operationId"] for _path, _method, operation in operations(schema)}
    assert {"listings_list", "orders_create", "orders_retrieve", "fulfilments_confirm"} <= ids
    assert not [i for i in ids if i.startswith("v1_") or i.endswith("_create_create")]


def test_every_operation_has_a_summary_and_a_resource_tag(schema):
    missing = [
        f"{method.upper()} {path}"
        for path, method, operation in operations(schema)
        if not operation.get("summary")
        or operation.get("tags") != [path.removeprefix("/api/v1/").split("/")[0]]
    ]
    assert not missing


def test_every_operation_documents_the_limits_and_406(schema):
    missing = []
    for path, method, operation in operations(schema):
        expected = {"406", "414", "431"}
        if method in {"post", "put", "patch"}:
            expected |= {"400", "413", "415"}
        if method == "get":
            expected |= {"304", "400"}
        if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", [])):
            expected.add("422")
        absent = expected - set(operation["responses"])
        if absent:
            missing.append(f"{method.upper()} {path}: {sorted(absent)}")
    assert not missing


def test_idempotency_key_header_documents_its_format(schema):
    from backend.idempotency import KEY_PATTERN

    parameter = next(
        p
        for p in schema["paths"]["/api/v1/orders/"]["post"]["parameters"]
        if p["name"] == "Idempotency-Key"
    )
    assert parameter["schema"]["pattern"] == KEY_PATTERN
    assert parameter["schema"]["maxLength"] == 255


def test_list_parameters_say_what_the_filters_accept(schema):
    parameters = {
        p["name"]: p["schema"] for p in schema["paths"]["/api/v1/listings/"]["get"]["parameters"]
    }
    assert parameters["cooperative"]["type"] == "integer"
    assert parameters["cooperative"]["minimum"] == 1
    assert parameters["page_size"] == {"type": "integer", "minimum": 1}
    assert "base_price" in parameters["ordering"]["enum"]
    assert "-base_price" in parameters["ordering"]["enum"]
    assert parameters["search"]["maxLength"] == 100
    buyers = {
        p["name"]: p["schema"] for p in schema["paths"]["/api/v1/buyers/"]["get"]["parameters"]
    }
    assert buyers["is_active"] == {"type": "boolean"}


# --- 414 and 431 from Django, in the error shape ---------------------------------------------


def test_an_over_long_url_is_a_414_in_the_error_shape(purchaser, settings):
    response = purchaser.get("/api/v1/listings/", {"search": "蜂" * settings.MAX_URL_BYTES})
    assert response.status_code == 414
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "uri_too_long"
    assert response.json()["error"]["fields"] == {}


def test_a_url_within_the_limit_is_served(purchaser):
    assert purchaser.get("/api/v1/listings/", {"search": "x" * 100}).status_code == 200


def test_an_over_long_header_is_a_431_naming_it(purchaser, settings):
    response = purchaser.get(
        "/api/v1/listings/", HTTP_X_TRACE="a" * (settings.MAX_HEADER_BYTES + 1)
    )
    assert response.status_code == 431
    assert response.json()["error"]["code"] == "header_too_large"
    assert "X-Trace" in response.json()["error"]["fields"]


def test_gunicorn_lets_long_urls_and_headers_through_to_django(settings):
    spec = importlib.util.spec_from_file_location("gconf", ROOT / "docker" / "gunicorn.conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    assert conf.limit_request_line == 0  # gunicorn's parser bound (1 MiB), not 4094 bytes
    assert conf.limit_request_field_size > settings.MAX_HEADER_BYTES


def test_decimal_inputs_need_a_digit_and_refuse_a_sign_where_the_minimum_does(schema):
    prop = schema["components"]["schemas"]["LineInput"]["properties"]["quantity"]
    pattern = re.compile(prop["pattern"])
    assert pattern.match("10.5")
    assert not pattern.match("")  # drf-spectacular's pattern allowed "" and "-"
    assert not pattern.match("-")
    assert not pattern.match("-1")  # the minimum is 0.001
    assert "0.001" in prop["description"]
    assert "order_increment" in prop["description"]


def test_nested_lists_document_their_item_counts(schema):
    components = schema["components"]["schemas"]
    lines = components["OrderCreate"]["properties"]["lines"]
    assert (lines["minItems"], lines["maxItems"]) == (1, 100)
    tiers = components["ListingRequest"]["properties"]["tiers"]
    assert (tiers["minItems"], tiers["maxItems"]) == (1, 10)


def test_related_ids_start_at_one(schema):
    household = schema["components"]["schemas"]["HouseholdRequest"]["properties"]["cooperative"]
    assert household["minimum"] == 1


def test_credit_codes_document_their_form(schema):
    prop = schema["components"]["schemas"]["CooperativeRequest"]["properties"]["credit_code"]
    assert prop["pattern"] == "^[0-9A-HJ-NPQRTUWXY]{18}$"
    assert prop["minLength"] == prop["maxLength"] == 18


def test_phones_document_what_is_accepted_and_what_is_answered(schema):
    components = schema["components"]["schemas"]
    write = components["CooperativeRequest"]["properties"]["contact_phone"]
    read = components["Cooperative"]["properties"]["contact_phone"]
    assert write["pattern"].startswith("^(?:\\+86)?1")
    assert read["pattern"] == "^\\+86[0-9]{9,11}$"
    # Blank allowed: the pattern sits on the string branch, so "" stays valid.
    optional = components["StoreRequest"]["properties"]["contact_phone"]
    assert "pattern" not in optional
    assert optional["oneOf"][0]["pattern"] == write["pattern"]


@hypothesis_settings(max_examples=500, deadline=None)
@given(from_regex(CN_MOBILE_INPUT_PATTERN, fullmatch=True))
def test_every_phone_the_schema_calls_valid_is_accepted(phone):
    assert normalize_cn_phone(phone).startswith("+86")


def _decimal_fields():
    from products.serializers import PriceTierSerializer, quantity_field

    return {
        "quantity": quantity_field(),
        "unit_price": PriceTierSerializer().fields["unit_price"],
    }


@pytest.mark.parametrize("name", ["quantity", "unit_price"])
def test_every_decimal_the_pattern_admits_is_accepted(name):
    from backend.schema import _decimal_string

    field = _decimal_fields()[name]
    pattern = _decimal_string(field)["pattern"]

    @hypothesis_settings(max_examples=300, deadline=None)
    @given(from_regex(pattern, fullmatch=True))
    def accepted(value):
        field.run_validation(value)  # raises ValidationError if refused

    accepted()
    assert not re.fullmatch(pattern, "0")  # the minimum is the smallest step, not zero


def test_deleting_a_standing_order_documents_the_200_it_answers(schema):
    responses = schema["paths"]["/api/v1/standing-orders/{id}/"]["delete"]["responses"]
    assert "204" not in responses
    body = responses["200"]["content"]["application/json"]["schema"]
    assert body["$ref"] == "#/components/schemas/StandingOrder"


def test_gunicorn_with_our_config_answers_a_100kb_url_with_django_json_414(tmp_path):
    """End to end: gunicorn's own refusal is an HTML page; ours is the error shape."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "test-" * 10,
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(
        [gunicorn, "-c", ROOT / "docker" / "gunicorn.conf.py", "backend.wsgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/v1/listings/?search={'x' * 100_000}"
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=5)
            except urllib.error.HTTPError as answer:
                assert answer.code == 414
                assert answer.headers["Content-Type"] == "application/json"
                assert json.load(answer)["error"]["code"] == "uri_too_long"
                return
            except OSError:
                time.sleep(0.1)  # not listening yet
        pytest.fail("gunicorn did not answer")
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_components_are_not_described_by_the_projects_serializer_bases(schema):
    """35 components were described by backend.serializers.ModelSerializer's docstring ("Fields
    built from model fields use the strict classes above too"), which tells a partner nothing."""
    import inspect

    from backend import serializers as base

    base_docs = {
        inspect.cleandoc(cls.__doc__)
        for cls in (base.WholeItemMixin, base.Serializer, base.ModelSerializer)
        if cls.__doc__
    }
    described_by_base = [
        name
        for name, component in schema["components"]["schemas"].items()
        if component.get("description") in base_docs
    ]
    assert described_by_base == []


def test_ids_in_paths_are_documented_as_integers(schema):
    """Path ids were strings with a digits pattern, so a generated client took `id: str`."""
    not_integers = [
        f"{path} {parameter['name']}"
        for path, item in schema["paths"].items()
        for operation in item.values()
        if isinstance(operation, dict)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path"
        and parameter["name"] == "id"
        and parameter["schema"].get("type") != "integer"
    ]
    assert not_integers == []
