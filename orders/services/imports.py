"""Purchase lists: a spreadsheet read into a preview a buyer checks, then placed as orders
through order_place, the one way orders are placed.

A preview resolves each row (listing, cooperative, the price the quantity reaches, the line
total) or says what is wrong with it (row, column, code, message), and groups the good rows
into the orders placing would make: one per store, with a part per cooperative as placing
always splits them. Placing re-checks everything at that moment (stock, prices, minimums),
all stores' orders or none, and once: the preview's id and the store are each order's key.
"""

import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from backend import formatting
from backend.errors import Conflict, DomainError, Forbidden
from backend.money import MAX_AMOUNT, round_fen
from buyers.models import Store
from buyers.selectors import store_list
from products import pricing, stock
from products.models import Listing
from products.selectors import visible_listings

from .. import spreadsheets
from ..access import check_orders_for_organisation
from ..models import PurchaseImport, PurchaseImportOrder
from .placement import line_price, order_place
from .policies import BuyerRequest, Findings, LineRequest, Part, below_minimum_text

__all__ = ["purchase_import_place", "purchase_import_preview"]

_ID = re.compile(r"[0-9]{1,18}")
_QUANTITY = re.compile(r"[0-9]{1,9}(\.[0-9]{1,3})?")
MAX_QUANTITY = Decimal("100000000")


@dataclass
class _Row:
    number: int
    values: dict[str, str]
    errors: list[dict]
    listing: Listing | None = None
    store: Store | None = None
    quantity: Decimal | None = None
    price: tuple[Decimal, str, Decimal] | None = None

    def refuse(self, column: str, code: str, message: str) -> None:
        self.errors.append({"column": column, "code": code, "message": str(message)})


def _organisation(user: User):
    membership = check_orders_for_organisation(user=user)
    if not membership.organisation.is_active:
        raise Forbidden(_("This buyer organisation is not active."))
    return membership.organisation


def _listings(*, user: User, organisation, rows: list[_Row]) -> QuerySet:
    """The live listings the rows may name, by id or by product (id or name), priced for the
    organisation today, in one query."""
    ids, products, names = set(), set(), set()
    for row in rows:
        listing, product = row.values.get("listing", ""), row.values.get("product", "")
        if _ID.fullmatch(listing):
            ids.add(int(listing))
        if _ID.fullmatch(product):
            products.add(int(product))
        elif product:
            names.add(product)
    wanted = Q(pk__in=ids) | Q(product_id__in=products) | Q(product__name_zh__in=names)
    live = (
        visible_listings(user=user)
        .filter(wanted, status__in=Listing.LIVE_STATUSES, cooperative__is_active=True)
        .select_related("product", "cooperative")
        .order_by("pk")
    )
    return pricing.with_tables(live, organisation_id=organisation.pk, on=timezone.localdate())


def _resolve_listing(row: _Row, by_id: dict[int, Listing]) -> None:
    listing, product = row.values.get("listing", ""), row.values.get("product", "")
    if listing:
        if not _ID.fullmatch(listing):
            row.refuse("listing", "invalid", _("Enter a listing id (a whole number)."))
        elif int(listing) not in by_id:
            row.refuse("listing", "not_on_sale", _("This listing is not on sale."))
        else:
            row.listing = by_id[int(listing)]
            if product and product not in (
                str(row.listing.product_id),
                row.listing.product.name_zh,
            ):
                row.refuse("product", "mismatch", _("This listing is of another product."))
        return
    if not product:
        row.refuse("listing", "required", _("Name a listing or a product."))
        return
    candidates = [
        item for item in by_id.values() if product in (str(item.product_id), item.product.name_zh)
    ]
    if not candidates:
        row.refuse("product", "not_on_sale", _("No listing of this product is on sale."))
    elif len(candidates) > 1:
        row.refuse(
            "product",
            "ambiguous",
            _("Several listings of this product are on sale (%(listings)s): name the listing.")
            % {"listings": ", ".join(str(item.pk) for item in candidates)},
        )
    else:
        row.listing = candidates[0]


def _resolve_store(row: _Row, stores: dict[str, Store]) -> None:
    name = row.values.get("store", "")
    row.store = stores.get(name) if name else None
    if row.store is None:
        row.refuse("store", "unknown_store", _("Not an active store of your organisation."))


