"""Placing orders never oversells: concurrent placements on separate PostgreSQL connections
(real threads, released together by a barrier) queue on the listing rows, and the database
CheckConstraint is the backstop when code goes around the stock service."""

import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum

from buyers.models import Membership
from orders.models import Order, OrderLine, PurchaseImportOrder
from orders.services.imports import purchase_import_preview
from products.models import Listing
from tests.conftest import client_for
from tests.factories import ListingFactory, MembershipFactory, StoreFactory

D = Decimal
URL = "/api/v1/orders/"
JOIN_SECONDS = 45


def race(requests: list) -> list:
    """Run each callable in its own thread with its own database connection, all released at
    once; answer each one's response (or the exception it raised)."""
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def run(index, request):
        try:
            barrier.wait(timeout=20)
            results[index] = request()
        except Exception as exc:  # reported by the test below, not swallowed
            results[index] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(index, request), daemon=True)
        for index, request in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_SECONDS)
    assert not any(thread.is_alive() for thread in threads), "a placement hung (deadlock?)"
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    return results


def placement(client, store, *lines):
    data = {
        "store": store.pk,
        "lines": [{"listing": listing.pk, "quantity": quantity} for listing, quantity in lines],
    }
    return lambda: client.post(URL, data, format="json")


def purchasers(organisation, count: int) -> list:
    return [
        client_for(
            MembershipFactory(organisation=organisation, role=Membership.Role.PURCHASER).user
        )
        for _ in range(count)
    ]


def ordered_quantity(listing) -> Decimal:
    return OrderLine.objects.filter(listing=listing).aggregate(total=Sum("quantity"))["total"] or 0


pytestmark = pytest.mark.django_db(transaction=True)


def test_two_buyers_race_for_the_last_10_kg_and_exactly_one_wins(
    purchaser, other_purchaser, store, other_store, cooperative
):
    listing = ListingFactory(cooperative=cooperative, stock_on_hand=D("10"))
    responses = race(
        [
            placement(purchaser, store, (listing, "10")),
            placement(other_purchaser, other_store, (listing, "10")),
        ]
    )
    assert sorted(r.status_code for r in responses) == [201, 409], [r.content for r in responses]
    loser = next(r for r in responses if r.status_code == 409).json()["error"]
    assert loser["code"] == "insufficient_stock"
    assert loser["available"] == {str(listing.pk): "0"}
    assert "lines.0.quantity" in loser["fields"]
    listing.refresh_from_db()
    assert (listing.stock_on_hand, listing.stock_reserved) == (D("10"), D("10"))
    assert listing.status == Listing.Status.SOLD_OUT
    assert Order.objects.count() == 1


def test_24_concurrent_placements_never_oversell(organisation, store, cooperative):
    listing = ListingFactory(
        cooperative=cooperative,
        stock_on_hand=D("50"),
        min_order_quantity=D("5"),
        order_increment=D("5"),
        tiers=[("5", "68.00")],
    )
    clients = purchasers(organisation, 24)
    responses = race([placement(client, store, (listing, "5")) for client in clients])
    codes = [r.status_code for r in responses]
    assert codes.count(201) == 10, [r.content for r in responses if r.status_code != 201]
    assert codes.count(409) == 14
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {
        "insufficient_stock"
    }
    listing.refresh_from_db()
    assert listing.stock_reserved == D("50")
    assert listing.available_quantity == 0
    assert listing.status == Listing.Status.SOLD_OUT
    assert Order.objects.count() == 10
    assert ordered_quantity(listing) == D("50")


def test_opposite_line_orders_do_not_deadlock(organisation, store, cooperative, other_cooperative):
    first = ListingFactory(cooperative=cooperative, stock_on_hand=D("60"))
    second = ListingFactory(cooperative=other_cooperative, stock_on_hand=D("60"))
    clients = purchasers(organisation, 20)
    requests = [
        placement(client, store, (first, "10"), (second, "10"))
        if index % 2
        else placement(client, store, (second, "10"), (first, "10"))
        for index, client in enumerate(clients)
    ]
    responses = race(requests)
    codes = [r.status_code for r in responses]
    assert set(codes) <= {201, 409}, [
        r.content for r in responses if r.status_code not in (201, 409)
    ]
    assert codes.count(201) == 6  # 60 kg of each, 10 kg of each per order
    for listing in (first, second):
        listing.refresh_from_db()
        assert listing.stock_reserved == D("60")
        assert ordered_quantity(listing) == D("60")
    assert Order.objects.count() == 6
    assert all(order.fulfilments.count() == 2 for order in Order.objects.all())


@pytest.mark.django_db  # one connection: no need to commit
def test_reserved_above_on_hand_is_refused_by_the_database(cooperative):
    listing = ListingFactory(cooperative=cooperative, stock_on_hand=D("10"))
    with (
        pytest.raises(IntegrityError, match="listing_reserved_lte_on_hand"),
        transaction.atomic(),
    ):
        Listing.objects.filter(pk=listing.pk).update(stock_reserved=F("stock_on_hand") + 1)
    listing.refresh_from_db()
    assert listing.stock_reserved == 0


