"""Placing an order (orders.services.placement and POST /api/v1/orders/): every line checked
against its listing, priced by the tier it reaches (negotiated first), split per cooperative,
and its stock reserved all or nothing."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from backend.errors import Forbidden
from backend.money import round_fen
from orders.models import Fulfilment, FulfilmentStatus, Order, OrderLine
from orders.services.placement import (
    InsufficientStock,
    LineRequest,
    order_place,
)
from products.models import Listing, PriceTier, quantity_text
from products.services import negotiated_price_create
from tests.conftest import assert_error
from tests.factories import CooperativeFactory, ListingFactory
from tests.languages import said

D = Decimal
URL = "/api/v1/orders/"
FULFILMENTS = "/api/v1/fulfilments/"
NEGOTIATED = "/api/v1/negotiated-prices/"


def body(store, *lines, **extra) -> dict:
    return {
        "store": store.pk,
        "lines": [{"listing": listing.pk, "quantity": str(q)} for listing, q in lines],
        **extra,
    }


def place(client, store, *lines, **extra):
    return client.post(URL, body(store, *lines, **extra), format="json")


def placed(response) -> Order:
    assert response.status_code == 201, response.content
    return Order.objects.get(pk=response.json()["id"])


def reserved(listing) -> Decimal:
    listing.refresh_from_db()
    return listing.stock_reserved


def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def listing(cooperative):
    """100 kg on hand, MOQ 10, increment 5, tiers 10 → 68.00 and 100 → 60.00."""
    return ListingFactory(cooperative=cooperative)


def _line_totals(response) -> dict[int, str]:
    return {
        line["listing"]: line["line_total"]
        for part in response.json()["fulfilments"]
        for line in part["lines"]
    }


# --- Pricing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "price"), [("10", "68.00"), ("99", "68.00"), ("100", "60.00")]
)
def test_unit_price_is_the_tier_the_line_reaches(purchaser, store, cooperative, quantity, price):
    listing = ListingFactory(cooperative=cooperative, order_increment=D("1"))
    order = placed(place(purchaser, store, (listing, quantity)))
    line = order.lines.get()
    assert line.unit_price == D(price)
    assert line.price_source == OrderLine.PriceSource.PUBLIC
    assert line.line_total == D(quantity) * D(price)


def test_line_totals_are_rounded_half_up_to_the_fen(purchaser, store, cooperative):
    # 10.125 × 68.04 = 688.905 and 12.500 × 60.01 = 750.125: half-even would round both down.
    first = ListingFactory(
        cooperative=cooperative, order_increment=D("0.001"), tiers=[("10", "68.04")]
    )
    second = ListingFactory(
        cooperative=cooperative, order_increment=D("0.001"), tiers=[("10", "60.01")]
    )
    response = place(purchaser, store, (first, "10.125"), (second, "12.500"))
    order = placed(response)
    assert _line_totals(response) == {first.pk: "688.91", second.pk: "750.13"}
    assert round_fen(D("10.125") * D("68.04")) == D("688.91")
    lines = {line.listing_id: line for line in order.lines.all()}
    assert lines[first.pk].line_total == D("688.91")
    assert lines[second.pk].line_total == D("750.13")


def test_order_total_is_the_sum_of_rounded_line_totals(purchaser, store, cooperative):
    first = ListingFactory(
        cooperative=cooperative, order_increment=D("0.001"), tiers=[("10", "68.04")]
    )
    second = ListingFactory(
        cooperative=cooperative, order_increment=D("0.001"), tiers=[("10", "60.01")]
    )
    response = place(purchaser, store, (first, "10.125"), (second, "12.500"))
    order = placed(response)
    # Rounding the unrounded sum (1439.03) would lose a fen against the lines the buyer sees.
    assert order.total == D("1439.04")
    assert response.json()["total"] == "1439.04"
    assert order.fulfilments.get().subtotal == D("1439.04")


# --- Negotiated prices ------------------------------------------------------------------------


def negotiate(listing, organisation, *, start=-5, end=5, tiers=(("10", "55.00"),)):
    return negotiated_price_create(
        listing=listing,
        organisation=organisation,
        valid_from=today() + datetime.timedelta(days=start),
        valid_until=today() + datetime.timedelta(days=end),
        tiers=[{"min_quantity": D(q), "unit_price": D(p)} for q, p in tiers],
    )


def test_negotiated_price_takes_precedence_for_its_organisation(
    purchaser, store, listing, organisation
):
    negotiate(listing, organisation, tiers=(("10", "55.00"), ("50", "50.00")))
    order = placed(place(purchaser, store, (listing, "50")))
    line = order.lines.get()
    assert (line.unit_price, line.price_source) == (D("50.00"), OrderLine.PriceSource.NEGOTIATED)
    assert order.total == D("2500.00")


def test_other_organisations_pay_the_public_tiers(
    other_purchaser, other_store, listing, organisation
):
    negotiate(listing, organisation)
    order = placed(place(other_purchaser, other_store, (listing, "10")))
    line = order.lines.get()
    assert (line.unit_price, line.price_source) == (D("68.00"), OrderLine.PriceSource.PUBLIC)


@pytest.mark.parametrize(("start", "end"), [(1, 10), (-10, -1)], ids=["not_yet", "expired"])
def test_negotiated_price_applies_only_inside_its_dates(
    purchaser, store, listing, organisation, start, end
):
    negotiate(listing, organisation, start=start, end=end)
    line = placed(place(purchaser, store, (listing, "10"))).lines.get()
    assert (line.unit_price, line.price_source) == (D("68.00"), OrderLine.PriceSource.PUBLIC)


def test_negotiated_price_applies_on_its_last_day(purchaser, store, listing, organisation):
    negotiate(listing, organisation, start=-3, end=0)
    line = placed(place(purchaser, store, (listing, "10"))).lines.get()
    assert line.unit_price == D("55.00")


def test_negotiated_price_is_visible_to_its_own_organisation(purchaser, listing, organisation):
    price = negotiate(listing, organisation)
    response = purchaser.get(NEGOTIATED)
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [price.pk]
    assert purchaser.get(f"{NEGOTIATED}{price.pk}/").status_code == 200


def test_other_organisations_cannot_see_a_negotiated_price(other_purchaser, listing, organisation):
    price = negotiate(listing, organisation)
    response = other_purchaser.get(NEGOTIATED)
    assert response.status_code == 200
    assert response.json()["results"] == []
    assert_error(other_purchaser.get(f"{NEGOTIATED}{price.pk}/"), 404)


def test_buyer_without_organisation_cannot_see_a_negotiated_price(buyer, listing, organisation):
    price = negotiate(listing, organisation)
    assert buyer.get(NEGOTIATED).json()["results"] == []
    assert_error(buyer.get(f"{NEGOTIATED}{price.pk}/"), 404)


# --- Line rules -------------------------------------------------------------------------------


@pytest.mark.parametrize("quantity", ["5", "9.999"])
def test_below_minimum_order_quantity_is_refused(
    purchaser, store, cooperative, listing, quantity, request_language
):
    fine = ListingFactory(cooperative=cooperative)
    response = place(purchaser, store, (fine, "10"), (listing, quantity))
    error = assert_error(response, 400, "validation_error", "lines.1.quantity")
    assert error["fields"]["lines.1.quantity"] == [
        said(
            request_language,
            "The minimum order is %(minimum)s.",
            minimum=quantity_text(listing.min_order_quantity, listing.unit),
        )
    ]
    assert not Order.objects.exists()
    assert reserved(fine) == 0


@pytest.mark.parametrize("quantity", ["12", "17.5", "10.001"])
def test_quantity_off_the_increment_is_refused(purchaser, store, listing, quantity):
    response = place(purchaser, store, (listing, quantity))
    assert_error(response, 400, "validation_error", "lines.0.quantity")
    assert not Order.objects.exists()


@pytest.mark.parametrize("quantity", ["10", "15", "95"])
def test_minimum_plus_whole_increments_is_accepted(purchaser, store, listing, quantity):
    assert placed(place(purchaser, store, (listing, quantity))).lines.get().quantity == D(quantity)


@pytest.mark.parametrize("status", [Listing.Status.DRAFT, Listing.Status.PAUSED])
def test_listing_not_on_sale_is_refused(purchaser, store, cooperative, listing, status):
    off = ListingFactory(cooperative=cooperative, status=status)
    response = place(purchaser, store, (listing, "10"), (off, "10"))
    assert_error(response, 400, "validation_error", "lines.1.listing")
    assert not Order.objects.exists()
    assert reserved(listing) == 0


def test_listing_of_an_inactive_cooperative_is_refused(purchaser, store):
    listing = ListingFactory(cooperative=CooperativeFactory(is_active=False))
    assert_error(
        place(purchaser, store, (listing, "10")), 400, "validation_error", "lines.0.listing"
    )
    assert not Order.objects.exists()


def test_the_same_listing_on_two_lines_is_refused(purchaser, store, listing):
    response = place(purchaser, store, (listing, "10"), (listing, "15"))
    assert_error(response, 400, "validation_error", "lines")
    assert not Order.objects.exists()


def test_store_of_another_organisation_is_refused(purchaser, other_store, listing):
    response = place(purchaser, other_store, (listing, "10"))
    assert_error(response, 400, "validation_error", "store")
    assert not Order.objects.exists()


def test_inactive_store_is_refused(purchaser, store, listing):
    store.is_active = False
    store.save()
    assert_error(place(purchaser, store, (listing, "10")), 400, "validation_error", "store")


# --- Who may place ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["buyer", "manager", "other_manager"])
def test_only_members_of_a_buyer_organisation_place_orders(request, store, listing, who):
    client = request.getfixturevalue(who)
    assert_error(place(client, store, (listing, "10")), 403)
    assert not Order.objects.exists()
    assert reserved(listing) == 0


def test_anonymous_cannot_place(anon, store, listing):
    assert_error(place(anon, store, (listing, "10")), 401)


def test_service_refuses_a_user_without_organisation(buyer_user, store, listing):
    with pytest.raises(Forbidden):
        order_place(user=buyer_user, store=store, lines=[LineRequest(listing.pk, D("10"))])


def test_partner_places_for_its_organisation(partner, store, listing, organisation):
    order = placed(place(partner, store, (listing, "10")))
    assert order.organisation == organisation


# --- Several cooperatives ---------------------------------------------------------------------


def test_one_fulfilment_per_cooperative_with_its_subtotal(
    purchaser, store, cooperative, other_cooperative
):
    honey = ListingFactory(cooperative=cooperative)
    wax = ListingFactory(cooperative=cooperative, tiers=[("10", "20.50")])
    tongcao = ListingFactory(cooperative=other_cooperative, tiers=[("10", "33.30")])
    order = placed(place(purchaser, store, (honey, "10"), (tongcao, "15"), (wax, "20")))
    parts = {f.cooperative_id: f for f in order.fulfilments.all()}
    assert set(parts) == {cooperative.pk, other_cooperative.pk}
    assert parts[cooperative.pk].subtotal == D("680.00") + D("410.00")
    assert parts[other_cooperative.pk].subtotal == D("499.50")
    assert {line.listing_id for line in parts[cooperative.pk].lines.all()} == {honey.pk, wax.pk}
    assert order.total == D("1589.50")
    assert all(f.status == FulfilmentStatus.PLACED for f in parts.values())


def test_below_a_cooperatives_minimum_order_value_is_refused(
    purchaser, store, cooperative, other_cooperative
):
    other_cooperative.min_order_value = D("1000.00")
    other_cooperative.save()
    honey = ListingFactory(cooperative=cooperative)
    tongcao = ListingFactory(cooperative=other_cooperative)
    response = place(purchaser, store, (honey, "100"), (tongcao, "10"))  # 6000 + 680
    error = assert_error(response, 400, "below_minimum_order_value")
    assert error["minimum_order_values"] == {str(other_cooperative.pk): "1000.00"}
    assert "¥1,000.00" in " ".join(error["fields"]["lines"])  # money as people read it
    assert not Order.objects.exists()
    assert not Fulfilment.objects.exists()
    assert reserved(honey) == 0
    assert reserved(tongcao) == 0


def test_reaching_the_minimum_order_value_is_accepted(purchaser, store, cooperative, listing):
    cooperative.min_order_value = D("680.00")
    cooperative.save()
    assert placed(place(purchaser, store, (listing, "10"))).total == D("680.00")


# --- Approval threshold -----------------------------------------------------------------------


@pytest.fixture
def threshold(organisation):
    organisation.approval_threshold = D("1000.00")
    organisation.save()
    return organisation.approval_threshold


def _fulfilment_ids(client) -> set[int]:
    response = client.get(FULFILMENTS)
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_order_above_the_threshold_waits_for_approval(purchaser, store, listing, threshold):
    order = placed(place(purchaser, store, (listing, "20")))  # 1360.00
    assert order.status == FulfilmentStatus.PENDING_APPROVAL
    assert order.fulfilments.get().status == FulfilmentStatus.PENDING_APPROVAL
    assert order.approved_by is None
    assert reserved(listing) == D("20")  # held while it waits


def test_order_at_the_threshold_is_placed(purchaser, store, listing, organisation):
    organisation.approval_threshold = D("680.00")
    organisation.save()
    assert placed(place(purchaser, store, (listing, "10"))).status == FulfilmentStatus.PLACED


def test_cooperative_does_not_see_an_order_waiting_for_approval(
    purchaser, manager, store, listing, threshold
):
    order = placed(place(purchaser, store, (listing, "20")))
    part = order.fulfilments.get()
    assert part.pk not in _fulfilment_ids(manager)
    assert_error(manager.get(f"{FULFILMENTS}{part.pk}/"), 404)


def test_purchaser_cannot_approve(purchaser, store, listing, threshold):
    order = placed(place(purchaser, store, (listing, "20")))
    error = assert_error(purchaser.post(f"{URL}{order.pk}/approve/"), 409, "illegal_transition")
    assert error["allowed_transitions"] == [FulfilmentStatus.CANCELLED]
    order.refresh_from_db()
    assert order.status == FulfilmentStatus.PENDING_APPROVAL


def test_approver_approves_and_the_cooperative_then_sees_it(
    purchaser, approver, approver_user, manager, store, listing, threshold
):
    order = placed(place(purchaser, store, (listing, "20")))
    response = approver.post(f"{URL}{order.pk}/approve/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == FulfilmentStatus.PLACED
    order.refresh_from_db()
    assert order.approved_by == approver_user
    assert order.fulfilments.get().pk in _fulfilment_ids(manager)


def test_approvers_own_order_above_the_threshold_is_placed_directly(
    approver, approver_user, manager, store, listing, threshold
):
    order = placed(place(approver, store, (listing, "20")))
    assert order.status == FulfilmentStatus.PLACED
    assert order.approved_by == approver_user
    assert order.approved_at is not None
    assert order.fulfilments.get().pk in _fulfilment_ids(manager)


# --- Stock ------------------------------------------------------------------------------------


def test_insufficient_stock_is_409_with_what_is_available(purchaser, store, listing):
    response = place(purchaser, store, (listing, "105"))
    error = assert_error(response, 409, "insufficient_stock", "lines.0.quantity")
    assert error["available"] == {str(listing.pk): "100"}
    assert not Order.objects.exists()
    assert reserved(listing) == 0


def test_one_short_line_reserves_nothing_for_the_others(purchaser, store, cooperative, listing):
    short = ListingFactory(cooperative=cooperative, stock_on_hand=D("20"), stock_reserved=D("15"))
    response = place(purchaser, store, (listing, "50"), (short, "10"))
    error = assert_error(response, 409, "insufficient_stock", "lines.1.quantity")
    assert "lines.0.quantity" not in error["fields"]
    assert error["available"] == {str(short.pk): "5"}
    assert not Order.objects.exists()
    assert reserved(listing) == 0
    assert reserved(short) == D("15")


def test_service_raises_insufficient_stock(purchaser_user, store, listing):
    with pytest.raises(InsufficientStock) as caught:
        order_place(user=purchaser_user, store=store, lines=[LineRequest(listing.pk, D("110"))])
    assert caught.value.extra["available"] == {str(listing.pk): "100"}
    assert reserved(listing) == 0


def test_placing_reserves_stock(purchaser, store, listing):
    placed(place(purchaser, store, (listing, "35")))
    listing.refresh_from_db()
    assert listing.stock_on_hand == D("100")
    assert listing.stock_reserved == D("35")
    assert listing.available_quantity == D("65")
    assert listing.status == Listing.Status.ACTIVE


def test_taking_the_last_available_stock_marks_the_listing_sold_out(purchaser, store, listing):
    placed(place(purchaser, store, (listing, "60")))
    placed(place(purchaser, store, (listing, "40")))
    listing.refresh_from_db()
    assert listing.available_quantity == 0
    assert listing.status == Listing.Status.SOLD_OUT
    error = assert_error(place(purchaser, store, (listing, "10")), 409, "insufficient_stock")
    assert error["available"] == {str(listing.pk): "0"}


# --- Requested delivery date ------------------------------------------------------------------


def test_requested_delivery_date_in_the_past_is_refused(purchaser, store, listing):
    yesterday = today() - datetime.timedelta(days=1)
    response = place(purchaser, store, (listing, "10"), requested_delivery_date=str(yesterday))
    assert_error(response, 400, "validation_error", "requested_delivery_date")
    assert reserved(listing) == 0


def test_requested_delivery_date_before_the_lead_time_is_refused(purchaser, store, cooperative):
    listing = ListingFactory(cooperative=cooperative, lead_time_days=3)
    soon = today() + datetime.timedelta(days=2)
    response = place(purchaser, store, (listing, "10"), requested_delivery_date=str(soon))
    assert_error(response, 400, "validation_error", "requested_delivery_date")
    assert not Order.objects.exists()


def test_requested_delivery_date_after_the_lead_time_is_accepted(purchaser, store, cooperative):
    listing = ListingFactory(cooperative=cooperative, lead_time_days=3)
    date = today() + datetime.timedelta(days=3)
    order = placed(place(purchaser, store, (listing, "10"), requested_delivery_date=str(date)))
    assert order.requested_delivery_date == date


def test_service_refuses_a_past_delivery_date(purchaser_user, store, listing):
    with pytest.raises(ValidationError) as caught:
        order_place(
            user=purchaser_user,
            store=store,
            lines=[LineRequest(listing.pk, D("10"))],
            requested_delivery_date=today() - datetime.timedelta(days=1),
        )
    assert "requested_delivery_date" in caught.value.message_dict


# --- Reorder ----------------------------------------------------------------------------------


def test_reorder_places_the_same_lines_at_todays_prices(purchaser, store, cooperative, listing):
    other = ListingFactory(cooperative=cooperative, tiers=[("10", "20.00")])
    first = placed(place(purchaser, store, (listing, "10"), (other, "15")))
    PriceTier.objects.filter(listing=listing, min_quantity=D("10")).update(unit_price=D("66.00"))
    response = purchaser.post(f"{URL}{first.pk}/reorder/")
    again = placed(response)
    assert again.pk != first.pk
    assert again.reorder_of == first
    assert again.store == store
    lines = {line.listing_id: line for line in again.lines.all()}
    assert {k: v.quantity for k, v in lines.items()} == {listing.pk: D("10"), other.pk: D("15")}
    assert lines[listing.pk].unit_price == D("66.00")
    assert again.total == D("660.00") + D("300.00")
    assert reserved(listing) == D("20")
    assert reserved(other) == D("30")


def test_reorder_of_another_organisations_order_is_404(purchaser, other_purchaser, store, listing):
    first = placed(place(purchaser, store, (listing, "10")))
    assert_error(other_purchaser.post(f"{URL}{first.pk}/reorder/"), 404)
    assert Order.objects.count() == 1


def test_an_order_above_what_the_money_columns_hold_is_400_not_500(purchaser, store, cooperative):
    dear = ListingFactory(
        cooperative=cooperative, stock_on_hand=Decimal("20000"), tiers=[("10", "1000000.00")]
    )
    response = place(purchaser, store, (dear, "10000"))  # ¥10,000,000,000
    assert_error(response, 400, "validation_error", field="lines")
    assert reserved(dear) == 0 and not Order.objects.exists()
