"""Malformed requests never get a 5xx: nesting, encoding, tampered cursors, sizes, headers.

"Every JSON endpoint" and "every list" come from the OpenAPI schema and the URL conf, so a
new endpoint is covered without editing these tests (scripts/malformed_corpus.py sends the
same kinds of request to a real gunicorn in `make test`)."""

import base64
import json
from decimal import Decimal

import pytest
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator

from backend.parsers import MAX_DEPTH
from tests.conftest import assert_error
from tests.factories import HouseholdFactory, ListingFactory

pytestmark = pytest.mark.django_db

PROVIDER_OFF = {"rail_unavailable", "stripe_unavailable"}
DEEP = "[" * 1000 + "]" * 1000  # about 2 KB: RecursionError in json before the limit


def _schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def json_operations():
    """(path, method) of every operation that takes a JSON body, ids filled with 1."""
    for path, item in _schema()["paths"].items():
        for method, operation in item.items():
            if "requestBody" in operation:
                yield path.replace("{id}", "1").replace("{code}", "organic"), method


def list_paths():
    """Every paginated list: a GET without path parameters that takes a cursor."""
    for path, item in _schema()["paths"].items():
        parameters = {p["name"] for p in item.get("get", {}).get("parameters", [])}
        if "{" not in path and "cursor" in parameters:
            yield path


def orderings(path: str) -> list[str]:
    """The default ordering and every field the list may be ordered by."""
    view = resolve(path).func.cls
    return ["", *(getattr(view, "ordering_fields", None) or [])]


def cursor(query: str) -> str:
    return base64.b64encode(query.encode()).decode()


def send(client, method: str, path: str, body, **extra):
    return getattr(client, method)(path, body, content_type="application/json", **extra)


def test_the_surface_is_found():
    """The derived lists are not empty: the tests below really cover something."""
    operations = list(json_operations())
    assert ("/api/v1/auth/token/", "post") in operations
    assert len(operations) > 15
    assert {"/api/v1/listings/", "/api/v1/orders/", "/api/v1/lots/"} <= set(list_paths())


# --- Depth and encoding of JSON bodies ---------------------------------------------------------


def test_deep_json_to_the_login_endpoint_is_a_parse_error(anon):
    assert_error(send(anon, "post", "/api/v1/auth/token/", DEEP), 400, "parse_error")


@pytest.mark.parametrize(("path", "method"), list(json_operations()))
def test_deep_json_is_never_a_server_error(staff, path, method):
    response = send(staff, method, path, DEEP)
    error = assert_error(response, response.status_code)
    if response.status_code == 503:
        # The documented 503 of a payment provider switched off here (Stripe's webhook
        # without its secret answers so before reading the body), never a bug's.
        documented = _schema()["paths"].get(path, {}).get(method, {}).get("responses", {})
        assert error["code"] in PROVIDER_OFF and "503" in documented
        return
    assert response.status_code < 500
    if response.status_code == 400:
        assert error["code"] == "parse_error"


def test_deep_json_on_a_create_endpoint_is_a_parse_error(manager):
    assert_error(send(manager, "post", "/api/v1/listings/", DEEP), 400, "parse_error")


def test_nesting_just_past_the_limit_is_refused_and_within_it_parses(staff):
    too_deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    assert_error(send(staff, "post", "/api/v1/categories/", too_deep), 400, "parse_error")
    nested = {"slug": "ok", "name_zh": "好", "name_en": ["x"]}  # wrong type, but parsed
    assert_error(
        send(staff, "post", "/api/v1/categories/", json.dumps(nested)), 400, field="name_en"
    )


def test_invalid_utf8_body_is_a_parse_error(staff):
    body = b'{"slug": "x", "name_zh": "\xff\xfe"}'
    assert_error(send(staff, "post", "/api/v1/categories/", body), 400, "parse_error")


@pytest.mark.parametrize("body", ['{"slug": "x", "name_zh": "\\ud800"}', '{"\\udfff": 1}'])
def test_lone_surrogate_in_json_is_a_parse_error(staff, body):
    assert_error(send(staff, "post", "/api/v1/categories/", body), 400, "parse_error")


def test_body_over_the_size_limit_is_413(anon, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"phone": "13800000001", "password": "x" * 2000})
    assert_error(send(anon, "post", "/api/v1/auth/token/", body), 413, "request_too_large")


