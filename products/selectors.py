"""Reads of the catalog, scoped by products.access to what the user may see."""

import json
from dataclasses import dataclass
from decimal import Decimal

from django.db import connections
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery, TextField
from django.db.models.expressions import RawSQL

from accounts.models import User
from suppliers.models import Household

from . import access
from .models import (
    Category,
    Certification,
    Listing,
    Lot,
    LotContribution,
    NegotiatedPrice,
    PriceTier,
    Product,
)


def category_list(*, user: User) -> QuerySet[Category]:
    """The shared catalog: every signed-in role sees all of it (the permission keeps
    anonymous requests out)."""
    return Category.objects.all()


def certification_list(*, user: User) -> QuerySet[Certification]:
    return Certification.objects.order_by("code")


def product_list(*, user: User) -> QuerySet[Product]:
    return Product.objects.all()


def category_descendant_ids(*, category_id: int) -> list[int]:
    """The category and everything below it. The tree is small (tens of nodes): one query,
    walked in memory."""
    children: dict[int | None, list[int]] = {}
    for node_id, parent_id in Category.objects.values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(node_id)
    found, stack = [], [category_id]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(children.get(node, []))
    return found


def _base_price():
    """The unit price at the listing's lowest tier: what a buyer pays for the minimum order."""
    first_tier = PriceTier.objects.filter(listing=OuterRef("pk")).order_by("min_quantity")
    return Subquery(first_tier.values("unit_price")[:1])


def visible_listings(*, user: User) -> QuerySet[Listing]:
    """The listings the user may see, bare (for lookups: a standing order's lines)."""
    return access.listings_visible(user=user, queryset=Listing.objects.all())


def listing_list(*, user: User) -> QuerySet[Listing]:
    """Visible listings with everything the list shows, in a fixed number of queries."""
    return (
        visible_listings(user=user)
        .select_related("product__category", "cooperative")
        .prefetch_related("tiers", "certifications")
        .annotate(base_price=_base_price())
    )


def lot_list(*, user: User) -> QuerySet[Lot]:
    """Lots behind the listings the user can see, with their household contributions."""
    contributions = LotContribution.objects.select_related("household").order_by("id")
    return (
        Lot.objects.filter(listing__in=visible_listings(user=user))
        .select_related("listing")
        .prefetch_related(Prefetch("contributions", queryset=contributions))
    )


# The listing list is the hottest read (phones browse it, partner systems poll it). It is
# built from plain rows: no model instances, no per-field serializer calls, three queries
# whatever the page size. ListingSerializer stays the definition of the shape (detail, writes,
# OpenAPI); tests/products/test_listing_rows.py holds the two to the same output.
LISTING_ROW_COLUMNS = {
    "id": "id",
    "cooperative": "cooperative_id",
    "cooperative_name": "cooperative__name_zh",
    "product": "product_id",
    "product_name_zh": "product__name_zh",
    "product_name_en": "product__name_en",
    "category": "product__category_id",
    "grade": "grade",
    "unit": "unit",
    "packaging": "packaging",
    "description": "description",
    "min_order_quantity": "min_order_quantity",
    "order_increment": "order_increment",
    "base_price": "base_price",
    "stock_on_hand": "stock_on_hand",
    "stock_reserved": "stock_reserved",
    "lead_time_days": "lead_time_days",
    "status": "status",
    "created_at": "created_at",
    "updated_at": "updated_at",
}


def listing_rows_queryset(queryset: QuerySet[Listing]) -> QuerySet:
    """The (filtered, ordered) listing queryset as rows with the list's columns."""
    return queryset.prefetch_related(None).values(*LISTING_ROW_COLUMNS.values())


