"""The one place listing stock moves.

Every move works on listing rows locked with SELECT … FOR UPDATE, taken in primary-key order
(the lock order is order → fulfilment → payment → listing stock, each by primary key; see
docs/architecture.md), so concurrent moves queue instead of overwriting each other. The
CheckConstraints on Listing (on hand ≥ 0, 0 ≤ reserved ≤ on hand) are the backstop.

receive: a lot arrives · reserve: an order is placed · release: cancel, reject, short
confirmation, expiry · consume: the goods ship.
"""

import datetime
import functools
from collections.abc import Iterable
from decimal import Decimal

from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from django.utils.translation import gettext

from backend.errors import Conflict

from . import pricing
from .catalog_cache import catalog_changed
from .models import MAX_STOCK, Listing, quantity_text


def listing_lock(listing_id: int) -> Listing:
    """Lock one listing row for a stock move (call inside a transaction)."""
    return Listing.objects.select_for_update(of=("self",)).get(pk=listing_id)


def listings_lock(
    listing_ids: Iterable[int], *, prices_for: tuple[int, datetime.date] | None = None
) -> dict[int, Listing]:
    """Lock several listing rows, always in primary-key order so two transactions locking
    overlapping sets cannot deadlock, read with their cooperative and product. ``prices_for``
    (organisation id, day) brings each listing's price tables in the same query
    (products.pricing.tables_of reads them).

    Plain SQL built once per number of listings (issue 8): on every order, the ORM's
    select_related, annotations and FOR UPDATE OF cost more CPU to compile than the
    statement costs PostgreSQL to run. The rows become models as the ORM makes them
    (from_db, each field's converters, the related objects cached)."""
    if connection.features.has_select_for_update and connection.get_autocommit():
        # As the ORM refuses it: locks outside a transaction would end with the statement.
        raise TransactionManagementError("listings_lock must run in a transaction.")
    ids = sorted(set(listing_ids))
    if not ids:
        return {}
    sql, converters, extra = _lock_statement(connection.vendor, len(ids), prices_for is not None)
    params = []
    if prices_for is not None:
        organisation_id, day = prices_for
        for _name, _sql, column_params in pricing.table_columns(
            connection, organisation_id=organisation_id, on=day
        ):
            params += column_params
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *ids])
        rows = cursor.fetchall()
    alias = connection.alias
    listings = {}
    for row in rows:
        made, start = [], 0
        for model, names, field_converters in converters:
            values = list(row[start : start + len(names)])
            for index, convert, expression in field_converters:
                values[index] = convert(values[index], expression, connection)
            made.append(model.from_db(alias, names, values))
            start += len(names)
        listing, cooperative, product = made
        _COOPERATIVE.set_cached_value(listing, cooperative)
        _PRODUCT.set_cached_value(listing, product)
        for name, value in zip(extra, row[start:], strict=True):
            setattr(listing, name, value)
        listings[listing.pk] = listing
    return listings


_COOPERATIVE = Listing._meta.get_field("cooperative")
_PRODUCT = Listing._meta.get_field("product")


@functools.lru_cache(maxsize=64)
def _lock_statement(vendor: str, count: int, priced: bool) -> tuple[str, list, tuple]:
    """(SQL, per model its field names and converters, the extra columns' names) of
    listings_lock for ``count`` listings. The SQL depends on nothing else: the ids, the
    organisation and the day are parameters."""
    ops = connection.ops
    models = [
        (Listing, None),
        (_COOPERATIVE.related_model, _COOPERATIVE),
        (_PRODUCT.related_model, _PRODUCT),
    ]
    listing_table = ops.quote_name(Listing._meta.db_table)
    pk = f"{listing_table}.{ops.quote_name(Listing._meta.pk.column)}"
    columns, converters, joins = [], [], []
    for model, via in models:
        table = ops.quote_name(model._meta.db_table)
        fields = model._meta.concrete_fields
        field_converters = []
        for index, field in enumerate(fields):
            columns.append(f"{table}.{ops.quote_name(field.column)}")
            expression = field.get_col(model._meta.db_table)
            for convert in ops.get_db_converters(expression) + field.get_db_converters(connection):
                field_converters.append((index, convert, expression))
        converters.append((model, [field.attname for field in fields], field_converters))
        if via is not None:
            joins.append(
                f"INNER JOIN {table} ON {table}.{ops.quote_name(model._meta.pk.column)} = "
                f"{listing_table}.{ops.quote_name(via.column)}"
            )
    extra = []
    if priced:  # stand-ins for the parameters: only the SQL is kept
        for name, sql, _params in pricing.table_columns(
            connection, organisation_id=0, on=datetime.date.min
        ):
            columns.append(sql)
            extra.append(name)
    locking = (
        f" FOR UPDATE OF {listing_table}" if connection.features.has_select_for_update_of else ""
    )
    sql = (
        f"SELECT {', '.join(columns)} FROM {listing_table} {' '.join(joins)} "
        f"WHERE {pk} IN ({', '.join(['%s'] * count)}) ORDER BY {pk}{locking}"
    )
    return sql, converters, tuple(extra)


