"""/api/v1/negotiated-prices/: a cooperative gives one buyer organisation its own tiers for a
listing and a date range; only staff, that cooperative and that organisation see it."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.models import OrderLine
from orders.services.placement import LineRequest, order_place
from products.models import NegotiatedPrice, NegotiatedPriceTier
from tests.conftest import assert_error
from tests.factories import ListingFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/negotiated-prices/"


def detail(negotiated_id: int) -> str:
    return f"{URL}{negotiated_id}/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def days(n: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=n)).isoformat()


def counts() -> tuple[int, int]:
    return NegotiatedPrice.objects.count(), NegotiatedPriceTier.objects.count()


def new_price(listing, organisation, **overrides) -> dict:
    payload = {
        "listing": listing.pk,
        "organisation": organisation.pk,
        "valid_from": days(0),
        "valid_until": days(30),
        "tiers": [
            {"min_quantity": "10", "unit_price": "62.00"},
            {"min_quantity": "100", "unit_price": "55.00"},
        ],
        "note": "2026 年度框架协议",
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def listing(cooperative):
    return ListingFactory(cooperative=cooperative)


@pytest.fixture
def negotiated(manager, listing, organisation) -> int:
    """A negotiated price of `listing` for `organisation`, valid today through day 30."""
    response = manager.post(URL, new_price(listing, organisation), format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


# --- Creating ---------------------------------------------------------------------------------


def test_a_manager_creates_one_for_their_own_listing(manager, listing, organisation):
    response = manager.post(URL, new_price(listing, organisation), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["listing"], body["organisation"]) == (listing.pk, organisation.pk)
    assert [(t["min_quantity"], t["unit_price"]) for t in body["tiers"]] == [
        ("10.000", "62.00"),
        ("100.000", "55.00"),
    ]
    assert counts() == (1, 2)


def test_staff_create_one_for_any_listing(staff, listing, organisation):
    response = staff.post(URL, new_price(listing, organisation), format="json")
    assert response.status_code == 201, response.content


def test_a_manager_may_not_price_another_cooperatives_listing(
    manager, other_cooperative, organisation
):
    foreign = ListingFactory(cooperative=other_cooperative)
    response = manager.post(URL, new_price(foreign, organisation), format="json")
    assert_error(response, 403, "permission_denied")
    assert counts() == (0, 0)


@pytest.mark.parametrize("role", ["purchaser", "approver", "partner", "buyer"])
def test_buyers_may_not_set_their_own_prices(request, role, listing, organisation):
    client = request.getfixturevalue(role)
    response = client.post(URL, new_price(listing, organisation), format="json")
    assert_error(response, 403, "permission_denied")
    assert counts() == (0, 0)


@pytest.mark.parametrize(
    ("tiers", "field"),
    [
        pytest.param([], "tiers", id="none"),
        pytest.param("cheap", "tiers", id="not-a-list"),
        pytest.param([{"min_quantity": "20", "unit_price": "60"}], "tiers", id="above-moq"),
        pytest.param(
            [
                {"min_quantity": "10", "unit_price": "60"},
                {"min_quantity": "10", "unit_price": "58"},
            ],
            "tiers",
            id="duplicate-threshold",
        ),
        pytest.param(
            [
                {"min_quantity": "10", "unit_price": "60"},
                {"min_quantity": "50", "unit_price": "61"},
            ],
            "tiers",
            id="price-rises",
        ),
        pytest.param([{"min_quantity": "10", "unit_price": "0"}], "tiers.0.unit_price", id="free"),
        pytest.param(
            [{"min_quantity": "10", "unit_price": "60.001"}], "tiers.0.unit_price", id="sub-fen"
        ),
        pytest.param(
            [{"min_quantity": "0", "unit_price": "60"}], "tiers.0.min_quantity", id="zero-qty"
        ),
    ],
)
def test_tiers_follow_the_listing_tier_rules(manager, listing, organisation, tiers, field):
    response = manager.post(URL, new_price(listing, organisation, tiers=tiers), format="json")
    assert_error(response, 400, "validation_error", field)
    assert counts() == (0, 0)


def test_a_range_ending_before_it_starts_is_400(manager, listing, organisation):
    data = new_price(listing, organisation, valid_from=days(10), valid_until=days(9))
    assert_error(manager.post(URL, data, format="json"), 400, "validation_error", "valid_until")
    assert counts() == (0, 0)


@pytest.mark.parametrize(
    ("start", "end"),
    [(30, 40), (-5, 0), (5, 10), (-10, 60)],
    ids=["touches-the-end", "touches-the-start", "inside", "around"],
)
def test_an_overlapping_range_for_the_same_listing_and_buyer_is_409(
    manager, listing, organisation, negotiated, start, end
):
    data = new_price(listing, organisation, valid_from=days(start), valid_until=days(end))
    assert_error(manager.post(URL, data, format="json"), 409, "conflict", "valid_from")
    assert counts() == (1, 2)


def test_ranges_that_do_not_overlap_or_are_for_someone_else_are_fine(
    manager, listing, organisation, other_organisation, negotiated
):
    later = new_price(listing, organisation, valid_from=days(31), valid_until=days(60))
    assert manager.post(URL, later, format="json").status_code == 201
    other = new_price(listing, other_organisation)
    assert manager.post(URL, other, format="json").status_code == 201
    assert counts() == (3, 6)


# --- Who sees it ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["purchaser", "approver", "partner", "manager", "staff"])
def test_the_organisation_its_cooperative_and_staff_see_it(request, role, negotiated):
    client = request.getfixturevalue(role)
    assert ids(client.get(URL)) == [negotiated]
    response = client.get(detail(negotiated))
    assert response.status_code == 200, response.content
    assert response.json()["tiers"][0]["unit_price"] == "62.00"


@pytest.mark.parametrize("role", ["other_purchaser", "other_manager", "buyer"])
def test_nobody_else_sees_it(request, role, negotiated):
    client = request.getfixturevalue(role)
    assert ids(client.get(URL)) == []
    assert_error(client.get(detail(negotiated)), 404, "not_found")


# --- Withdrawing --------------------------------------------------------------------------------


def test_delete_withdraws_it_and_orders_go_back_to_public_tiers(
    manager, purchaser, purchaser_user, store, listing, negotiated
):
    def price_of_next_order() -> tuple[Decimal, str]:
        order = order_place(
            user=purchaser_user, store=store, lines=[LineRequest(listing.pk, Decimal("10"))]
        ).order
        line = OrderLine.objects.get(order=order)
        return line.unit_price, line.price_source

    assert price_of_next_order() == (Decimal("62.00"), "negotiated")
    response = manager.delete(detail(negotiated))
    assert response.status_code == 204, response.content
    assert counts() == (0, 0)
    assert_error(purchaser.get(detail(negotiated)), 404, "not_found")
    assert price_of_next_order() == (Decimal("68.00"), "public")


@pytest.mark.parametrize(
    ("role", "status"), [("other_manager", 404), ("purchaser", 403), ("other_purchaser", 403)]
)
def test_only_its_cooperative_or_staff_withdraw_it(request, role, status, negotiated):
    client = request.getfixturevalue(role)
    assert_error(client.delete(detail(negotiated)), status)
    assert counts() == (1, 2)
