"""Stock moves with the lifecycle: reserved at placing, released on short confirmation, reject
and cancel (picks undone), consumed at shipping; totals follow the quantity that counts, at the
unit prices placed, exact to the fen."""

from decimal import Decimal

import pytest

from orders.models import FulfilmentStatus, PickAllocation
from orders.services import transitions as services
from products.models import Listing
from tests.conftest import assert_error
from tests.factories import ListingFactory, LotFactory
from tests.factories import place_order as place

pytestmark = pytest.mark.django_db

S = FulfilmentStatus
ORDERS = "/api/v1/orders/"
FULFILMENTS = "/api/v1/fulfilments/"


@pytest.fixture
def listing(cooperative):
    """100 kg on hand, 68.00 from 10 kg, 60.00 from 100 kg; one lot covers it all."""
    listing = ListingFactory(cooperative=cooperative)
    LotFactory(listing=listing, quantity=Decimal("100"))
    return listing


def stock(listing) -> tuple[Decimal, Decimal]:
    listing.refresh_from_db()
    return listing.stock_on_hand, listing.stock_reserved


def one_part(order):
    return order.fulfilments.get()


# --- Placing ----------------------------------------------------------------------------------


def test_placing_reserves_every_line(purchaser_user, store, listing, other_cooperative):
    other = ListingFactory(cooperative=other_cooperative)
    place(purchaser_user, store, (listing, "30"), (other, "45"))
    assert stock(listing) == (Decimal("100"), Decimal("30"))
    assert stock(other) == (Decimal("100"), Decimal("45"))


# --- Confirming short -------------------------------------------------------------------------


def test_short_confirmation_releases_the_difference(purchaser_user, manager_user, store, listing):
    order = place(purchaser_user, store, (listing, "30"))
    line = order.lines.get()
    services.fulfilment_confirm(
        fulfilment=one_part(order), user=manager_user, quantities={line.pk: Decimal("20")}
    )
    assert stock(listing) == (Decimal("100"), Decimal("20"))


def test_full_confirmation_keeps_the_reservation(purchaser_user, manager_user, store, listing):
    order = place(purchaser_user, store, (listing, "30"))
    services.fulfilment_confirm(fulfilment=one_part(order), user=manager_user)
    assert stock(listing) == (Decimal("100"), Decimal("30"))


