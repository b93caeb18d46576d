"""Standing orders through the API: lines are checked as the buyer sees listings, on creating
and on updating alike, and a standing order is deactivated, never deleted, so its run
history stays."""

import datetime

import pytest
from django.db.models import ProtectedError
from django.utils import timezone

from orders.models import StandingOrder, StandingOrderRun
from orders.services.standing import standing_order_run, standing_orders_place_due
from products.models import Listing
from tests.conftest import assert_error
from tests.factories import ListingFactory
from tests.languages import said
from tests.orders.test_standing import make_standing

URL = "/api/v1/standing-orders/"


@pytest.fixture
def listing(cooperative):
    return ListingFactory(cooperative=cooperative)


def run_today(standing):
    return standing_order_run(standing=standing, period=timezone.localdate())


# --- Lines checked as the buyer sees them, on create and on update ---------------------------


def body(store, *lines, **extra):
    return {
        "store": store.pk,
        "weekday": 0,
        "lead_days": 2,
        "lines": [{"listing": listing_id, "quantity": q} for listing_id, q in lines],
        **extra,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Listing.Status.DRAFT, Listing.Status.PAUSED])
def test_a_listing_the_buyer_cannot_see_is_refused_like_a_missing_one(
    purchaser, purchaser_user, store, cooperative, status, request_language
):
    hidden = ListingFactory(cooperative=cooperative, status=status)
    missing_id = hidden.pk + 1000

    seen = assert_error(purchaser.post(URL, body(store, (hidden.pk, "50")), format="json"), 400)
    missing = assert_error(purchaser.post(URL, body(store, (missing_id, "50")), format="json"), 400)

    no_listing = "There is no listing %(listing)s."
    assert seen["fields"] == {
        "lines.0.listing": [said(request_language, no_listing, listing=hidden.pk)]
    }
    assert missing["fields"] == {
        "lines.0.listing": [said(request_language, no_listing, listing=missing_id)]
    }
    assert (seen["code"], seen["message"]) == (missing["code"], missing["message"])
    assert not StandingOrder.objects.exists()


@pytest.mark.django_db
def test_a_listing_needing_more_lead_days_is_refused_with_the_minimum(
    purchaser, store, cooperative, request_language
):
    slow = ListingFactory(cooperative=cooperative, lead_time_days=5)

    error = assert_error(
        purchaser.post(URL, body(store, (slow.pk, "50"), lead_days=2), format="json"), 400
    )

    assert list(error["fields"]) == ["lines.0.listing"]
    assert error["fields"]["lines.0.listing"] == [
        said(
            request_language,
            "This listing needs %(minimum)s days to prepare: give the standing order at least "
            "%(minimum)s lead days.",
            minimum=5,
        )
    ]
    assert not StandingOrder.objects.exists()
    response = purchaser.post(URL, body(store, (slow.pk, "50"), lead_days=5), format="json")
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_a_quantity_the_listing_does_not_sell_is_refused(purchaser, store, listing):
    error = assert_error(purchaser.post(URL, body(store, (listing.pk, "12")), format="json"), 400)

    assert list(error["fields"]) == ["lines.0.quantity"]


@pytest.mark.django_db
def test_updating_checks_lines_and_lead_days_as_creating_does(
    purchaser, purchaser_user, store, cooperative, listing, request_language
):
    slow = ListingFactory(cooperative=cooperative, lead_time_days=3)
    draft = ListingFactory(cooperative=cooperative, status=Listing.Status.DRAFT)
    standing = make_standing(purchaser_user, store, (slow, "50"), lead_days=3)
    at = f"{URL}{standing.pk}/"

    assert_error(purchaser.patch(at, {"lead_days": 1}, format="json"), 400, field="lines.0.listing")
    hidden = {"lines": [{"listing": draft.pk, "quantity": "50"}]}
    error = assert_error(purchaser.patch(at, hidden, format="json"), 400)
    assert error["fields"] == {
        "lines.0.listing": [
            said(request_language, "There is no listing %(listing)s.", listing=draft.pk)
        ]
    }
    standing.refresh_from_db()
    assert standing.lead_days == 3
    assert list(standing.lines.values_list("listing_id", flat=True)) == [slow.pk]

    new_lines = {"lines": [{"listing": listing.pk, "quantity": "20"}], "lead_days": 1}
    response = purchaser.patch(at, new_lines, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["lines"] == [{"listing": listing.pk, "quantity": "20.000"}]


@pytest.mark.django_db
@pytest.mark.parametrize("line", [{"quantity": "20"}, {"listing": 1}, {}])
def test_a_patch_with_a_line_missing_a_field_is_a_400_naming_it(
    purchaser, purchaser_user, store, listing, line
):
    """PATCH is partial for the standing order, never for a line of the table it replaces
    (the fuzz found a 500: a line without its listing reached the service)."""
    standing = make_standing(purchaser_user, store, (listing, "50"))
    response = purchaser.patch(f"{URL}{standing.pk}/", {"lines": [line]}, format="json")
    error = assert_error(response, 400)
    missing = {"listing", "quantity"} - set(line)
    assert set(error["fields"]) == {f"lines.0.{name}" for name in missing}
    assert list(standing.lines.values_list("quantity", flat=True)) == [50]


# --- Deactivated, never deleted --------------------------------------------------------------


@pytest.mark.django_db
def test_delete_deactivates_and_keeps_the_run_history(purchaser, purchaser_user, store, listing):
    standing = make_standing(purchaser_user, store, (listing, "50"))
    run = run_today(standing)

    response = purchaser.delete(f"{URL}{standing.pk}/")

    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is False
    assert response.json()["stopped_reason"]
    standing.refresh_from_db()
    assert standing.is_active is False
    assert standing.runs.get() == run
    assert standing_orders_place_due(today=timezone.localdate() + datetime.timedelta(7)) == 0


@pytest.mark.django_db
def test_the_database_refuses_to_delete_a_standing_order_with_runs(purchaser_user, store, listing):
    standing = make_standing(purchaser_user, store, (listing, "50"))
    run_today(standing)

    with pytest.raises(ProtectedError):
        standing.delete()
    assert StandingOrderRun.objects.filter(standing_order_id=standing.pk).exists()


@pytest.mark.django_db
def test_the_admin_neither_deletes_a_standing_order_nor_sets_its_cap(
    client, staff_user, purchaser_user, store, listing
):
    standing = make_standing(purchaser_user, store, (listing, "50"))
    client.force_login(staff_user)

    assert client.get(f"/admin/orders/standingorder/{standing.pk}/delete/").status_code == 403
    page = client.get(f"/admin/orders/standingorder/{standing.pk}/change/")
    assert page.status_code == 200
    assert 'name="approved_cap"' not in page.content.decode()
    assert StandingOrder.objects.filter(pk=standing.pk).exists()