def _resolve_quantity(row: _Row) -> None:
    text = row.values.get("quantity", "")
    quantity = Decimal(text) if _QUANTITY.fullmatch(text) else None
    if quantity is None or not 0 < quantity <= MAX_QUANTITY:
        row.refuse(
            "quantity",
            "invalid",
            _("Enter a quantity above 0 and up to %(maximum)s, with at most 3 decimals.")
            % {"maximum": formatting.quantity(MAX_QUANTITY)},
        )
    else:
        row.quantity = quantity


def _check_rules(row: _Row, seen: dict[tuple[int, int], int]) -> None:
    """The rules order_place applies to a line (minimum, increment, stock), with its words;
    a listing named twice for one store is refused, as on one order."""
    if row.listing is None or row.quantity is None:
        return
    found = Findings()
    BuyerRequest().line(
        at="row",
        listing=row.listing,
        line=LineRequest(row.listing.pk, row.quantity),
        too_soon=False,
        found=found,
    )
    for messages in found.errors.values():
        for message in messages:
            row.refuse("quantity", "quantity_rule", message)
    for messages in found.shortages.values():
        for message in messages:
            row.refuse("quantity", "insufficient_stock", message)
    if row.store is not None:
        key = (row.store.pk, row.listing.pk)
        if key in seen:
            row.refuse(
                "listing",
                "repeated",
                _("This listing is on row %(row)s for the same store already; combine them.")
                % {"row": seen[key]},
            )
        seen.setdefault(key, row.number)
    if not row.errors:
        price = line_price(row.listing, row.quantity)
        if price is None:
            row.refuse("quantity", "quantity_rule", _("No price reaches this quantity."))
        else:
            unit_price, source = price
            row.price = (unit_price, source, round_fen(row.quantity * unit_price))


def _groups(rows: list[_Row]) -> list[dict]:
    """The orders placing would make: one per store, a part per cooperative, each part at
    least its cooperative's minimum order value, each order within the amount one order may
    hold."""
    by_store: dict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        if row.store is not None and row.price is not None:
            by_store[row.store.pk].append(row)
    groups = []
    for store_rows in by_store.values():
        store = store_rows[0].store
        parts: dict[int, Part] = {}
        for row in store_rows:
            cooperative = row.listing.cooperative
            part = parts.setdefault(cooperative.pk, Part(cooperative, [], Decimal(0)))
            part.listing_ids.append(row.listing.pk)
            part.subtotal += row.price[2]
        total = sum(part.subtotal for part in parts.values())
        errors = [
            {"code": "below_minimum_order_value", "message": str(below_minimum_text(part))}
            for part in parts.values()
            if part.subtotal < part.cooperative.min_order_value
        ]
        if total > MAX_AMOUNT:
            errors.append(
                {
                    "code": "too_large",
                    "message": _(
                        "This order comes to more than %(maximum)s; split it into several."
                    )
                    % {"maximum": formatting.money(MAX_AMOUNT)},
                }
            )
        groups.append(
            {
                "store": store.pk,
                "store_name": store.name,
                "rows": [row.number for row in store_rows],
                "parts": [
                    {
                        "cooperative": part.cooperative.pk,
                        "cooperative_name": part.cooperative.name_zh,
                        "subtotal": f"{part.subtotal:.2f}",
                    }
                    for part in parts.values()
                ],
                "total": f"{total:.2f}",
                "errors": errors,
            }
        )
    return groups


def _stored(row: _Row) -> dict:
    listing, price = row.listing, row.price
    return {
        "row": row.number,
        "values": row.values,
        "listing": listing.pk if listing else None,
        "product_name": listing.product.name_zh if listing else "",
        "cooperative": listing.cooperative_id if listing else None,
        "cooperative_name": listing.cooperative.name_zh if listing else "",
        "store": row.store.pk if row.store else None,
        "quantity": f"{row.quantity.normalize():f}" if row.quantity is not None else None,
        "unit": listing.unit if listing else "",
        "unit_price": f"{price[0]:.2f}" if price else None,
        "price_source": price[1] if price else "",
        "line_total": f"{price[2]:.2f}" if price else None,
        "errors": row.errors,
    }