def _sync_sold_out(listing: Listing) -> None:
    """A live listing with nothing available shows as sold out, and comes back when stock
    arrives or is released; drafts and paused listings keep their status."""
    if listing.status == Listing.Status.ACTIVE and listing.available_quantity <= 0:
        listing.status = Listing.Status.SOLD_OUT
    elif listing.status == Listing.Status.SOLD_OUT and listing.available_quantity > 0:
        listing.status = Listing.Status.ACTIVE


_STOCK_FIELDS = ["stock_on_hand", "stock_reserved", "status", "updated_at"]


def _save(listing: Listing) -> None:
    _sync_sold_out(listing)
    listing.save(update_fields=_STOCK_FIELDS)
    catalog_changed()  # the save's signal does it too; _save_all (no signals) depends on this


def _update_all(listings: list[Listing]) -> tuple[str, list]:
    """The moved rows' UPDATE … FROM (VALUES …), one statement whatever their number. The rows
    are locked, so the values computed here are the rows' values; the constraints still check
    every row. Plain SQL (PostgreSQL, and SQLite ≥ 3.33): on the hot path of every order,
    bulk_update's CASE expressions cost more to build than the statement costs to run. A bulk
    UPDATE sends no signals: whoever runs it calls catalog_changed, or buyers' cached listing
    pages would show the old stock (products/catalog_cache.py)."""
    now = timezone.now()
    ops = connection.ops
    rows, params = [], []
    for listing in listings:
        _sync_sold_out(listing)
        listing.updated_at = now
        rows.append("(CAST(%s AS bigint), CAST(%s AS numeric), CAST(%s AS numeric), %s)")
        params += [
            listing.pk,
            ops.adapt_decimalfield_value(listing.stock_on_hand, 12, 3),
            ops.adapt_decimalfield_value(listing.stock_reserved, 12, 3),
            listing.status,
        ]
    table = ops.quote_name(Listing._meta.db_table)
    sql = (
        f"UPDATE {table} SET stock_on_hand = v.column2, stock_reserved = v.column3, "
        f"status = v.column4, updated_at = %s FROM (VALUES {', '.join(rows)}) AS v "
        f"WHERE {table}.id = v.column1"
    )
    return sql, [ops.adapt_datetimefield_value(now), *params]


def _save_all(listings: list[Listing]) -> None:
    sql, params = _update_all(listings)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    catalog_changed()


def _positive(quantity: Decimal) -> None:
    if quantity <= 0:
        raise ValueError("stock moves are positive quantities")


@transaction.atomic
def stock_receive(*, listing_id: int, quantity: Decimal) -> Listing:
    """Add received goods (a new lot) to the listing's stock on hand."""
    _positive(quantity)
    listing = listing_lock(listing_id)
    if listing.stock_on_hand + quantity > MAX_STOCK:
        # Each lot fits its column; their sum may not fit the listing's.
        raise Conflict(
            gettext(
                "This listing already holds %(on_hand)s; adding %(quantity)s would pass the "
                "most one listing can hold (%(max)s). Receive it on another listing."
            )
            % {
                "on_hand": quantity_text(listing.stock_on_hand, listing.unit),
                "quantity": quantity_text(quantity, listing.unit),
                "max": quantity_text(MAX_STOCK, listing.unit),
            },
            fields={"quantity": [gettext("More than the listing can hold.")]},
        )
    listing.stock_on_hand += quantity
    _save(listing)
    return listing


def stock_reserve(*, listing: Listing, quantity: Decimal) -> None:
    """Set stock aside for a placed order (see stocks_reserve)."""
    stocks_reserve(moves=[(listing, quantity)])