def listing_rows(rows: list[dict], *, fields: set[str] | None = None) -> list[dict]:
    """Turn a page of rows into the listing list's JSON-ready dicts (the same shape
    ListingSerializer gives), fetching tiers and certifications for the page in one query
    each, and only when asked for."""
    from rest_framework.fields import DateTimeField

    wanted = (
        fields
        if fields is not None
        else {*LISTING_ROW_COLUMNS, "available_quantity", "tiers", "certifications"}
    )
    ids = [row["id"] for row in rows]
    tiers: dict[int, list[dict]] = {}
    if "tiers" in wanted:
        for listing_id, min_quantity, unit_price in (
            PriceTier.objects.filter(listing_id__in=ids)
            .order_by("listing_id", "min_quantity")
            .values_list("listing_id", "min_quantity", "unit_price")
        ):
            tiers.setdefault(listing_id, []).append(
                {"min_quantity": str(min_quantity), "unit_price": str(unit_price)}
            )
    certifications: dict[int, list[str]] = {}
    if "certifications" in wanted:
        through = Listing.certifications.through.objects
        for listing_id, code in (
            through.filter(listing_id__in=ids)
            .order_by("certification__code")
            .values_list("listing_id", "certification__code")
        ):
            certifications.setdefault(listing_id, []).append(code)

    as_datetime = DateTimeField().to_representation
    out = []
    for row in rows:
        item = {name: row[column] for name, column in LISTING_ROW_COLUMNS.items()}
        available = item["stock_on_hand"] - item["stock_reserved"]
        for name in ("min_order_quantity", "order_increment", "stock_on_hand", "stock_reserved"):
            item[name] = str(item[name])
        item["base_price"] = None if item["base_price"] is None else str(item["base_price"])
        item["available_quantity"] = str(available)
        item["created_at"] = as_datetime(item["created_at"])
        item["updated_at"] = as_datetime(item["updated_at"])
        item["tiers"] = tiers.get(row["id"], [])
        item["certifications"] = certifications.get(row["id"], [])
        out.append({name: value for name, value in item.items() if name in wanted})
    return out


def negotiated_price_list(*, user: User) -> QuerySet:
    """A negotiated price is seen by staff, the listing's cooperative and the one buyer
    organisation it is for; no other buyer."""
    qs = NegotiatedPrice.objects.select_related("listing").prefetch_related("tiers")
    return access.negotiated_prices_visible(user=user, queryset=qs)


# --- lots with the households behind them, in the lots' own query ------------------------------

# Each lot's contributions as a JSON array of [contribution id, household id, name, village,
# on poverty list, quantity], as text (quantities parsed as Decimal here, never as floats).
# Plain SQL like the price tables of the listing lock (products/pricing.py): a pick list then
# costs one query whatever its lots, instead of a second one for their households. Only
# the JSON functions' names differ between the two dialects.
_HOUSEHOLD_ROWS = {
    "postgresql": (
        "json_agg(json_build_array(c.id, c.household_id, h.name, h.village, "
        "h.on_poverty_list, c.quantity))::text"
    ),
    "sqlite": (
        "json_group_array(json_array(c.id, c.household_id, h.name, h.village, "
        "h.on_poverty_list, c.quantity))"
    ),
}
_HOUSEHOLDS = (
    "(SELECT {rows} FROM {contributions} c INNER JOIN {households} h ON h.id = c.household_id "
    "WHERE c.lot_id = {lot}.id)"
)


@dataclass(frozen=True)
class Contribution:
    """What one household gave a lot, as a pick list names it."""

    household: int
    name: str
    village: str
    on_poverty_list: bool
    quantity: Decimal


def with_households(queryset: QuerySet) -> QuerySet:
    """``queryset`` with each lot's contributions and households in the same query, as
    ``households_json``: a queryset of lots, or of rows with their lot joined once
    (select_related("lot")), whose alias is then the lot table's name. Read them with
    households_of."""
    connection = connections[queryset.db]
    ops = connection.ops
    sql = _HOUSEHOLDS.format(
        rows=_HOUSEHOLD_ROWS[connection.vendor],
        contributions=ops.quote_name(LotContribution._meta.db_table),
        households=ops.quote_name(Household._meta.db_table),
        lot=ops.quote_name(Lot._meta.db_table),
    )
    return queryset.annotate(households_json=RawSQL(sql, [], output_field=TextField()))


def households_of(row) -> list[Contribution]:
    """The contributions a with_households query brought, in the order they were recorded."""
    if row.households_json is None:
        return []
    entries = json.loads(row.households_json, parse_float=Decimal, parse_int=Decimal)
    return [
        Contribution(int(household), name, village, bool(poor), Decimal(quantity))
        for _id, household, name, village, poor, quantity in sorted(entries, key=lambda e: e[0])
    ]
