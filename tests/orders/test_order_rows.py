"""A new order's rows written in one statement (PostgreSQL) and through the ORM (the way
SQLite takes): the same rows, and the same objects in hand afterwards."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import Fulfilment, FulfilmentStatus, Order, OrderEvent, OrderLine
from orders.services.order_rows import order_rows_insert
from tests.factories import CooperativeFactory, ListingFactory

D = Decimal
ORDER_FIELDS = [
    "organisation_id",
    "store_id",
    "placed_by_id",
    "status",
    "total",
    "requested_delivery_date",
    "note",
    "reservation_expires_at",
    "approved_by_id",
    "approved_at",
    "reorder_of_id",
    "standing_order_id",
]


def unsaved_order(*, store, user, listings, approved_by=None, now=None):
    """An order of one line per listing, a fulfilment and an event per cooperative."""
    now = now or timezone.now()
    order = Order(
        organisation=store.organisation,
        store=store,
        placed_by=user,
        status=FulfilmentStatus.PLACED,
        total=D("1234.50"),
        requested_delivery_date=timezone.localdate() + datetime.timedelta(days=3),
        note="送到后门 'back door'",
        reservation_expires_at=now + datetime.timedelta(hours=2),
        approved_by=approved_by,
        approved_at=now if approved_by else None,
    )
    fulfilments, lines, events = {}, [], []
    for index, listing in enumerate(listings):
        fulfilment = fulfilments.get(listing.cooperative_id)
        if fulfilment is None:
            fulfilment = fulfilments[listing.cooperative_id] = Fulfilment(
                order=order,
                cooperative=listing.cooperative,
                status=FulfilmentStatus.PLACED,
                subtotal=D("100.00") * (index + 1),
                released_at=now,
            )
            events.append(
                OrderEvent(order=order, fulfilment=fulfilment, actor=user, to_status="placed")
            )
        lines.append(
            OrderLine(
                order=order,
                fulfilment=fulfilment,
                listing=listing,
                quantity=D("12.500"),
                unit_price=D("8.80") + index,
                price_source=OrderLine.PriceSource.PUBLIC,
                line_total=D("110.00") + index,
            )
        )
    return order, list(fulfilments.values()), lines, events


def rows_of(order: Order) -> dict:
    """The order's rows as the database holds them, without ids and write times."""
    fulfilments = {f.pk: f.cooperative_id for f in Fulfilment.objects.filter(order=order)}
    return {
        "order": Order.objects.filter(pk=order.pk).values(*ORDER_FIELDS).get(),
        "fulfilments": sorted(
            Fulfilment.objects.filter(order=order)
            .values_list("cooperative_id", "status", "subtotal", "reason", "released_at")
            .order_by("cooperative_id")
        ),
        "lines": sorted(
            (fulfilments[fulfilment_id], *rest)
            for fulfilment_id, *rest in OrderLine.objects.filter(order=order).values_list(
                "fulfilment_id",
                "listing_id",
                "quantity",
                "unit_price",
                "price_source",
                "confirmed_quantity",
                "accepted_quantity",
                "delivery_issue",
                "delivery_note",
                "line_total",
            )
        ),
        "events": sorted(
            (fulfilments[fulfilment_id], *rest)
            for fulfilment_id, *rest in OrderEvent.objects.filter(order=order).values_list(
                "fulfilment_id", "kind", "actor_id", "from_status", "to_status", "note"
            )
        ),
    }


@pytest.mark.parametrize("one_statement", [True, False], ids=["one statement", "orm"])
def test_the_objects_in_hand_are_the_rows_written(one_statement, store, purchaser_user):
    cooperatives = [CooperativeFactory() for _ in range(3)]
    listings = [ListingFactory(cooperative=cooperatives[i % 3]) for i in range(5)]
    order, fulfilments, lines, events = unsaved_order(
        store=store, user=purchaser_user, listings=listings
    )
    order_rows_insert(
        order=order,
        fulfilments=fulfilments,
        lines=lines,
        events=events,
        one_statement=one_statement,
    )
    assert order.pk and all(row.pk for row in (*fulfilments, *lines, *events))
    assert not any(row._state.adding for row in (order, *fulfilments, *lines, *events))
    with CaptureQueriesContext(connection) as queries:  # the links are the objects in hand
        assert all(f.order is order and f.order_id == order.pk for f in fulfilments)
        assert all(line.fulfilment.order is order for line in lines)
    assert len(queries) == 0
    for fulfilment in fulfilments:
        stored = Fulfilment.objects.get(pk=fulfilment.pk)
        assert (stored.order_id, stored.cooperative_id) == (order.pk, fulfilment.cooperative_id)
    for line in lines:
        stored = OrderLine.objects.get(pk=line.pk)
        assert (stored.order_id, stored.fulfilment_id, stored.listing_id) == (
            order.pk,
            line.fulfilment.pk,
            line.listing_id,
        )
        assert stored.quantity == line.quantity and stored.unit_price == line.unit_price
    for event in events:
        stored = OrderEvent.objects.get(pk=event.pk)
        assert (stored.order_id, stored.fulfilment_id) == (order.pk, event.fulfilment.pk)
    stored = Order.objects.get(pk=order.pk)
    assert (stored.created_at, stored.updated_at) == (order.created_at, order.updated_at)