@pytest.mark.django_db  # one connection: no need to commit
def test_raw_sql_cannot_oversell_either(cooperative):
    listing = ListingFactory(cooperative=cooperative, stock_on_hand=D("10"))
    with (
        pytest.raises(IntegrityError, match="listing_reserved_lte_on_hand"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"UPDATE {Listing._meta.db_table} SET stock_reserved = 10.001 WHERE id = %s",
            [listing.pk],
        )
    listing.refresh_from_db()
    assert listing.stock_reserved == 0


@pytest.mark.django_db  # one connection: no need to commit
def test_negative_stock_is_refused_by_the_database(cooperative):
    listing = ListingFactory(cooperative=cooperative, stock_on_hand=D("10"))
    with pytest.raises(IntegrityError, match="listing_reserved_gte_0"), transaction.atomic():
        Listing.objects.filter(pk=listing.pk).update(stock_reserved=D("-5"))


def _orders_naming_two_listings_in_opposite_order(purchaser_user, store, cooperative, other):
    """Two orders over the same two listings; A's lines and parts come in the opposite order to
    B's. Lots back both listings so the parts can be packed."""
    from tests.factories import LotFactory, place_order

    first = ListingFactory(cooperative=cooperative, stock_on_hand=D("100"))
    second = ListingFactory(cooperative=other, stock_on_hand=D("100"))
    for listing in (first, second):
        LotFactory(listing=listing, quantity=D("100"))
    a = place_order(purchaser_user, store, (second, "20"), (first, "20"))
    b = place_order(purchaser_user, store, (first, "20"), (second, "20"))
    return a, b


def test_concurrent_staff_cancels_of_orders_in_opposite_part_order_do_not_deadlock(
    purchaser_user, staff_user, store, cooperative, other_cooperative
):
    from orders.services.transitions import order_cancel

    orders = _orders_naming_two_listings_in_opposite_order(
        purchaser_user, store, cooperative, other_cooperative
    )
    results = race([lambda o=o: order_cancel(order=o, user=staff_user) for o in orders])
    assert [order.status for order in results] == ["cancelled", "cancelled"]
    assert not Listing.objects.filter(stock_reserved__gt=0).exists()


def test_concurrent_packing_of_parts_drawing_the_same_lots_does_not_deadlock(
    purchaser_user, manager_user, store, cooperative
):
    from orders.services.transitions import fulfilment_confirm, fulfilment_pack
    from tests.factories import LotFactory, place_order

    # One cooperative, two listings: each order's single part has the lines in opposite order.
    first = ListingFactory(cooperative=cooperative, stock_on_hand=D("100"))
    second = ListingFactory(cooperative=cooperative, stock_on_hand=D("100"))
    for listing in (first, second):
        LotFactory(listing=listing, quantity=D("100"))
    parts = [
        place_order(purchaser_user, store, *lines).fulfilments.get()
        for lines in (((second, "20"), (first, "20")), ((first, "20"), (second, "20")))
    ]
    for part in parts:
        fulfilment_confirm(fulfilment=part, user=manager_user)
    results = race([lambda p=p: fulfilment_pack(fulfilment=p, user=manager_user) for p in parts])
    assert [part.status for part in results] == ["packed", "packed"]
    for listing in (first, second):
        assert listing.lots.get().quantity_picked == D("40")


def test_concurrent_shipping_and_cancelling_over_the_same_listings_do_not_deadlock(
    purchaser_user, manager_user, staff_user, store, cooperative
):
    """Shipping locks and consumes its listings in one statement (PostgreSQL); it still takes
    them in primary-key order, as a cancel releasing the same listings does."""
    from orders.services.transitions import (
        fulfilment_confirm,
        fulfilment_pack,
        fulfilment_ship,
        order_cancel,
    )
    from tests.factories import LotFactory, place_order

    listings = [ListingFactory(cooperative=cooperative, stock_on_hand=D("100")) for _ in range(3)]
    for listing in listings:
        LotFactory(listing=listing, quantity=D("100"))
    forward = [(listing, "10") for listing in listings]
    parts = [
        place_order(purchaser_user, store, *lines).fulfilments.get()
        for lines in (forward, forward[::-1])
    ]
    for part in parts:
        fulfilment_confirm(fulfilment=part, user=manager_user)
        fulfilment_pack(fulfilment=part, user=manager_user)
    cancelled = place_order(purchaser_user, store, *forward[::-1])
    results = race(
        [lambda p=p: fulfilment_ship(fulfilment=p, user=manager_user) for p in parts]
        + [lambda: order_cancel(order=cancelled, user=staff_user)]
    )
    assert [result.status for result in results] == ["shipped", "shipped", "cancelled"]
    for listing in listings:
        listing.refresh_from_db()
        assert (listing.stock_on_hand, listing.stock_reserved) == (D("80"), D("0"))


def test_one_purchase_list_placed_four_times_at_once_makes_its_orders_once(
    purchaser_user, store, organisation, cooperative
):
    second = StoreFactory(organisation=organisation)
    honey, tongcao = (
        ListingFactory(cooperative=cooperative),
        ListingFactory(cooperative=cooperative),
    )
    preview = purchase_import_preview(
        user=purchaser_user,
        file_name="list.csv",
        content=(
            "listing,quantity,store\n"
            f"{tongcao.pk},10,{store.pk}\n{honey.pk},10,{store.pk}\n{honey.pk},20,{second.pk}\n"
        ).encode(),
    )
    assert preview.error_count == 0
    clients = purchasers(organisation, 4)
    url = f"/api/v1/purchase-imports/{preview.pk}/place/"
    responses = race([lambda c=c: c.post(url) for c in clients])
    assert [r.status_code for r in responses] == [200] * 4, [r.content for r in responses]
    assert len({str(r.json()["orders"]) for r in responses}) == 1  # the same orders, each time
    assert Order.objects.count() == 2 and PurchaseImportOrder.objects.count() == 2
    assert ordered_quantity(honey) == D("30") and ordered_quantity(tongcao) == D("10")