def purchase_import_preview(*, user: User, file_name: str, content: bytes) -> PurchaseImport:
    """Read a purchase list and store its preview. The file itself is refused (400, nothing
    written) when it cannot be read as one (spreadsheets.read); a row that names no listing
    on sale, no store of the organisation, or a quantity the listing's rules or stock refuse
    is kept with its errors, and such a preview cannot be placed."""
    organisation = _organisation(user)
    sheet = spreadsheets.read(file_name=file_name, content=content)
    rows = [_Row(number, values, []) for number, values in sheet.rows]
    by_id = {
        listing.pk: listing
        for listing in _listings(user=user, organisation=organisation, rows=rows)
    }
    stores: dict[str, Store] = {}
    for store in store_list(user=user).filter(organisation=organisation, is_active=True):
        stores.setdefault(store.name, store)
        stores[str(store.pk)] = store  # an id wins over a store named like one
    seen: dict[tuple[int, int], int] = {}
    for row in rows:
        _resolve_listing(row, by_id)
        _resolve_store(row, stores)
        _resolve_quantity(row)
        _check_rules(row, seen)
    groups = _groups(rows)
    errors = sum(1 for row in rows if row.errors) + sum(1 for group in groups if group["errors"])
    return PurchaseImport.objects.create(
        organisation=organisation,
        created_by=user,
        # A name is the client's text: no control characters (PostgreSQL refuses NUL).
        file_name="".join(c for c in file_name if c.isprintable())[:200],
        rows=[_stored(row) for row in rows],
        groups=groups,
        error_count=errors,
        expires_at=timezone.now() + settings.PURCHASE_IMPORT_TTL,
    )


# --- placing ------------------------------------------------------------------------------------
_LINE_FIELD = re.compile(r"lines\.([0-9]+)\.(.+)")


def _at_rows(fields: dict, rows: list[dict], store_id: int) -> dict[str, list]:
    """order_place names a field of its request (``lines.0.quantity``): name the row of the
    file instead (``rows.7.quantity``), and the store's order for the rest."""
    out: dict[str, list] = {}
    for key, messages in fields.items():
        match = _LINE_FIELD.fullmatch(key)
        if match:
            key = f"rows.{rows[int(match[1])]['row']}.{match[2]}"
        else:
            key = f"stores.{store_id}.{key}"
        out.setdefault(key, []).extend(messages if isinstance(messages, list) else [messages])
    return out


def _place_group(*, user: User, store: Store, rows: list[dict]):
    lines = [LineRequest(row["listing"], Decimal(row["quantity"])) for row in rows]
    try:
        return order_place(user=user, store=store, lines=lines).order
    except ValidationError as exc:
        raise ValidationError(_at_rows(exc.message_dict, rows, store.pk)) from exc
    except DomainError as exc:
        exc.fields = _at_rows(exc.fields, rows, store.pk)
        raise


def purchase_import_place(*, user: User, purchase_import: PurchaseImport) -> PurchaseImport:
    """Place a preview's orders: every store's order or none, once. Each order goes through
    order_place, which checks it again now (stock, price, minimums: a refusal names the
    row). A placed preview answers the orders it made and places nothing more; one with
    errors, or past its expiry, is refused (409).

    Lock order: the preview first (two requests placing it queue here, and the second finds
    it placed), then every listing of every store in primary-key order, before any order is
    placed: the orders' own listing locks are then already held, so placing several orders
    in one transaction takes listings in one order, as a single order does."""
    membership = check_orders_for_organisation(user=user)
    if membership.organisation_id != purchase_import.organisation_id:
        raise Forbidden(_("Only members of a buyer organisation place orders."))
    with transaction.atomic():
        locked = PurchaseImport.objects.select_for_update(of=("self",)).get(pk=purchase_import.pk)
        if locked.status == PurchaseImport.Status.PLACED:
            return locked
        if locked.error_count:
            raise Conflict(
                _("This purchase list has rows with errors: correct the file and upload it again.")
            )
        if locked.expires_at <= timezone.now():
            raise Conflict(
                _("This preview expired on %(date)s: upload the file again.")
                % {"date": formatting.date(timezone.localtime(locked.expires_at).date())}
            )
        by_row = {row["row"]: row for row in locked.rows}
        stock.listings_lock(row["listing"] for row in locked.rows)
        stores = Store.objects.in_bulk([group["store"] for group in locked.groups])
        made = []
        for group in sorted(locked.groups, key=lambda g: g["store"]):
            store = stores[group["store"]]
            rows = [by_row[number] for number in group["rows"]]
            order = _place_group(user=user, store=store, rows=rows)
            made.append(PurchaseImportOrder(purchase_import=locked, store=store, order=order))
        PurchaseImportOrder.objects.bulk_create(made)
        locked.status, locked.placed_at = PurchaseImport.Status.PLACED, timezone.now()
        locked.save(update_fields=["status", "placed_at"])
    return locked