# --- Credentials -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Bearer \xff\xfe\xfd",  # bytes that are not UTF-8 (WSGI hands them over as Latin-1)
        "Bearer caf\xe9",
        "Bearer 蜂蜜",  # not even Latin-1: possible from ASGI or a test client
        "Bearer abc\x00def",
        "Api-Key \xff\xfe.\xfd",
        "Api-Key 蜂蜜.key",
    ],
)
def test_undecodable_credentials_are_401(anon, header):
    response = anon.get("/api/v1/listings/", HTTP_AUTHORIZATION=header)
    assert_error(response, 401, "authentication_failed")


# --- Cursors and page sizes --------------------------------------------------------------------

TAMPERED = [
    cursor("o=0&r=0&p=abc"),  # text where an id, a decimal or a date belongs
    cursor("o=0&r=0&p=1e999999"),  # a decimal no column holds
    cursor("o=0&r=0&p=NaN"),
    cursor("o=0&r=0&p=99999999999999999999999999"),  # past bigint
    cursor("o=0&r=0&p=2026-13-45"),
    cursor("o=0&r=0&p=\x00"),
    cursor("o=-1&r=0"),
    cursor("o=0&r=x"),
    "not base64 at all!",
    "5Lit5paH",  # base64 of UTF-8 text
]


def _list_cases():
    for path in list_paths():
        for ordering in orderings(path):
            for tampered in TAMPERED:
                yield path, ordering, tampered


@pytest.mark.parametrize(("path", "ordering", "tampered"), list(_list_cases()))
def test_tampered_cursor_on_every_list_is_never_a_server_error(staff, path, ordering, tampered):
    """A 400 naming the cursor; or, when the list is ordered by text, any text is a position
    to page from (200)."""
    params = {"cursor": tampered, **({"ordering": ordering} if ordering else {})}
    response = staff.get(path, params)
    if response.status_code != 200:
        assert_error(response, 400, "validation_error", field="cursor")


@pytest.mark.parametrize("path", list(list_paths()))
@pytest.mark.parametrize("tampered", TAMPERED)
def test_tampered_cursor_on_every_list_by_id_is_400_naming_cursor(staff, path, tampered):
    assert_error(staff.get(path, {"cursor": tampered}), 400, "validation_error", field="cursor")


@pytest.mark.parametrize(
    ("path", "ordering", "position"),
    [
        ("/api/v1/listings/", "base_price", "1e999999"),  # an annotation's decimal
        ("/api/v1/listings/", "base_price", "abc"),
        ("/api/v1/listings/", "created_at", "2026-13-45"),
        ("/api/v1/lots/", "harvest_date", "99999999"),
        ("/api/v1/orders/", "total", "NaN"),
        ("/api/v1/products/", "name_zh", "\x00"),  # text pages from any text but a NUL
    ],
)
def test_tampered_position_for_the_ordering_is_400(staff, path, ordering, position):
    params = {"cursor": cursor(f"o=0&r=0&p={position}"), "ordering": ordering}
    assert_error(staff.get(path, params), 400, "validation_error", field="cursor")


def test_a_genuine_cursor_still_pages(staff, cooperative):
    for _ in range(3):
        ListingFactory(cooperative=cooperative)
    first = staff.get("/api/v1/listings/", {"page_size": 2, "ordering": "base_price"}).json()
    second = staff.get(first["next"])
    assert second.status_code == 200
    assert len(second.json()["results"]) == 1


@pytest.mark.parametrize("value", ["0", "000", "-1", "abc", "１０", "2.5", ""])
def test_bad_page_size_is_400_naming_it(staff, value):
    assert_error(staff.get("/api/v1/listings/", {"page_size": value}), 400, field="page_size")


@pytest.mark.parametrize("value", ["100", "101", "9" * 5000])  # int() refuses 4,300+ digits
def test_a_page_size_past_the_maximum_is_capped(staff, value):
    response = staff.get("/api/v1/listings/", {"page_size": value})
    assert response.status_code == 200, response.content


# --- Other headers and query parameters ----------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_IF_NONE_MATCH": '"\xff\xfe"'},
        {"HTTP_IF_NONE_MATCH": "W/" + '"x",' * 2000},
        {"HTTP_ACCEPT_LANGUAGE": "\xff\xfe;q=abc," * 200},
        {"HTTP_ACCEPT_LANGUAGE": "zh-Hans;q=1e999999"},
    ],
)
def test_odd_conditional_and_language_headers_are_ignored(buyer, headers):
    assert buyer.get("/api/v1/listings/", **headers).status_code == 200


