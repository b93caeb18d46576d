"""Which unit price applies to a quantity: the buyer's negotiated table when one is valid
today, else the listing's public tiers. Within a table, the tier with the highest threshold
the quantity reaches."""

import datetime
from collections.abc import Iterable
from decimal import Decimal

from .models import NegotiatedPriceTier, PriceTier

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
