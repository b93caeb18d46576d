"""Which unit price applies to a quantity: the buyer's negotiated table when one is valid
today, else the listing's public tiers. Within a table, the tier with the highest threshold
the quantity reaches."""

import datetime
import json
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Aggregate, OuterRef, QuerySet, Subquery, TextField
from django.db.models.functions import JSONObject

from .models import NegotiatedPrice, NegotiatedPriceTier, PriceTier

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


class _JSONRows(Aggregate):
    """The grouped rows as a JSON array, as text: json_agg on PostgreSQL, json_group_array on
    SQLite. Text, so that prices are parsed as Decimal here, never as floats."""

    function = "JSON_GROUP_ARRAY"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            function="JSON_AGG",
            template="%(function)s(%(expressions)s)::text",
        )


def _tiers_as_json(tiers: QuerySet, group_by: str) -> Subquery:
    return Subquery(
        tiers.values(group_by)
        .annotate(rows=_JSONRows(JSONObject(q="min_quantity", p="unit_price")))
        .values("rows")
    )


def with_tables(listings: QuerySet, *, organisation_id: int, on: datetime.date) -> QuerySet:
    """Listings with their public tiers and the organisation's negotiated table valid on the
    day (the latest-starting one, as negotiated_tables chooses), in the listings' own query:
    placing an order prices every line without a query per line or per table."""
    latest = (
        NegotiatedPrice.objects.filter(
            listing_id=OuterRef(OuterRef("pk")),
            organisation_id=organisation_id,
            valid_from__lte=on,
            valid_until__gte=on,
        )
        .order_by("-valid_from", "-pk")
        .values("pk")[:1]
    )
    return listings.annotate(
        public_tiers_json=_tiers_as_json(
            PriceTier.objects.filter(listing_id=OuterRef("pk")), "listing_id"
        ),
        negotiated_tiers_json=_tiers_as_json(
            NegotiatedPriceTier.objects.filter(negotiated_price_id=Subquery(latest)),
            "negotiated_price_id",
        ),
    )


def _table(rows: str | None) -> Table | None:
    if rows is None:
        return None
    tiers = json.loads(rows, parse_float=Decimal, parse_int=Decimal)
    return sorted((Decimal(t["q"]), Decimal(t["p"])) for t in tiers)


def tables_of(listing) -> tuple[Table | None, Table]:
    """(negotiated table or None, public tiers) of a listing read through with_tables."""
    return _table(listing.negotiated_tiers_json), _table(listing.public_tiers_json) or []
