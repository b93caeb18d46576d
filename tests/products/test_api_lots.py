"""/api/v1/lots/: receiving harvest lots adds stock and traces every unit to a household of
the listing's cooperative; buyers see the trace in aggregate, never who the households are."""

import datetime
from decimal import Decimal

import pytest

from products.models import Listing, Lot, LotContribution
from tests.conftest import assert_error
from tests.factories import HouseholdFactory, ListingFactory, LotContributionFactory, LotFactory

URL = "/api/v1/lots/"


@pytest.fixture
def listing(cooperative):
    return ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("100"))


@pytest.fixture
def households(cooperative):
    return [
        HouseholdFactory(cooperative=cooperative, name="王大山", village="石屯村"),
        HouseholdFactory(
            cooperative=cooperative,
            name="李春花",
            village="坝边村",
            on_poverty_list=True,
            poverty_registration_no="522326-2016-0042",
        ),
    ]


def new_lot(listing, households, **overrides) -> dict:
    data = {
        "listing": listing.pk,
        "code": "FM-2019-03-01",
        "harvest_date": "2019-03-01",
        "quantity": "50",
        "notes": "春蜜",
        "contributions": [
            {"household": households[0].pk, "quantity": "30"},
            {"household": households[1].pk, "quantity": "20"},
        ],
    }
    data.update(overrides)
    return data


def state(listing) -> tuple:
    """What a refused request must leave untouched."""
    listing.refresh_from_db()
    return Lot.objects.count(), LotContribution.objects.count(), listing.stock_on_hand


# --- Receiving --------------------------------------------------------------------------------


def test_manager_receives_a_lot_and_stock_rises(manager, listing, households):
    response = manager.post(URL, new_lot(listing, households), format="json")
    assert response.status_code == 201, response.content
    lot = Lot.objects.get(pk=response.json()["id"])
    assert lot.quantity == Decimal("50")
    assert {(c.household_id, c.quantity) for c in lot.contributions.all()} == {
        (households[0].pk, Decimal("30")),
        (households[1].pk, Decimal("20")),
    }
    listing.refresh_from_db()
    assert listing.stock_on_hand == Decimal("150")


def test_receiving_a_lot_brings_a_sold_out_listing_back(manager, cooperative, households):
    listing = ListingFactory(cooperative=cooperative, stock_on_hand=0, status="sold_out")
    response = manager.post(URL, new_lot(listing, households), format="json")
    assert response.status_code == 201, response.content
    listing.refresh_from_db()
    assert listing.status == Listing.Status.ACTIVE
    assert listing.stock_on_hand == Decimal("50")


def test_receiving_a_lot_leaves_a_draft_a_draft(manager, cooperative, households):
    listing = ListingFactory(cooperative=cooperative, stock_on_hand=0, status="draft")
    response = manager.post(URL, new_lot(listing, households), format="json")
    assert response.status_code == 201, response.content
    listing.refresh_from_db()
    assert listing.status == Listing.Status.DRAFT
    assert listing.stock_on_hand == Decimal("50")


def test_staff_receives_a_lot_for_any_cooperative(staff, listing, households):
    response = staff.post(URL, new_lot(listing, households), format="json")
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    "contributions",
    [
        pytest.param([("0", "30"), ("1", "10")], id="short"),
        pytest.param([("0", "30"), ("1", "30")], id="over"),
    ],
)
def test_contributions_must_add_up_to_the_quantity(manager, listing, households, contributions):
    rows = [{"household": households[int(i)].pk, "quantity": q} for i, q in contributions]
    before = state(listing)
    response = manager.post(URL, new_lot(listing, households, contributions=rows), format="json")
    assert_error(response, 400, "validation_error", "contributions")
    assert state(listing) == before


def test_contributions_are_required(manager, listing, households):
    before = state(listing)
    response = manager.post(URL, new_lot(listing, households, contributions=[]), format="json")
    assert_error(response, 400, "validation_error", "contributions")
    assert state(listing) == before


def test_households_must_belong_to_the_listings_cooperative(
    manager, listing, households, other_cooperative
):
    outsider = HouseholdFactory(cooperative=other_cooperative)
    rows = [
        {"household": households[0].pk, "quantity": "30"},
        {"household": outsider.pk, "quantity": "20"},
    ]
    before = state(listing)
    response = manager.post(URL, new_lot(listing, households, contributions=rows), format="json")
    assert_error(response, 400, "validation_error", "contributions")
    assert state(listing) == before


def test_a_household_may_appear_only_once(manager, listing, households):
    rows = [
        {"household": households[0].pk, "quantity": "30"},
        {"household": households[0].pk, "quantity": "20"},
    ]
    before = state(listing)
    response = manager.post(URL, new_lot(listing, households, contributions=rows), format="json")
    assert_error(response, 400, "validation_error", "contributions")
    assert state(listing) == before


def test_duplicate_lot_code_is_409_and_adds_stock_once(manager, listing, households):
    assert manager.post(URL, new_lot(listing, households), format="json").status_code == 201
    after_first = state(listing)
    response = manager.post(URL, new_lot(listing, households), format="json")
    assert_error(response, 409, "conflict", "code")
    assert state(listing) == after_first
    assert after_first[2] == Decimal("150")


def test_same_lot_code_on_another_listing_is_fine(manager, cooperative, listing, households):
    assert manager.post(URL, new_lot(listing, households), format="json").status_code == 201
    second = ListingFactory(cooperative=cooperative)
    response = manager.post(URL, new_lot(second, households), format="json")
    assert response.status_code == 201, response.content


def test_future_harvest_date_is_400(manager, listing, households):
    tomorrow = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
    before = state(listing)
    response = manager.post(URL, new_lot(listing, households, harvest_date=tomorrow), format="json")
    assert_error(response, 400, "validation_error", "harvest_date")
    assert state(listing) == before


