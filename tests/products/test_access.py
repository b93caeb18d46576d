"""A write names only rows the user can see: another cooperative's draft listing is, to a
manager, the same 400 as a listing that does not exist (not a 403 that tells them it is
there). A live listing of another cooperative is visible, so writing for it is a 403."""

import pytest

from products.models import Listing, Lot, NegotiatedPrice
from tests.conftest import assert_error
from tests.factories import HouseholdFactory, ListingFactory

pytestmark = pytest.mark.django_db


def lot_body(listing, household) -> dict:
    return {
        "listing": listing.pk,
        "code": "FM-1",
        "harvest_date": "2019-03-01",
        "quantity": "10",
        "contributions": [{"household": household.pk, "quantity": "10"}],
    }


def price_body(listing, organisation) -> dict:
    return {
        "listing": listing.pk,
        "organisation": organisation.pk,
        "valid_from": "2026-01-01",
        "valid_until": "2026-12-31",
        "tiers": [{"min_quantity": "10", "unit_price": "60.00"}],
    }


@pytest.fixture
def hidden_listing(other_cooperative):
    """A draft of another cooperative: nobody but its managers and staff sees it."""
    return ListingFactory(cooperative=other_cooperative, status=Listing.Status.DRAFT)


def test_a_lot_for_a_listing_the_manager_cannot_see_is_400_on_listing(
    manager, hidden_listing, other_cooperative
):
    household = HouseholdFactory(cooperative=other_cooperative)
    response = manager.post("/api/v1/lots/", lot_body(hidden_listing, household), format="json")
    assert_error(response, 400, "validation_error", "listing")
    assert not Lot.objects.exists()


def test_a_negotiated_price_for_a_listing_the_manager_cannot_see_is_400_on_listing(
    manager, hidden_listing, organisation
):
    response = manager.post(
        "/api/v1/negotiated-prices/", price_body(hidden_listing, organisation), format="json"
    )
    assert_error(response, 400, "validation_error", "listing")
    assert not NegotiatedPrice.objects.exists()


def test_a_negotiated_price_for_another_cooperatives_live_listing_is_403(
    manager, other_cooperative, organisation
):
    listing = ListingFactory(cooperative=other_cooperative)
    response = manager.post(
        "/api/v1/negotiated-prices/", price_body(listing, organisation), format="json"
    )
    assert_error(response, 403, "permission_denied", "cooperative")
    assert not NegotiatedPrice.objects.exists()


def test_staff_name_any_listing(staff, hidden_listing, organisation):
    response = staff.post(
        "/api/v1/negotiated-prices/", price_body(hidden_listing, organisation), format="json"
    )
    assert response.status_code == 201, response.content