def test_buyer_sees_the_adjusted_total_at_the_placed_unit_prices_to_the_fen(
    purchaser, manager, purchaser_user, store, cooperative, other_cooperative
):
    """Confirmed short: 12.5 kg at 10.01 is 125.125, i.e. 125.13 (halves up); 95 of 100 kg
    keeps the 100 kg tier's 60.00 although 95 kg alone would cost 68.00; the other
    cooperative's part is untouched."""
    odd = ListingFactory(
        cooperative=cooperative, order_increment=Decimal("0.5"), tiers=[("10", "10.01")]
    )
    bulk = ListingFactory(cooperative=cooperative)
    theirs = ListingFactory(cooperative=other_cooperative)
    order = place(purchaser_user, store, (odd, "20"), (bulk, "100"), (theirs, "30"))
    assert order.total == Decimal("8240.20")  # 200.20 + 6000.00 + 2040.00
    part = order.fulfilments.get(cooperative=cooperative)
    odd_line, bulk_line = order.lines.get(listing=odd), order.lines.get(listing=bulk)

    response = manager.post(
        f"{FULFILMENTS}{part.pk}/confirm/",
        {
            "lines": [
                {"line": odd_line.pk, "quantity": "12.5"},
                {"line": bulk_line.pk, "quantity": "95"},
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["subtotal"] == "5825.13"

    seen = purchaser.get(f"{ORDERS}{order.pk}/").json()
    assert seen["total"] == "7865.13"
    mine = next(f for f in seen["fulfilments"] if f["id"] == part.pk)
    other = next(f for f in seen["fulfilments"] if f["id"] != part.pk)
    assert (mine["status"], mine["subtotal"], other["subtotal"]) == (
        S.CONFIRMED,
        "5825.13",
        "2040.00",
    )
    lines = {line["id"]: line for line in mine["lines"]}
    assert lines[odd_line.pk]["unit_price"] == "10.01"
    assert lines[odd_line.pk]["confirmed_quantity"] == "12.500"
    assert lines[odd_line.pk]["line_total"] == "125.13"
    assert lines[bulk_line.pk]["unit_price"] == "60.00"
    assert lines[bulk_line.pk]["line_total"] == "5700.00"
    assert stock(odd)[1] == Decimal("12.5")
    assert stock(bulk)[1] == Decimal("95")


@pytest.mark.parametrize("quantity", ["31", "-1"])
def test_confirming_outside_the_ordered_quantity_is_400_and_moves_nothing(
    manager, purchaser_user, store, listing, quantity
):
    order = place(purchaser_user, store, (listing, "30"))
    response = manager.post(
        f"{FULFILMENTS}{one_part(order).pk}/confirm/",
        {"lines": [{"line": order.lines.get().pk, "quantity": quantity}]},
        format="json",
    )
    assert_error(response, 400, "validation_error")
    assert one_part(order).status == S.PLACED
    assert stock(listing) == (Decimal("100"), Decimal("30"))


def test_confirming_nothing_is_400_reject_instead(manager, purchaser_user, store, listing):
    order = place(purchaser_user, store, (listing, "30"))
    response = manager.post(
        f"{FULFILMENTS}{one_part(order).pk}/confirm/",
        {"lines": [{"line": order.lines.get().pk, "quantity": "0"}]},
        format="json",
    )
    assert_error(response, 400, "validation_error", field="lines")
    assert stock(listing) == (Decimal("100"), Decimal("30"))


# --- Reject and cancel ------------------------------------------------------------------------


def test_reject_releases_everything_and_the_part_counts_for_nothing(
    manager, purchaser_user, store, listing, other_cooperative
):
    theirs = ListingFactory(cooperative=other_cooperative)
    order = place(purchaser_user, store, (listing, "30"), (theirs, "30"))
    part = order.fulfilments.get(cooperative=listing.cooperative)
    response = manager.post(
        f"{FULFILMENTS}{part.pk}/reject/", {"reason": "蜂蜜不足"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["subtotal"] == "0.00"
    assert stock(listing) == (Decimal("100"), Decimal("0"))
    assert stock(theirs) == (Decimal("100"), Decimal("30"))
    order.refresh_from_db()
    assert order.total == Decimal("2040.00")


def test_reject_needs_a_reason(manager, purchaser_user, store, listing):
    order = place(purchaser_user, store, (listing, "30"))
    response = manager.post(
        f"{FULFILMENTS}{one_part(order).pk}/reject/", {"reason": " "}, format="json"
    )
    assert_error(response, 400, "validation_error", field="reason")
    assert stock(listing) == (Decimal("100"), Decimal("30"))


def test_buyer_cancel_releases_everything(purchaser, purchaser_user, store, listing):
    order = place(purchaser_user, store, (listing, "30"))
    response = purchaser.post(f"{ORDERS}{order.pk}/cancel/", {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["total"] == "0.00"
    assert stock(listing) == (Decimal("100"), Decimal("0"))


def test_staff_cancel_after_short_confirmation_releases_what_is_still_held(
    staff, purchaser_user, manager_user, store, listing
):
    order = place(purchaser_user, store, (listing, "30"))
    services.fulfilment_confirm(
        fulfilment=one_part(order),
        user=manager_user,
        quantities={order.lines.get().pk: Decimal("20")},
    )
    response = staff.post(f"{ORDERS}{order.pk}/cancel/", {"reason": "客户撤单"}, format="json")
    assert response.status_code == 200, response.content
    assert stock(listing) == (Decimal("100"), Decimal("0"))


def test_staff_cancel_after_packing_releases_stock_and_undoes_the_picks(
    staff, purchaser_user, manager_user, store, cooperative
):
    listing = ListingFactory(cooperative=cooperative)
    old = LotFactory(listing=listing, quantity=Decimal("20"), harvest_date="2025-09-01")
    new = LotFactory(listing=listing, quantity=Decimal("80"), harvest_date="2025-10-01")
    order = place(purchaser_user, store, (listing, "30"))
    part = one_part(order)
    services.fulfilment_confirm(fulfilment=part, user=manager_user)
    services.fulfilment_pack(fulfilment=part, user=manager_user)
    old.refresh_from_db(), new.refresh_from_db()
    assert (old.quantity_picked, new.quantity_picked) == (Decimal("20"), Decimal("10"))

    response = staff.post(f"{FULFILMENTS}{part.pk}/cancel/", {"reason": "冷链故障"}, format="json")
    assert response.status_code == 200, response.content
    old.refresh_from_db(), new.refresh_from_db()
    assert (old.quantity_picked, new.quantity_picked) == (Decimal("0"), Decimal("0"))
    assert not PickAllocation.objects.filter(line__order=order).exists()
    assert stock(listing) == (Decimal("100"), Decimal("0"))


def test_a_refused_cancel_moves_no_stock(purchaser, purchaser_user, manager_user, store, listing):
    order = place(purchaser_user, store, (listing, "30"))
    services.fulfilment_confirm(fulfilment=one_part(order), user=manager_user)
    response = purchaser.post(f"{ORDERS}{order.pk}/cancel/", {}, format="json")
    assert_error(response, 409, "illegal_transition")
    assert stock(listing) == (Decimal("100"), Decimal("30"))


# --- Shipping ---------------------------------------------------------------------------------


def test_ship_consumes_the_confirmed_quantity(
    manager, purchaser_user, other_purchaser_user, manager_user, store, other_store, listing
):
    order = place(purchaser_user, store, (listing, "30"))
    place(other_purchaser_user, other_store, (listing, "20"))  # another order's reservation
    part = one_part(order)
    services.fulfilment_confirm(
        fulfilment=part, user=manager_user, quantities={order.lines.get().pk: Decimal("25")}
    )
    services.fulfilment_pack(fulfilment=part, user=manager_user)
    assert stock(listing) == (Decimal("100"), Decimal("45"))
    response = manager.post(f"{FULFILMENTS}{part.pk}/ship/", {}, format="json")
    assert response.status_code == 200, response.content
    assert stock(listing) == (Decimal("75"), Decimal("20"))


def test_ship_then_refused_cancel_leaves_stock_consumed(
    staff, purchaser_user, manager_user, store, listing
):
    order = place(purchaser_user, store, (listing, "30"))
    part = one_part(order)
    for move in (services.fulfilment_confirm, services.fulfilment_pack, services.fulfilment_ship):
        move(fulfilment=part, user=manager_user)
    response = staff.post(f"{FULFILMENTS}{part.pk}/cancel/", {}, format="json")
    assert_error(response, 409, "illegal_transition")
    assert stock(listing) == (Decimal("70"), Decimal("0"))


# --- Delivery ---------------------------------------------------------------------------------


@pytest.fixture
def shipped(purchaser_user, manager_user, store, cooperative):
    """A shipped part: 20 kg at 10.01 (200.20), confirmed in full."""
    listing = ListingFactory(
        cooperative=cooperative, order_increment=Decimal("0.5"), tiers=[("10", "10.01")]
    )
    LotFactory(listing=listing, quantity=Decimal("100"))
    order = place(purchaser_user, store, (listing, "20"))
    part = one_part(order)
    for move in (services.fulfilment_confirm, services.fulfilment_pack, services.fulfilment_ship):
        move(fulfilment=part, user=manager_user)
    return part


def deliver(client, part, accepted: str, note: str | None = None):
    line = {"line": part.lines.get().pk, "accepted_quantity": accepted}
    if note is not None:
        line["note"] = note
    return client.post(f"{FULFILMENTS}{part.pk}/deliver/", {"lines": [line]}, format="json")


@pytest.mark.parametrize("note", [None, "", "   "])
def test_accepting_less_without_a_note_is_400(purchaser, shipped, note):
    response = deliver(purchaser, shipped, "12.5", note)
    assert_error(response, 400, "validation_error", field="lines")
    shipped.refresh_from_db()
    assert shipped.status == S.SHIPPED
    assert shipped.lines.get().accepted_quantity is None


def test_accepting_more_than_confirmed_is_400(purchaser, shipped):
    assert_error(deliver(purchaser, shipped, "20.5", "多送了"), 400, "validation_error")


def test_totals_follow_the_accepted_quantities_to_the_fen(purchaser, shipped):
    listing = shipped.lines.get().listing
    before = stock(listing)
    response = deliver(purchaser, shipped, "12.5", "7.5 kg 破损")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == S.DELIVERED
    assert body["subtotal"] == "125.13"  # 12.5 × 10.01 = 125.125, halves up
    line = body["lines"][0]
    assert (line["accepted_quantity"], line["delivery_note"], line["line_total"]) == (
        "12.500",
        "7.5 kg 破损",
        "125.13",
    )
    assert purchaser.get(f"{ORDERS}{shipped.order_id}/").json()["total"] == "125.13"
    assert stock(listing) == before  # the goods left at shipping; delivery moves no stock


def test_accepting_everything_needs_no_note(purchaser, shipped):
    response = purchaser.post(f"{FULFILMENTS}{shipped.pk}/deliver/", {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["subtotal"] == "200.20"
    assert response.json()["lines"][0]["accepted_quantity"] == "20.000"


# --- Sold out and back ------------------------------------------------------------------------


def _buyer_cancels(order, users):
    services.order_cancel(order=order, user=users["purchaser"])


def _cooperative_rejects(order, users):
    services.fulfilment_reject(fulfilment=one_part(order), user=users["manager"], reason="x")


def _confirmed_short(order, users):
    line = order.lines.get()
    services.fulfilment_confirm(
        fulfilment=one_part(order), user=users["manager"], quantities={line.pk: Decimal("90")}
    )


def _staff_cancels_after_packing(order, users):
    services.fulfilment_confirm(fulfilment=one_part(order), user=users["manager"])
    services.fulfilment_pack(fulfilment=one_part(order), user=users["manager"])
    services.order_cancel(order=order, user=users["staff"])


def _reservation_expires(order, users):
    services.fulfilment_cancel(fulfilment=one_part(order), user=None, reason="expired")


@pytest.mark.parametrize(
    "release",
    [
        _buyer_cancels,
        _cooperative_rejects,
        _confirmed_short,
        _staff_cancels_after_packing,
        _reservation_expires,
    ],
)
def test_a_sold_out_listing_is_active_again_when_stock_is_released(
    purchaser_user, manager_user, staff_user, store, listing, release
):
    order = place(purchaser_user, store, (listing, "100"))
    listing.refresh_from_db()
    assert listing.status == Listing.Status.SOLD_OUT
    release(order, {"purchaser": purchaser_user, "manager": manager_user, "staff": staff_user})
    listing.refresh_from_db()
    assert listing.status == Listing.Status.ACTIVE
    assert listing.available_quantity > 0


def test_shipping_the_last_kilos_keeps_the_listing_sold_out(
    purchaser_user, manager_user, store, listing
):
    order = place(purchaser_user, store, (listing, "100"))
    part = one_part(order)
    for move in (services.fulfilment_confirm, services.fulfilment_pack, services.fulfilment_ship):
        move(fulfilment=part, user=manager_user)
    listing.refresh_from_db()
    assert (listing.status, listing.stock_on_hand, listing.stock_reserved) == (
        Listing.Status.SOLD_OUT,
        Decimal("0"),
        Decimal("0"),
    )


def test_shipping_one_part_leaves_the_other_parts_reservation(
    purchaser_user, manager_user, store, listing, other_cooperative
):
    theirs = ListingFactory(cooperative=other_cooperative)
    LotFactory(listing=theirs, quantity=Decimal("100"))
    order = place(purchaser_user, store, (listing, "30"), (theirs, "40"))
    mine = order.fulfilments.get(cooperative=listing.cooperative)
    services.fulfilment_confirm(fulfilment=mine, user=manager_user)
    services.fulfilment_pack(fulfilment=mine, user=manager_user)
    services.fulfilment_ship(fulfilment=mine, user=manager_user)
    assert stock(listing) == (Decimal("70"), Decimal("0"))
    assert stock(theirs) == (Decimal("100"), Decimal("40"))


@pytest.fixture
def world_for_delivery_issue(purchaser, shipped):
    return purchaser, shipped, shipped.lines.get()


def test_a_quality_rejection_is_recorded_as_such(world_for_delivery_issue):
    buyer, fulfilment, line = world_for_delivery_issue
    response = buyer.post(
        f"/api/v1/fulfilments/{fulfilment.pk}/deliver/",
        {
            "lines": [
                {
                    "line": line.pk,
                    "accepted_quantity": "15",
                    "issue": "quality",
                    "note": "5 kg 结晶发酵 fermented",
                }
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    (row,) = response.json()["lines"]
    assert row["delivery_issue"] == "quality"
    assert row["accepted_quantity"] == "15.000"


def test_less_accepted_without_a_kind_is_a_shortfall(world_for_delivery_issue):
    buyer, fulfilment, line = world_for_delivery_issue
    response = buyer.post(
        f"/api/v1/fulfilments/{fulfilment.pk}/deliver/",
        {"lines": [{"line": line.pk, "accepted_quantity": "18", "note": "2 kg 未到 missing"}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["lines"][0]["delivery_issue"] == "shortfall"


def test_an_issue_on_a_line_accepted_in_full_is_refused(world_for_delivery_issue):
    buyer, fulfilment, line = world_for_delivery_issue
    response = buyer.post(
        f"/api/v1/fulfilments/{fulfilment.pk}/deliver/",
        {"lines": [{"line": line.pk, "accepted_quantity": "20", "issue": "quality"}]},
        format="json",
    )
    assert_error(response, 400, "validation_error", field="lines")