def stocks_reserve(*, moves: list[tuple[Listing, Decimal]]) -> None:
    """Set stock aside for a placed order, every line in one statement. The listings must be
    locked; the caller has checked availability and tells the buyer what is short (the
    assertion is a second line, the constraint a third)."""
    sql, params = stocks_reserve_statement(moves=moves)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    catalog_changed()


def stocks_reserve_statement(*, moves: list[tuple[Listing, Decimal]]) -> tuple[str, list]:
    """stocks_reserve's UPDATE (SQL and parameters), for a caller that runs it inside a
    statement of its own in the same transaction (placing an order, as a data-modifying CTE
    of the order's rows: one round trip fewer while the listings are locked). The moves are
    checked and applied to the objects in hand now; the rows change when it runs, and the
    catalog's version when the transaction commits (so call it inside that transaction)."""
    for listing, quantity in moves:
        _positive(quantity)
        if quantity > listing.available_quantity:
            raise AssertionError(f"reserving {quantity} of listing {listing.pk}: not available")
        listing.stock_reserved += quantity
    catalog_changed()
    return _update_all([listing for listing, _quantity in moves])


def stock_release(*, listing: Listing, quantity: Decimal) -> None:
    """Give reserved stock back (see stocks_release)."""
    stocks_release(moves=[(listing, quantity)])


def stocks_release(*, moves: list[tuple[Listing, Decimal]]) -> None:
    """Give reserved stock back (cancel, reject, short confirmation, expiry), in one
    statement. A listing may appear more than once (two parts of one order)."""
    moved = {}
    for listing, quantity in moves:
        if quantity == 0:
            continue
        _positive(quantity)
        listing.stock_reserved -= quantity
        moved[listing.pk] = listing
    if moved:
        _save_all(list(moved.values()))


def stock_consume(*, listing_id: int, quantity: Decimal) -> None:
    """Reserved goods leave the cooperative (see stocks_consume)."""
    stocks_consume(moves=[(listing_id, quantity)])


# Consuming on PostgreSQL: the listings are locked in primary-key order (the materialized CTE
# emits them sorted, locking each as it goes, before or as the UPDATE reaches it), then both
# columns move in the same statement. Consuming takes the same quantity off on hand and
# reserved, so what is available, and with it the sold-out status, does not change.
_CONSUME = """
WITH v (id, quantity) AS (VALUES {rows}),
locked AS MATERIALIZED (
    SELECT l.id FROM {table} AS l JOIN v ON v.id = l.id ORDER BY l.id FOR UPDATE OF l
)
UPDATE {table} SET stock_on_hand = {table}.stock_on_hand - v.quantity,
    stock_reserved = {table}.stock_reserved - v.quantity, updated_at = %s
FROM locked JOIN v ON v.id = locked.id
WHERE {table}.id = locked.id
"""


def stocks_consume(
    *, moves: Iterable[tuple[int, Decimal]], one_statement: bool | None = None
) -> None:
    """Reserved goods leave the cooperative: shipped. ``moves`` are (listing id, quantity); a
    listing may appear more than once. On PostgreSQL ONE statement locks and moves every
    listing (issue 8: a move through the API costs at most 10 queries); the embedded default
    (SQLite, one writer at a time, no row locks) reads the rows and writes them back, so the
    arithmetic stays in Decimal rather than SQLite's floating point. ``one_statement`` None:
    on PostgreSQL."""
    totals: dict[int, Decimal] = {}
    for listing_id, quantity in moves:
        if quantity == 0:
            continue
        _positive(quantity)
        totals[listing_id] = totals.get(listing_id, Decimal(0)) + quantity
    if not totals:
        return
    if one_statement is None:
        one_statement = connection.vendor == "postgresql"
    if not one_statement:
        listings = listings_lock(totals)
        for listing_id, quantity in totals.items():
            listing = listings[listing_id]
            listing.stock_reserved -= quantity
            listing.stock_on_hand -= quantity
        _save_all(list(listings.values()))
        return
    ops = connection.ops
    rows, params = [], []
    for listing_id, quantity in sorted(totals.items()):
        rows.append("(CAST(%s AS bigint), CAST(%s AS numeric))")
        params += [listing_id, ops.adapt_decimalfield_value(quantity, 12, 3)]
    sql = _CONSUME.format(rows=", ".join(rows), table=ops.quote_name(Listing._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, ops.adapt_datetimefield_value(timezone.now())])
    catalog_changed()  # no signals from raw SQL (products/catalog_cache.py)
