"""The one JSON error shape (backend.errors) across the API: the client's mistakes are a 4xx in
that shape, never a 500 or an HTML page, and nothing is written."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection

from backend.validators import credit_code_check_character
from products import services
from products.models import Listing, Lot, LotContribution, PriceTier
from suppliers.models import Cooperative
from tests.conftest import assert_error
from tests.factories import HouseholdFactory, ListingFactory, ProductFactory

pytestmark = pytest.mark.django_db

RESOURCES = ["cooperatives", "households", "products", "categories", "listings", "lots"]
BIGINT_MAX = 2**63 - 1
CREDIT_CODE = "93522326MA9000001" + credit_code_check_character("93522326MA9000001")


def listing_body(cooperative, product, /, **overrides):
    body = {
        "cooperative": cooperative.id,
        "product": product.id,
        "grade": "first",
        "min_order_quantity": "10",
        "order_increment": "5",
        "tiers": [
            {"min_quantity": "10", "unit_price": "68.00"},
            {"min_quantity": "100", "unit_price": "60.00"},
        ],
        "status": "draft",
    }
    return {**body, **overrides}


def cooperative_body(**overrides):
    body = {
        "name_zh": "石屯镇测试合作社",
        "credit_code": CREDIT_CODE,
        "contact_phone": "13985900009",
    }
    return {**body, **overrides}


def test_runs_on_postgresql():
    """NUL bytes and out-of-range integers only break on PostgreSQL: these tests must run
    there (make test sets DATABASE_URL)."""
    assert connection.vendor == "postgresql"


# --- What arrives is not JSON -------------------------------------------------------------------


def test_malformed_json_is_400_parse_error(manager):
    response = manager.post("/api/v1/listings/", data='{"a":', content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_non_json_content_type_is_415(manager):
    response = manager.post(
        "/api/v1/listings/", data="grade=first", content_type="application/x-www-form-urlencoded"
    )
    assert_error(response, 415, "unsupported_media_type")


def test_json_that_is_not_an_object_is_400(manager):
    response = manager.post("/api/v1/listings/", data="[1, 2]", content_type="application/json")
    assert_error(response, 400, "validation_error")


# --- Unknown URLs and ids -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/nope/", "/api/v1/listings/abc/", "/nope", "/nope/"])
def test_unknown_url_is_404_in_the_shape(staff, path):
    assert_error(staff.get(path), 404, "not_found")


@pytest.mark.parametrize("resource", RESOURCES)
def test_id_too_large_for_bigint_in_url_is_404(staff, resource):
    assert_error(staff.get(f"/api/v1/{resource}/99999999999999999999999/"), 404, "not_found")


@pytest.mark.parametrize("resource", RESOURCES)
def test_unknown_id_in_bigint_range_is_404(staff, resource):
    assert_error(staff.get(f"/api/v1/{resource}/999999999999999999/"), 404, "not_found")


def test_id_too_large_in_body_is_400_naming_the_field(manager, cooperative):
    product = ProductFactory()
    response = manager.post(
        "/api/v1/listings/", listing_body(cooperative, product, cooperative=10**30), format="json"
    )
    assert_error(response, 400, "validation_error", field="cooperative")
    assert not Listing.objects.exists()


def test_id_just_over_bigint_in_body_is_400(staff, cooperative):
    response = staff.post(
        "/api/v1/households/",
        {"cooperative": BIGINT_MAX + 1, "name": "韦光明", "village": "石屯村"},
        format="json",
    )
    assert_error(response, 400, "validation_error", field="cooperative")


@pytest.mark.parametrize("value", [str(10**30), "-1", "1.5", "abc"])
def test_bad_id_in_filter_is_400_naming_the_filter(buyer, value):
    response = buyer.get("/api/v1/listings/", {"cooperative": value})
    assert_error(response, 400, "validation_error", field="cooperative")


# --- Strings ------------------------------------------------------------------------------------


def test_nul_character_in_body_string_is_400(staff):
    response = staff.post(
        "/api/v1/cooperatives/", cooperative_body(name_zh="石屯\x00合作社"), format="json"
    )
    assert_error(response, 400, "validation_error", field="name_zh")
    assert not Cooperative.objects.exists()


def test_nul_character_in_nested_string_is_400(manager, cooperative):
    product = ProductFactory()
    body = listing_body(cooperative, product, packaging="24 jars\x00")
    response = manager.post("/api/v1/listings/", body, format="json")
    assert_error(response, 400, "validation_error", field="packaging")


@pytest.mark.parametrize("param", ["search", "village"])
def test_nul_character_in_query_string_is_400(staff, param):
    response = staff.get("/api/v1/cooperatives/", {param: "石屯\x00"})
    assert_error(response, 400, "validation_error")


def test_nul_character_in_listing_filter_is_400(buyer):
    response = buyer.get("/api/v1/listings/", {"certification": "organic\x00"})
    assert_error(response, 400, "validation_error")


def test_nul_character_in_url_lookup_is_404(buyer):
    assert_error(buyer.get("/api/v1/certifications/organic%00/"), 404, "not_found")


@pytest.mark.parametrize("header", ["Api-Key demo\x00.secret", "Bearer abc\x00" + "d" * 60])
def test_nul_character_in_credentials_is_401(anon, header):
    anon.credentials(HTTP_AUTHORIZATION=header)
    assert_error(anon.get("/api/v1/listings/"), 401, "authentication_failed")


def test_too_long_string_is_400_naming_the_field(staff):
    response = staff.post(
        "/api/v1/cooperatives/", cooperative_body(name_zh="石" * 101), format="json"
    )
    assert_error(response, 400, "validation_error", field="name_zh")
    assert not Cooperative.objects.exists()


def test_too_long_lot_code_is_400_naming_the_field(manager, cooperative):
    listing = ListingFactory(cooperative=cooperative)
    household = HouseholdFactory(cooperative=cooperative)
    body = {
        "listing": listing.id,
        "code": "L" * 41,
        "harvest_date": "2025-10-01",
        "quantity": "5",
        "contributions": [{"household": household.id, "quantity": "5"}],
    }
    assert_error(manager.post("/api/v1/lots/", body, format="json"), 400, field="code")


# --- Numbers and types --------------------------------------------------------------------------


@pytest.mark.parametrize("value", [10**30, "1e30", "-5", "NaN", "Infinity", "abc", None])
def test_absurd_quantity_is_400_naming_the_field(manager, cooperative, value):
    product = ProductFactory()
    body = listing_body(cooperative, product, min_order_quantity=value)
    response = manager.post("/api/v1/listings/", body, format="json")
    assert_error(response, 400, "validation_error", field="min_order_quantity")


def test_wrong_type_is_400_naming_the_field(manager, cooperative):
    product = ProductFactory()
    body = listing_body(cooperative, product, tiers="cheap")
    response = manager.post("/api/v1/listings/", body, format="json")
    assert_error(response, 400, "validation_error", field="tiers")


def test_nested_errors_flatten_to_dotted_paths(manager, cooperative):
    product = ProductFactory()
    tiers = [
        {"min_quantity": "10", "unit_price": "68.00"},
        {"min_quantity": "100", "unit_price": "-1"},
    ]
    response = manager.post(
        "/api/v1/listings/", listing_body(cooperative, product, tiers=tiers), format="json"
    )
    error = assert_error(response, 400, "validation_error", field="tiers.1.unit_price")
    assert "tiers.0.unit_price" not in error["fields"]
    assert all(isinstance(messages, list) for messages in error["fields"].values())


# --- Methods and credentials --------------------------------------------------------------------


def test_wrong_method_is_405_in_the_shape(manager, cooperative):
    listing = ListingFactory(cooperative=cooperative)
    assert_error(manager.delete(f"/api/v1/listings/{listing.id}/"), 405, "method_not_allowed")
    assert Listing.objects.filter(pk=listing.pk).exists()


def test_get_on_token_endpoint_is_405(anon):
    assert_error(anon.get("/api/v1/auth/token/"), 405, "method_not_allowed")


def test_401_carries_www_authenticate(anon):
    response = anon.get("/api/v1/listings/")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_bad_bearer_token_is_401_with_www_authenticate(anon):
    anon.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = anon.get("/api/v1/listings/")
    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_bad_api_key_is_401(anon):
    anon.credentials(HTTP_AUTHORIZATION="Api-Key nope.nope")
    response = anon.get("/api/v1/listings/")
    assert_error(response, 401, "authentication_failed")
    assert "WWW-Authenticate" in response


# --- Nothing is written when a service refuses --------------------------------------------------


def lot_body(listing, contributions, quantity):
    return {
        "listing": listing.id,
        "code": "FM-2025-10-A",
        "harvest_date": "2025-10-01",
        "quantity": quantity,
        "contributions": contributions,
    }


def assert_lot_not_received(listing):
    listing.refresh_from_db()
    assert listing.stock_on_hand == Decimal("100")
    assert not Lot.objects.exists()
    assert not LotContribution.objects.exists()


def test_lot_with_foreign_household_writes_nothing(manager, cooperative, other_cooperative):
    listing = ListingFactory(cooperative=cooperative)
    own = HouseholdFactory(cooperative=cooperative)
    foreign = HouseholdFactory(cooperative=other_cooperative)
    contributions = [
        {"household": own.id, "quantity": "30"},
        {"household": foreign.id, "quantity": "20"},
    ]
    response = manager.post("/api/v1/lots/", lot_body(listing, contributions, "50"), format="json")
    assert_error(response, 400, "validation_error", field="contributions")
    assert_lot_not_received(listing)


def test_lot_with_bad_contribution_quantity_writes_nothing(manager, cooperative):
    listing = ListingFactory(cooperative=cooperative)
    first, second = HouseholdFactory.create_batch(2, cooperative=cooperative)
    contributions = [
        {"household": first.id, "quantity": "50"},
        {"household": second.id, "quantity": "0"},
    ]
    response = manager.post("/api/v1/lots/", lot_body(listing, contributions, "50"), format="json")
    assert_error(response, 400, "validation_error", field="contributions.1.quantity")
    assert_lot_not_received(listing)


def test_lot_receive_refused_after_writing_the_lot_rolls_back(cooperative):
    """A zero contribution passes the sum check, so the lot row is written before the
    database refuses the contribution: the whole receive must roll back."""
    listing = ListingFactory(cooperative=cooperative)
    first, second = HouseholdFactory.create_batch(2, cooperative=cooperative)
    with pytest.raises(IntegrityError):
        services.lot_receive(
            listing=listing,
            code="FM-2025-10-A",
            harvest_date=datetime.date(2025, 10, 1),
            quantity=Decimal("50"),
            contributions=[
                {"household": first, "quantity": Decimal("50")},
                {"household": second, "quantity": Decimal("0")},
            ],
        )
    assert_lot_not_received(listing)


def test_listing_update_refused_after_replacing_tiers_keeps_old_tiers(manager, cooperative):
    """The tiers are replaced before the one-live-listing rule refuses the update."""
    live = ListingFactory(cooperative=cooperative)
    paused = ListingFactory(
        cooperative=cooperative,
        product=live.product,
        status=Listing.Status.PAUSED,
        tiers=[("10", "50.00")],
    )
    response = manager.patch(
        f"/api/v1/listings/{paused.id}/",
        {"status": "active", "tiers": [{"min_quantity": "5", "unit_price": "40.00"}]},
        format="json",
    )
    assert_error(response, 409, "conflict", field="status")
    paused.refresh_from_db()
    assert paused.status == Listing.Status.PAUSED
    tiers = list(PriceTier.objects.filter(listing=paused).values_list("min_quantity", "unit_price"))
    assert tiers == [(Decimal("10"), Decimal("50.00"))]


# --- Backstops: races the services lose to the database are 409s, never 500s -------------------


class _PgError(Exception):
    def __init__(self, sqlstate):
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])  # deadlock, serialization failure
def test_a_transaction_conflict_is_a_409_to_retry(sqlstate):
    from django.db import OperationalError

    from backend.errors import exception_handler

    exc = OperationalError("conflict")
    exc.__cause__ = _PgError(sqlstate)
    response = exception_handler(exc, {})
    assert response.status_code == 409
    assert response.data["error"]["code"] == "retry"


def test_other_operational_errors_stay_server_errors():
    from django.db import OperationalError

    from backend.errors import exception_handler

    exc = OperationalError("server closed the connection")
    exc.__cause__ = _PgError("08006")
    assert exception_handler(exc, {}) is None  # Django answers 500 in the error shape


def test_deleting_a_household_that_just_supplied_a_lot_is_a_409():
    """The service checks first; if a lot naming the household commits in between, the
    database's PROTECT decides and the answer is still a conflict, not a 500."""
    from django.db.models import ProtectedError

    from backend.errors import exception_handler

    response = exception_handler(ProtectedError("protected", set()), {})
    assert response.status_code == 409
    assert response.data["error"]["code"] == "conflict"
