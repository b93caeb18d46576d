"""Input that should be refused is refused, with a 400 naming the field: ids that are not
whole numbers, digits of other scripts, dates out of range, a line named twice."""

import datetime
from decimal import Decimal
from importlib import import_module

import pytest
from django.db import IntegrityError
from django.utils import timezone
from rest_framework import serializers as drf

from backend import serializers as strict
from orders.models import FulfilmentStatus, Order
from products.models import Lot
from tests.conftest import assert_error
from tests.factories import (
    HouseholdFactory,
    ListingFactory,
    LotContributionFactory,
    LotFactory,
    place_order,
)

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"accounts", "suppliers", "buyers", "products", "orders", "backend"}
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def days(n: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=n)).isoformat()


@pytest.fixture
def listing(cooperative):
    return ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("1000"))


def order_body(to_store, listing, **overrides):
    return {"store": to_store.pk, "lines": [{"listing": listing.pk, "quantity": "10"}], **overrides}


def lot_body(listing, household, **overrides):
    return {
        "listing": listing.pk,
        "code": "LOT-1",
        "harvest_date": days(-3),
        "quantity": "10",
        "contributions": [{"household": household.pk, "quantity": "10"}],
        **overrides,
    }


# --- Ids are whole numbers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "store_id",
    [
        lambda pk: pk + 0.5,  # int() rounded it down to the store
        lambda pk: f"{pk}.5",
        lambda pk: str(pk).translate(FULL_WIDTH),
        lambda pk: True,
        lambda pk: [pk],
        lambda pk: {"id": pk},
    ],
)
def test_store_id_must_be_an_integer(purchaser, store, listing, store_id):
    body = order_body(store, listing, store=store_id(store.pk))
    response = purchaser.post("/api/v1/orders/", body, format="json")
    assert_error(response, 400, "validation_error", field="store")
    assert not Order.objects.exists()


def test_an_id_given_as_a_string_of_ascii_digits_is_still_fine(purchaser, store, listing):
    body = order_body(store, listing, store=str(store.pk))
    assert purchaser.post("/api/v1/orders/", body, format="json").status_code == 201


def test_an_id_past_bigint_in_a_transition_body_is_400(manager, purchaser_user, store, listing):
    part = place_order(purchaser_user, store, (listing, "10")).fulfilments.get()
    body = {"lines": [{"line": 10**30, "quantity": "1"}]}
    response = manager.post(f"/api/v1/fulfilments/{part.pk}/confirm/", body, format="json")
    assert_error(response, 400, "validation_error", field="lines.0.line")


# --- Digits of other scripts ---------------------------------------------------------------------


def test_full_width_quantity_in_an_order_is_400(purchaser, store, listing):
    body = order_body(store, listing, lines=[{"listing": listing.pk, "quantity": "１０"}])
    response = purchaser.post("/api/v1/orders/", body, format="json")
    assert_error(response, 400, "validation_error", field="lines.0.quantity")
    assert not Order.objects.exists()


@pytest.mark.parametrize("quantity", ["１０", "٣٠", "१०", "10.５"])
def test_other_scripts_digits_in_a_lot_are_400(manager, cooperative, listing, quantity):
    household = HouseholdFactory(cooperative=cooperative)
    body = lot_body(listing, household, quantity=quantity)
    assert_error(manager.post("/api/v1/lots/", body, format="json"), 400, field="quantity")
    assert not Lot.objects.exists()


def test_full_width_tier_price_and_lead_time_in_a_listing_are_400(manager, cooperative, listing):
    body = {
        "cooperative": cooperative.pk,
        "product": listing.product_id,
        "grade": "special",
        "min_order_quantity": "10",
        "order_increment": "5",
        "tiers": [{"min_quantity": "10", "unit_price": "６８.00"}],
        "lead_time_days": "３",
    }
    error = assert_error(manager.post("/api/v1/listings/", body, format="json"), 400)
    assert {"tiers.0.unit_price", "lead_time_days"} <= set(error["fields"])


def test_full_width_weekday_in_a_standing_order_is_400(purchaser, store, listing):
    body = {
        "store": store.pk,
        "weekday": "１",
        "lines": [{"listing": listing.pk, "quantity": "10"}],
    }
    response = purchaser.post("/api/v1/standing-orders/", body, format="json")
    assert_error(response, 400, field="weekday")