@pytest.mark.parametrize(
    ("field", "value", "error_field"),
    [
        ("quantity", "-50", "quantity"),
        ("quantity", "0", "quantity"),
        ("quantity", "1e400", "quantity"),
        ("quantity", "NaN", "quantity"),
        ("harvest_date", "2019-02-30", "harvest_date"),
        ("harvest_date", "1999-12-31", "harvest_date"),  # the schema's pattern says 2000 on
        ("harvest_date", 20190301, "harvest_date"),
        ("code", "x" * 41, "code"),
        ("listing", 99999999999999999999999, "listing"),
        ("contributions", [{"household": 99999999, "quantity": "50"}], "contributions.0.household"),
        ("contributions", [{"household": 1, "quantity": "-50"}], "contributions.0.quantity"),
    ],
)
def test_invalid_lot_values_are_400_naming_the_field(
    manager, listing, households, field, value, error_field
):
    data = new_lot(listing, households)
    data[field] = value
    before = state(listing)
    response = manager.post(URL, data, format="json")
    assert_error(response, 400, "validation_error", error_field)
    assert state(listing) == before


def test_manager_of_another_cooperative_gets_403(other_manager, listing, households):
    before = state(listing)
    response = other_manager.post(URL, new_lot(listing, households), format="json")
    assert_error(response, 403, "permission_denied")
    assert state(listing) == before


@pytest.mark.parametrize("role", ["buyer", "partner"])
def test_buyers_and_partners_cannot_receive_lots(request, role, listing, households):
    client = request.getfixturevalue(role)
    before = state(listing)
    assert_error(client.post(URL, new_lot(listing, households), format="json"), 403)
    assert state(listing) == before


def test_anonymous_gets_401(anon, listing, households):
    assert_error(anon.get(URL), 401)
    assert_error(anon.post(URL, new_lot(listing, households), format="json"), 401)


# --- Reading: who sees the households ---------------------------------------------------------


@pytest.fixture
def lot(listing, households):
    lot = LotFactory(listing=listing, quantity=Decimal("50"))
    LotContributionFactory(lot=lot, household=households[0], quantity=Decimal("30"))
    LotContributionFactory(lot=lot, household=households[1], quantity=Decimal("20"))
    return lot


@pytest.mark.parametrize("role", ["buyer", "partner", "other_manager"])
def test_outsiders_see_the_trace_in_aggregate_without_households(request, role, lot):
    client = request.getfixturevalue(role)
    response = client.get(f"{URL}{lot.pk}/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["household_count"] == 2
    assert body["villages"] == ["坝边村", "石屯村"]
    assert Decimal(body["poverty_list_quantity"]) == Decimal("20")
    assert body["households"] is None
    assert "王大山" not in response.content.decode()
    listed = client.get(URL).json()["results"]
    assert [row["households"] for row in listed] == [None]


@pytest.mark.parametrize("role", ["manager", "staff"])
def test_own_manager_and_staff_see_named_households(request, role, lot, households):
    client = request.getfixturevalue(role)
    body = client.get(f"{URL}{lot.pk}/").json()
    assert {
        (h["name"], h["village"], h["on_poverty_list"], Decimal(h["quantity"]))
        for h in body["households"]
    } == {
        ("王大山", "石屯村", False, Decimal("30")),
        ("李春花", "坝边村", True, Decimal("20")),
    }


def test_buyers_do_not_see_lots_of_hidden_listings(buyer, cooperative, households):
    draft = ListingFactory(cooperative=cooperative, status="draft")
    hidden = LotFactory(listing=draft)
    assert_error(buyer.get(f"{URL}{hidden.pk}/"), 404)
    assert buyer.get(URL).json()["results"] == []


# --- Correcting a lot -------------------------------------------------------------------------


def test_lot_patch_changes_notes(manager, lot):
    response = manager.patch(f"{URL}{lot.pk}/", {"notes": "槐花蜜"}, format="json")
    assert response.status_code == 200, response.content
    lot.refresh_from_db()
    assert lot.notes == "槐花蜜"


def test_lot_patch_cannot_change_quantity(manager, lot, listing):
    stock_before = Listing.objects.get(pk=listing.pk).stock_on_hand
    response = manager.patch(f"{URL}{lot.pk}/", {"quantity": "500", "code": "NEW"}, format="json")
    assert response.status_code == 200, response.content
    lot.refresh_from_db()
    assert lot.quantity == Decimal("50")
    assert lot.code != "NEW"
    assert Listing.objects.get(pk=listing.pk).stock_on_hand == stock_before


def test_lot_patch_by_other_manager_is_403(other_manager, lot):
    response = other_manager.patch(f"{URL}{lot.pk}/", {"notes": "x"}, format="json")
    assert_error(response, 403)
    lot.refresh_from_db()
    assert lot.notes != "x"


def test_lot_patch_future_harvest_date_is_400(manager, lot):
    future = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
    response = manager.patch(f"{URL}{lot.pk}/", {"harvest_date": future}, format="json")
    assert_error(response, 400, "validation_error", "harvest_date")


# --- Filtering by household is household data ----------------------------------------------------


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("staff", True),
        ("manager", True),
        ("other_manager", False),
        ("buyer", False),
        ("partner", False),
    ],
)
def test_only_who_may_see_households_can_filter_lots_by_household(request, role, sees, lot):
    """Which lots a household supplied would tell a buyer its village and poverty status."""
    household = lot.contributions.first().household_id
    response = request.getfixturevalue(role).get(f"{URL}?household={household}")
    assert response.status_code == 200
    ids = [item["id"] for item in response.json()["results"]]
    assert ids == ([lot.pk] if sees else [])
