"""The number of SQL queries per list request does not grow with the page size."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    CertificationFactory,
    CooperativeFactory,
    HouseholdFactory,
    ListingFactory,
    LotContributionFactory,
    LotFactory,
)

ROLES = ["buyer", "partner", "manager", "staff"]


def count_queries(client, url: str, page_size: int, expected_rows: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"page_size": page_size})
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == expected_rows
    return len(queries)


@pytest.fixture
def listings(cooperative):
    """50 live listings, each with two tiers and two certifications, across cooperatives."""
    organic = CertificationFactory(code="organic")
    gi = CertificationFactory(code="gi", name_zh="地理标志", name_en="Geographical indication")
    cooperatives = [cooperative, CooperativeFactory(), CooperativeFactory()]
    return [
        ListingFactory(cooperative=cooperatives[n % 3], certifications=[organic, gi])
        for n in range(50)
    ]


@pytest.mark.parametrize("role", ROLES)
def test_listing_list_queries_do_not_grow_with_page_size(request, role, listings):
    client = request.getfixturevalue(role)
    client.get("/api/v1/listings/")  # warm up: token bookkeeping of a first request
    small = count_queries(client, "/api/v1/listings/", 5, 5)
    large = count_queries(client, "/api/v1/listings/", 50, 50)
    assert small == large
    assert large <= 8


def test_every_listing_in_the_list_has_tiers_and_certifications(buyer, listings):
    rows = buyer.get("/api/v1/listings/", {"page_size": 50}).json()["results"]
    assert len(rows) == 50
    for row in rows:
        assert [t["min_quantity"] for t in row["tiers"]] == ["10.000", "100.000"]
        assert sorted(row["certifications"]) == ["gi", "organic"]
        assert row["base_price"] == "68.00"


@pytest.fixture
def lots(listings):
    """50 lots, each supplied by two households of its listing's cooperative."""
    made = []
    for n, listing in enumerate(listings):
        lot = LotFactory(listing=listing, quantity=Decimal("30"))
        for village in ("石屯村", "坝边村"):
            household = HouseholdFactory(
                cooperative=listing.cooperative,
                village=village,
                on_poverty_list=village == "坝边村",
                poverty_registration_no=f"522326-{n:04d}" if village == "坝边村" else "",
            )
            LotContributionFactory(lot=lot, household=household, quantity=Decimal("15"))
        made.append(lot)
    return made


@pytest.mark.parametrize("role", ROLES)
def test_lot_list_queries_do_not_grow_with_page_size(request, role, lots):
    client = request.getfixturevalue(role)
    client.get("/api/v1/lots/")
    small = count_queries(client, "/api/v1/lots/", 5, 5)
    large = count_queries(client, "/api/v1/lots/", 50, 50)
    assert small == large
    assert large <= 8


def test_every_lot_in_the_list_carries_its_trace(staff, lots):
    rows = staff.get("/api/v1/lots/", {"page_size": 50}).json()["results"]
    assert len(rows) == 50
    for row in rows:
        assert row["household_count"] == 2
        assert row["villages"] == ["坝边村", "石屯村"]
        assert Decimal(row["poverty_list_quantity"]) == Decimal("15")
        assert len(row["households"]) == 2