@pytest.mark.parametrize("key", ["\xff\xfe", "key with spaces", "蜂", "x" * 256, ""])
def test_idempotency_key_outside_printable_ascii_is_400_naming_it(purchaser, store, key):
    response = purchaser.post(
        "/api/v1/orders/",
        {"store": store.pk, "lines": [{"listing": 1, "quantity": "10"}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert_error(response, 400, "validation_error", field="Idempotency-Key")


@pytest.mark.parametrize(
    ("path", "param", "value"),
    [
        ("/api/v1/listings/", "price_min", "１０"),
        ("/api/v1/listings/", "cooperative", "１"),
        ("/api/v1/lots/", "harvested_after", "２０２５-01-01"),
        ("/api/v1/lots/", "listing", "٣"),
        ("/api/v1/orders/", "store", "１"),
    ],
)
def test_filters_take_ascii_digits_only(staff, path, param, value):
    assert_error(staff.get(path, {param: value}), 400, "validation_error", field=param)


@pytest.mark.parametrize("value", ["%ff%fe", "\ufffd" * 50, "a" * 101])
def test_search_and_ordering_with_odd_text_never_fail(staff, value):
    assert staff.get("/api/v1/listings/", {"ordering": value}).status_code == 200
    assert staff.get("/api/v1/listings/", {"search": value}).status_code in (200, 400)


# --- Sums that overflow a column ---------------------------------------------------------------


def test_a_lot_past_what_the_listing_can_hold_is_409_and_writes_nothing(manager, cooperative):
    listing = ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("999999990"))
    household = HouseholdFactory(cooperative=cooperative)
    response = manager.post(
        "/api/v1/lots/",
        {
            "listing": listing.pk,
            "code": "TOO-MUCH",
            "harvest_date": "2025-10-01",
            "quantity": "100",
            "contributions": [{"household": household.pk, "quantity": "100"}],
        },
        format="json",
    )
    assert_error(response, 409, "conflict", field="quantity")
    listing.refresh_from_db()
    assert listing.stock_on_hand == Decimal("999999990")
    assert not listing.lots.exists()


def test_a_lot_that_fills_the_listing_exactly_is_received(manager, cooperative):
    listing = ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("999999899.999"))
    household = HouseholdFactory(cooperative=cooperative)
    response = manager.post(
        "/api/v1/lots/",
        {
            "listing": listing.pk,
            "code": "FULL",
            "harvest_date": "2025-10-01",
            "quantity": "100",
            "contributions": [{"household": household.pk, "quantity": "100"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    listing.refresh_from_db()
    assert listing.stock_on_hand == Decimal("999999999.999")


@pytest.mark.parametrize("ordering", ["lines", "runs", "-lines"])
def test_ordering_by_a_relation_is_ignored_and_a_tampered_cursor_is_400(purchaser, ordering):
    """A view without ordering_fields (standing orders) let DRF order by any serializer
    field, relations included: rows repeated, and a cursor over them was a 500."""
    assert purchaser.get("/api/v1/standing-orders/", {"ordering": ordering}).status_code == 200
    params = {"ordering": ordering, "cursor": cursor("o=0&r=0&p=abc")}
    response = purchaser.get("/api/v1/standing-orders/", params)
    assert_error(response, 400, "validation_error", field="cursor")


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=nonsense",
        "application/json; charset=rot13",
        "application/json; charset=utf-16",
        "application/json; charset=\xff",
        "multipart/form-data; boundary=x",
        "text/plain",
    ],
)
def test_odd_content_types_are_4xx(anon, content_type):
    response = anon.post("/api/v1/auth/token/", b'{"phone": "1"}', content_type=content_type)
    assert_error(response, response.status_code)
    assert 400 <= response.status_code < 500


def test_body_over_the_limit_outside_the_api_is_413_too(anon, settings):
    """Django's own views (the admin) read the body in middleware; handler400 answers."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    anon.raise_request_exception = False
    response = anon.post(
        "/admin/login/",
        "username=x&password=" + "x" * 2000,
        content_type="application/x-www-form-urlencoded",
    )
    assert_error(response, 413, "request_too_large")


def test_an_order_whose_lines_fit_but_whose_total_does_not_is_400(purchaser, store, cooperative):
    """Each line total fits its column (6 billion); their sum does not (12 digits)."""
    from orders.models import Order

    listings = [
        ListingFactory(
            cooperative=cooperative, stock_on_hand=Decimal("200000"), tiers=[("10", "60000.00")]
        )
        for _ in range(2)
    ]
    lines = [{"listing": listing.pk, "quantity": "100000"} for listing in listings]
    response = purchaser.post("/api/v1/orders/", {"store": store.pk, "lines": lines}, format="json")
    assert_error(response, 400, "validation_error", field="lines")
    assert not Order.objects.exists()