def test_one_statement_writes_what_the_orm_writes(store, purchaser_user, approver_user):
    cooperatives = [CooperativeFactory() for _ in range(2)]
    listings = [ListingFactory(cooperative=cooperatives[i % 2]) for i in range(3)]
    written, now = [], timezone.now()
    for one_statement in (True, False):
        order, fulfilments, lines, events = unsaved_order(
            store=store, user=purchaser_user, listings=listings, approved_by=approver_user, now=now
        )
        with CaptureQueriesContext(connection) as queries:
            order_rows_insert(
                order=order,
                fulfilments=fulfilments,
                lines=lines,
                events=events,
                one_statement=one_statement,
            )
        written.append((rows_of(order), len(queries)))
    (one, one_queries), (orm, orm_queries) = written
    assert one == orm
    assert len(one["lines"]) == 3 and len(one["fulfilments"]) == 2 and len(one["events"]) == 2
    assert (one_queries, orm_queries) == (1, 4)


def test_postgresql_takes_the_one_statement(store, purchaser_user):
    listing = ListingFactory()
    order, fulfilments, lines, events = unsaved_order(
        store=store, user=purchaser_user, listings=[listing]
    )
    with CaptureQueriesContext(connection) as queries:
        order_rows_insert(order=order, fulfilments=fulfilments, lines=lines, events=events)
    assert connection.vendor == "postgresql"
    assert len(queries) == 1 and queries[0]["sql"].startswith("WITH new_order AS (INSERT")


@pytest.mark.parametrize("one_statement", [True, False], ids=["one statement", "orm"])
def test_the_stock_the_order_reserves_moves_with_its_rows(one_statement, store, purchaser_user):
    """Placing runs the stock's UPDATE (products.stock) as one more CTE of the statement on
    PostgreSQL, after the inserts with the ORM; either way the listings' rows move, and a
    refusal by their constraint writes no order."""
    from django.db import IntegrityError, transaction

    from products import stock
    from products.models import Listing

    listings = [ListingFactory(stock_on_hand=D("100")) for _ in range(2)]
    locked = stock.listings_lock(listing.pk for listing in listings)
    order, fulfilments, lines, events = unsaved_order(
        store=store, user=purchaser_user, listings=listings
    )
    moves = [(locked[listing.pk], D("30")) for listing in listings]
    with CaptureQueriesContext(connection) as queries:
        order_rows_insert(
            order=order,
            fulfilments=fulfilments,
            lines=lines,
            events=events,
            one_statement=one_statement,
            stock_update=stock.stocks_reserve_statement(moves=moves),
        )
    assert len(queries) == (1 if one_statement else 5)
    assert sorted(Listing.objects.values_list("stock_reserved", flat=True)) == [D("30")] * 2

    order, fulfilments, lines, events = unsaved_order(
        store=store, user=purchaser_user, listings=listings
    )
    locked[listings[0].pk].stock_reserved = D("-20")  # a row gone wrong: the constraint says no
    statement = stock.stocks_reserve_statement(moves=[(locked[listings[0].pk], D("10"))])
    with pytest.raises(IntegrityError, match="listing_reserved_gte_0"), transaction.atomic():
        order_rows_insert(
            order=order,
            fulfilments=fulfilments,
            lines=lines,
            events=events,
            one_statement=one_statement,
            stock_update=statement,
        )
    assert Order.objects.count() == 1


def test_two_events_of_one_fulfilment_are_refused(store, purchaser_user):
    order, fulfilments, lines, events = unsaved_order(
        store=store, user=purchaser_user, listings=[ListingFactory()]
    )
    events.append(OrderEvent(order=order, fulfilment=fulfilments[0], actor=purchaser_user))
    with pytest.raises(ValueError):
        order_rows_insert(order=order, fulfilments=fulfilments, lines=lines, events=events)
    assert not Order.objects.exists()