def test_full_width_date_in_a_negotiated_price_is_400(manager, listing, organisation):
    body = {
        "listing": listing.pk,
        "organisation": organisation.pk,
        "valid_from": "２０２６-01-01",
        "valid_until": days(30),
        "tiers": [{"min_quantity": "10", "unit_price": "60.00"}],
    }
    response = manager.post("/api/v1/negotiated-prices/", body, format="json")
    assert_error(response, 400, field="valid_from")


def test_full_width_quantity_confirming_short_is_400(manager, purchaser_user, store, listing):
    order = place_order(purchaser_user, store, (listing, "20"))
    part, line = order.fulfilments.get(), order.lines.get()
    body = {"lines": [{"line": line.pk, "quantity": "１０"}]}
    response = manager.post(f"/api/v1/fulfilments/{part.pk}/confirm/", body, format="json")
    assert_error(response, 400, field="lines.0.quantity")
    part.refresh_from_db()
    assert part.status == FulfilmentStatus.PLACED


def _writable_fields(serializer, prefix=""):
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        child = getattr(field, "child", None) or getattr(field, "child_relation", None)
        target = child if child is not None else field
        if isinstance(target, drf.Serializer):
            yield from _writable_fields(target, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", target


def _project_serializers(cls=drf.Serializer):
    for sub in cls.__subclasses__():
        if sub.__module__.split(".")[0] in PROJECT_APPS and sub.__module__ != strict.__name__:
            yield sub
        yield from _project_serializers(sub)


def test_every_number_date_and_id_input_of_the_api_is_strict():
    """Every integer, decimal, date and id a serializer of the project takes uses the strict
    fields of backend.serializers, so a new endpoint cannot bring DRF's lenient ones back."""
    import_module("backend.urls")  # every view, so every serializer, is imported
    loose, seen = [], 0
    for cls in set(_project_serializers()):
        for name, field in _writable_fields(cls()):
            if isinstance(field, strict.LOOSE_FIELDS):
                seen += 1
                if not isinstance(field, strict.STRICT_FIELDS):
                    loose.append(f"{cls.__module__}.{cls.__name__}.{name}: {type(field).__name__}")
    assert seen > 20
    assert loose == []


def test_every_serializer_of_the_api_makes_nested_list_items_whole():
    """Every serializer of the project builds on backend.serializers' Serializer or
    ModelSerializer, so an item of a nested list is whole in a PATCH too; a new serializer on
    DRF's base classes would bring the KeyError back."""
    import_module("backend.urls")
    classes = set(_project_serializers())
    assert len(classes) > 20
    assert (
        sorted(
            f"{cls.__module__}.{cls.__name__}"
            for cls in classes
            if not issubclass(cls, strict.WholeItemMixin)
        )
        == []
    )


# --- Dates in range ------------------------------------------------------------------------------


def test_a_delivery_date_over_a_year_ahead_is_400(purchaser, store, listing):
    body = order_body(store, listing, requested_delivery_date=days(367))
    response = purchaser.post("/api/v1/orders/", body, format="json")
    assert_error(response, 400, field="requested_delivery_date")
    assert not Order.objects.exists()


def test_a_delivery_date_far_in_the_future_is_400(purchaser, store, listing):
    body = order_body(store, listing, requested_delivery_date="9999-12-31")
    response = purchaser.post("/api/v1/orders/", body, format="json")
    assert_error(response, 400, field="requested_delivery_date")


def test_a_delivery_date_a_year_ahead_is_fine(purchaser, store, listing):
    body = order_body(store, listing, requested_delivery_date=days(365))
    assert purchaser.post("/api/v1/orders/", body, format="json").status_code == 201


@pytest.mark.parametrize("harvest_date", ["0001-01-01", "1999-12-31"])
def test_a_lot_harvested_before_2000_is_400(manager, cooperative, listing, harvest_date):
    household = HouseholdFactory(cooperative=cooperative)
    body = lot_body(listing, household, harvest_date=harvest_date)
    assert_error(manager.post("/api/v1/lots/", body, format="json"), 400, field="harvest_date")
    listing.refresh_from_db()
    assert listing.stock_on_hand == Decimal("1000")


def test_a_lot_harvested_tomorrow_is_400(manager, cooperative, listing):
    household = HouseholdFactory(cooperative=cooperative)
    body = lot_body(listing, household, harvest_date=days(1))
    assert_error(manager.post("/api/v1/lots/", body, format="json"), 400, field="harvest_date")


def test_a_lot_harvested_in_2000_is_received(manager, cooperative, listing):
    household = HouseholdFactory(cooperative=cooperative)
    body = lot_body(listing, household, harvest_date="2000-01-01")
    assert manager.post("/api/v1/lots/", body, format="json").status_code == 201


def test_correcting_a_lot_to_year_1_is_400(manager, listing):
    lot = LotFactory(listing=listing)
    response = manager.patch(
        f"/api/v1/lots/{lot.pk}/", {"harvest_date": "0001-01-01"}, format="json"
    )
    assert_error(response, 400, field="harvest_date")


def test_the_database_refuses_a_lot_harvested_before_2000(listing):
    with pytest.raises(IntegrityError):
        LotFactory(listing=listing, harvest_date=datetime.date(1, 1, 1))


# --- Each line once ------------------------------------------------------------------------------


@pytest.fixture
def part_with_line(purchaser_user, store, listing):
    LotContributionFactory(lot=LotFactory(listing=listing, quantity=Decimal("50")))
    order = place_order(purchaser_user, store, (listing, "30"))
    return order.fulfilments.get(), order.lines.get()


def test_confirm_naming_a_line_twice_is_400(manager, part_with_line):
    part, line = part_with_line
    body = {"lines": [{"line": line.pk, "quantity": "10"}, {"line": line.pk, "quantity": "30"}]}
    response = manager.post(f"/api/v1/fulfilments/{part.pk}/confirm/", body, format="json")
    assert_error(response, 400, "validation_error", field="lines.1.line")
    part.refresh_from_db()
    line.refresh_from_db()
    assert part.status == FulfilmentStatus.PLACED
    assert line.confirmed_quantity is None


def test_deliver_naming_a_line_twice_is_400(manager, purchaser, part_with_line):
    part, line = part_with_line
    for action in ("confirm", "pack", "ship"):
        response = manager.post(f"/api/v1/fulfilments/{part.pk}/{action}/", {}, format="json")
        assert response.status_code == 200, response.content
    body = {
        "lines": [
            {"line": line.pk, "accepted_quantity": "10", "note": "short"},
            {"line": line.pk, "accepted_quantity": "30"},
        ]
    }
    response = purchaser.post(f"/api/v1/fulfilments/{part.pk}/deliver/", body, format="json")
    assert_error(response, 400, "validation_error", field="lines.1.line")
    part.refresh_from_db()
    line.refresh_from_db()
    assert part.status == FulfilmentStatus.SHIPPED
    assert line.accepted_quantity is None


# --- Nested items are whole, even in a PATCH -----------------------------------------------------


@pytest.mark.parametrize("tier", [{"min_quantity": "10"}, {"unit_price": "60.00"}, {}])
def test_a_patched_tier_table_needs_whole_tiers(manager, listing, tier):
    """PATCH skipped the required check of nested fields too (DRF's partial reaches them),
    and the listing service then failed on the missing key: a 500."""
    response = manager.patch(f"/api/v1/listings/{listing.pk}/", {"tiers": [tier]}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert any(name.startswith("tiers.0") for name in error["fields"]), error
    assert listing.tiers.count() == 2


@pytest.mark.parametrize(
    "line", [{"quantity": "60"}, {"listing": 1}, {}], ids=["no listing", "no quantity", "empty"]
)
def test_patched_standing_order_lines_need_whole_lines(purchaser, store, listing, line):
    """Found by the malformed-request corpus: the same PATCH gap in standing-order lines was a
    KeyError in the service (a 500). Every nested list item of the API is whole now."""
    created = purchaser.post(
        "/api/v1/standing-orders/",
        {
            "store": store.pk,
            "weekday": 0,
            "lead_days": 7,
            "lines": [{"listing": listing.pk, "quantity": "50"}],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    url = f"/api/v1/standing-orders/{created.json()['id']}/"
    response = purchaser.patch(url, {"lines": [line]}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert any(name.startswith("lines.0") for name in error["fields"]), error


@pytest.mark.parametrize("value", ["0001-01-01", "0001-01-01T00:00:00"])
def test_a_date_time_at_the_edge_of_the_calendar_is_400_not_an_overflow(value):
    """DRF moves a date-time to the server's zone (Asia/Shanghai): year 1 overflowed (a 500
    on a shipment's delivery window). The strict field refuses it, naming the field."""
    field = strict.DateTimeField()
    field.bind("window_start", strict.Serializer())
    with pytest.raises(strict.ValidationError):
        field.run_validation(value)
