"""Which unit price applies to a quantity: the buyer's negotiated table when one is valid
today, else the listing's public tiers. Within a table, the tier with the highest threshold
the quantity reaches."""

import datetime
import json
from collections.abc import Iterable
from decimal import Decimal

from django.db import connections
from django.db.models import QuerySet, TextField
from django.db.models.expressions import RawSQL

from .models import Listing, NegotiatedPrice, NegotiatedPriceTier, PriceTier

Table = list[tuple[Decimal, Decimal]]  # (min_quantity, unit_price), rising quantities


def unit_price_in(table: Table, quantity: Decimal) -> Decimal | None:
    price = None
    for min_quantity, unit_price in table:
        if quantity >= min_quantity:
            price = unit_price
    return price


def public_tables(listing_ids: Iterable[int]) -> dict[int, Table]:
    tables: dict[int, Table] = {}
    rows = (
        PriceTier.objects.filter(listing_id__in=listing_ids)
        .order_by("listing_id", "min_quantity")
        .values_list("listing_id", "min_quantity", "unit_price")
    )
    for listing_id, min_quantity, unit_price in rows:
        tables.setdefault(listing_id, []).append((min_quantity, unit_price))
    return tables


def negotiated_tables(
    *, organisation_id: int, listing_ids: Iterable[int], on: datetime.date
) -> dict[int, Table]:
    """The organisation's negotiated tables valid on the date (the latest-starting one wins if
    ranges overlap)."""
    tables: dict[int, Table] = {}
    chosen: dict[int, int] = {}
    rows = (
        NegotiatedPriceTier.objects.filter(
            negotiated_price__organisation_id=organisation_id,
            negotiated_price__listing_id__in=listing_ids,
            negotiated_price__valid_from__lte=on,
            negotiated_price__valid_until__gte=on,
        )
        .order_by("negotiated_price__valid_from", "negotiated_price_id", "min_quantity")
        .values_list(
            "negotiated_price__listing_id", "negotiated_price_id", "min_quantity", "unit_price"
        )
    )
    for listing_id, price_id, min_quantity, unit_price in rows:
        if chosen.get(listing_id) != price_id:
            chosen[listing_id] = price_id
            tables[listing_id] = []
        tables[listing_id].append((min_quantity, unit_price))
    return tables


# --- the tables in the query that locks the listings (order placement) ----------------------

# Each listing's tiers as a JSON array of [min_quantity, unit_price], as text (so that prices
# are parsed as Decimal here, never as floats). Plain SQL on purpose: the same subqueries
# built with the ORM cost about 15 ms of CPU per order to resolve and compile, more than the
# rest of the lock query. The two dialects differ only in the JSON functions' names.
_ROWS = {
    "postgresql": "json_agg(json_build_array(t.min_quantity, t.unit_price))::text",
    "sqlite": "json_group_array(json_array(t.min_quantity, t.unit_price))",
}
_PUBLIC = "(SELECT {rows} FROM {tiers} t WHERE t.listing_id = {listing}.id)"
# The organisation's table valid on the day: the latest-starting one, as negotiated_tables
# chooses.
_NEGOTIATED = (
    "(SELECT {rows} FROM {tiers} t WHERE t.negotiated_price_id = ("
    "SELECT p.id FROM {prices} p WHERE p.listing_id = {listing}.id AND p.organisation_id = %s "
    "AND p.valid_from <= %s AND p.valid_until >= %s ORDER BY p.valid_from DESC, p.id DESC "
    "LIMIT 1))"
)


def table_columns(connection, *, organisation_id: int, on: datetime.date) -> list:
    """(name, SQL, parameters) of the two price-table columns of a query over listings (its
    listing table named as is, not aliased): what with_tables annotates, as plain SQL for a
    statement written by hand (products.stock.listings_lock)."""
    ops = connection.ops
    names = {
        "rows": _ROWS[connection.vendor],
        "listing": ops.quote_name(Listing._meta.db_table),
        "prices": ops.quote_name(NegotiatedPrice._meta.db_table),
    }
    day = ops.adapt_datefield_value(on)
    return [
        (
            "public_tiers_json",
            _PUBLIC.format(**names, tiers=ops.quote_name(PriceTier._meta.db_table)),
            [],
        ),
        (
            "negotiated_tiers_json",
            _NEGOTIATED.format(**names, tiers=ops.quote_name(NegotiatedPriceTier._meta.db_table)),
            [organisation_id, day, day],
        ),
    ]


def with_tables(listings: QuerySet, *, organisation_id: int, on: datetime.date) -> QuerySet:
    """Listings with their public tiers and the organisation's negotiated table valid on the
    day, in the listings' own query: placing an order prices every line without a query per
    line or per table. Read them with tables_of."""
    columns = table_columns(connections[listings.db], organisation_id=organisation_id, on=on)
    return listings.annotate(
        **{name: RawSQL(sql, params, output_field=TextField()) for name, sql, params in columns}
    )


def _table(rows: str | None) -> Table | None:
    if rows is None:
        return None
    tiers = json.loads(rows, parse_float=Decimal, parse_int=Decimal)
    return sorted((Decimal(q), Decimal(p)) for q, p in tiers)


def tables_of(listing) -> tuple[Table | None, Table]:
    """(negotiated table or None, public tiers) of a listing read through with_tables."""
    return _table(listing.negotiated_tiers_json), _table(listing.public_tiers_json) or []
