"""Writes of the catalog: categories, products, listings and lots."""

import datetime
from collections.abc import Iterable
from decimal import Decimal
from itertools import pairwise

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend import formatting
from backend.errors import Conflict
from backend.integrity import violated_constraint
from backend.pinyin import pinyin_for_search
from backend.services import model_create, model_update
from suppliers.models import Cooperative, Household

from . import stock
from .catalog_cache import catalog_changed
from .models import (
    EARLIEST_HARVEST,
    Category,
    Certification,
    Listing,
    Lot,
    LotContribution,
    NegotiatedPrice,
    NegotiatedPriceTier,
    PriceTier,
    Product,
    quantity_text,
)


def category_create(
    *, slug: str, name_zh: str, name_en: str = "", parent: Category | None = None
) -> Category:
    return model_create(Category, slug=slug, name_zh=name_zh, name_en=name_en, parent=parent)


def category_update(*, category: Category, data: dict) -> Category:
    parent = data.get("parent")
    while parent is not None:
        if parent.pk == category.pk:
            raise ValidationError({"parent": _("A category cannot sit below itself.")})
        parent = parent.parent
    category, _changed = model_update(instance=category, data=data)
    return category


def product_create(
    *,
    category: Category,
    name_zh: str,
    unit: str,
    name_en: str = "",
    description: str = "",
    is_active: bool = True,
) -> Product:
    return model_create(
        Product,
        category=category,
        name_zh=name_zh,
        name_en=name_en,
        unit=unit,
        description=description,
        is_active=is_active,
        pinyin=pinyin_for_search(name_zh),
    )


def product_update(*, product: Product, data: dict) -> Product:
    data = dict(data)
    if "name_zh" in data:
        data["pinyin"] = pinyin_for_search(data["name_zh"])
    product, _changed = model_update(instance=product, data=data)
    return product


# --- Listings ---------------------------------------------------------------------------------


def _validate_tiers(tiers: list[dict], min_order_quantity: Decimal) -> list[dict]:
    """Tiers must start at or below the minimum order (every allowed quantity has a price),
    rise strictly in quantity and never rise in price: buying more never costs more per unit."""
    if not tiers:
        raise ValidationError({"tiers": _("A listing needs at least one price tier.")})
    ordered = sorted(tiers, key=lambda tier: tier["min_quantity"])
    if len({tier["min_quantity"] for tier in ordered}) != len(ordered):
        raise ValidationError({"tiers": _("Two tiers start at the same quantity.")})
    if ordered[0]["min_quantity"] > min_order_quantity:
        raise ValidationError(
            {
                "tiers": _(
                    "The first tier starts at %(first)s, above the minimum order quantity "
                    "%(minimum)s: some quantities would have no price."
                )
                % {
                    "first": formatting.quantity(ordered[0]["min_quantity"]),
                    "minimum": formatting.quantity(min_order_quantity),
                }
            }
        )
    for lower, higher in pairwise(ordered):
        if higher["unit_price"] > lower["unit_price"]:
            raise ValidationError(
                {
                    "tiers": _(
                        "The tier from %(higher)s costs more per unit than the tier from %(lower)s."
                    )
                    % {
                        "higher": formatting.quantity(higher["min_quantity"]),
                        "lower": formatting.quantity(lower["min_quantity"]),
                    }
                }
            )
    return ordered


def _check_one_live(listing: Listing) -> None:
    if listing.status not in Listing.LIVE_STATUSES:
        return
    other = (
        Listing.objects.filter(
            cooperative_id=listing.cooperative_id,
            product_id=listing.product_id,
            grade=listing.grade,
            status__in=Listing.LIVE_STATUSES,
        )
        .exclude(pk=listing.pk)
        .values_list("pk", flat=True)
        .first()
    )
    if other is not None:
        raise Conflict(
            _(
                "This cooperative already has a live listing (#%(listing)s) for this product "
                "and grade; pause it first."
            )
            % {"listing": other},
            fields={"status": [_("Another live listing exists.")]},
            existing_listing=other,
        )


def _apply_status(listing: Listing, requested: str) -> None:
    """Sellers choose draft, active or paused; sold out follows from stock."""
    if requested == Listing.Status.SOLD_OUT:
        raise ValidationError({"status": _("Sold out is set from stock, not by hand.")})
    if requested == Listing.Status.ACTIVE and listing.available_quantity <= 0:
        requested = Listing.Status.SOLD_OUT
    listing.status = requested


LIVE_SLOT = "listing_one_live_per_cooperative_product_grade"


def _save_listing(listing: Listing) -> None:
    listing.full_clean(exclude=["certifications"], validate_constraints=False)
    _check_one_live(listing)
    try:
        with transaction.atomic():
            listing.save()
    except IntegrityError as exc:
        if violated_constraint(exc) != LIVE_SLOT:
            raise  # not the race below: a bug, for the API's handler to log
        # A concurrent publish won the race for the live slot.
        raise Conflict(
            _("Another live listing for this product and grade was just published."),
            fields={"status": [_("Another live listing exists.")]},
        ) from exc


@transaction.atomic
def listing_create(
    *,
    cooperative: Cooperative,
    product: Product,
    grade: str,
    min_order_quantity: Decimal,
    order_increment: Decimal,
    tiers: list[dict],
    unit: str = "",
    packaging: str = "",
    description: str = "",
    lead_time_days: int = 0,
    certifications: Iterable[Certification] = (),
    status: str = Listing.Status.DRAFT,
) -> Listing:
    ordered = _validate_tiers(tiers, min_order_quantity)
    listing = Listing(
        cooperative=cooperative,
        product=product,
        grade=grade,
        unit=unit or product.unit,
        packaging=packaging,
        description=description,
        min_order_quantity=min_order_quantity,
        order_increment=order_increment,
        lead_time_days=lead_time_days,
    )
    _apply_status(listing, status)
    _save_listing(listing)
    PriceTier.objects.bulk_create(PriceTier(listing=listing, **tier) for tier in ordered)
    catalog_changed()  # bulk_create sends no signal (the listing's save did; say it anyway)
    listing.certifications.set(certifications)
    return listing


@transaction.atomic
def listing_update(*, listing: Listing, data: dict) -> Listing:
    """Change a listing's offer. Tiers, when given, replace the whole table. Stock is not
    edited here: it arrives with lots (lot_receive) and moves with orders."""
    listing = stock.listing_lock(listing.pk)
    data = dict(data)
    tiers = data.pop("tiers", None)
    certifications = data.pop("certifications", None)
    status = data.pop("status", None)
    for name, value in data.items():
        setattr(listing, name, value)
    if status is not None:
        _apply_status(listing, status)
    if tiers is not None:
        ordered = _validate_tiers(tiers, listing.min_order_quantity)
        listing.tiers.all().delete()
        PriceTier.objects.bulk_create(PriceTier(listing=listing, **tier) for tier in ordered)
        catalog_changed()  # bulk_create sends no signal
    else:
        _validate_tiers(
            list(listing.tiers.values("min_quantity", "unit_price")), listing.min_order_quantity
        )
    _save_listing(listing)
    if certifications is not None:
        listing.certifications.set(certifications)
    return listing


# --- Lots ---------------------------------------------------------------------------------------


@transaction.atomic
def lot_receive(
    *,
    listing: Listing,
    code: str,
    harvest_date: datetime.date,
    quantity: Decimal,
    contributions: list[dict],
    notes: str = "",
) -> Lot:
    """Record a harvest batch and add it to the listing's stock.

    Every unit is traced: the households' contributions add up to the lot's quantity, and
    each household is a member of the listing's cooperative. The lot code is the retry key:
    sending the same lot twice is refused and adds stock once.
    """
    households: list[Household] = [entry["household"] for entry in contributions]
    if not contributions:
        raise ValidationError({"contributions": _("Name the households that supplied this lot.")})
    if len({household.pk for household in households}) != len(households):
        raise ValidationError({"contributions": _("A household appears twice.")})
    foreign = [h.pk for h in households if h.cooperative_id != listing.cooperative_id]
    if foreign:
        raise ValidationError(
            {
                "contributions": _(
                    "Households %(households)s are not members of this listing's cooperative."
                )
                % {"households": ", ".join(str(pk) for pk in foreign)}
            }
        )
    total = sum((entry["quantity"] for entry in contributions), Decimal(0))
    if total != quantity:
        # Saying by how much lets a manager find the mistyped share.
        message = (
            _("The contributions add up to %(total)s, %(difference)s short of the lot quantity.")
            if total < quantity
            else _("The contributions add up to %(total)s, %(difference)s over the lot quantity.")
        )
        raise ValidationError(
            {
                "contributions": message
                % {
                    "total": quantity_text(total, listing.unit),
                    "difference": quantity_text(abs(quantity - total), listing.unit),
                }
            }
        )
    _check_harvest_date(harvest_date)

    listing = stock.listing_lock(listing.pk)
    if Lot.objects.filter(listing=listing, code=code).exists():
        raise Conflict(
            _("Lot %(code)s was already received for this listing.") % {"code": code},
            fields={"code": [_("Already received.")]},
        )
    lot = model_create(
        Lot, listing=listing, code=code, harvest_date=harvest_date, quantity=quantity, notes=notes
    )
    LotContribution.objects.bulk_create(
        LotContribution(lot=lot, household=entry["household"], quantity=entry["quantity"])
        for entry in contributions
    )
    stock.stock_receive(listing_id=listing.pk, quantity=quantity)
    return lot


def _check_harvest_date(harvest_date: datetime.date) -> None:
    if harvest_date > timezone.localdate():
        raise ValidationError({"harvest_date": _("The harvest date is in the future.")})
    if harvest_date < EARLIEST_HARVEST:
        # Packing draws the oldest lot first: a mistyped year would be picked before all.
        raise ValidationError(
            {
                "harvest_date": _("The harvest date is before %(earliest)s.")
                % {"earliest": formatting.date(EARLIEST_HARVEST)}
            }
        )


def lot_update(*, lot: Lot, data: dict) -> Lot:
    """Correct a lot's notes or harvest date; quantities are fixed once received."""
    if "harvest_date" in data:
        _check_harvest_date(data["harvest_date"])
    lot, _changed = model_update(instance=lot, data=data)
    return lot


# --- Negotiated prices ----------------------------------------------------------------------


@transaction.atomic
def negotiated_price_create(
    *,
    listing: Listing,
    organisation,
    valid_from: datetime.date,
    valid_until: datetime.date,
    tiers: list[dict],
    note: str = "",
) -> NegotiatedPrice:
    """Give one buyer organisation its own price table for a listing, for a date range. Its
    tiers follow the same rules as public ones; ranges for the same buyer and listing may not
    overlap (one price applies on any day)."""
    if valid_until < valid_from:
        raise ValidationError({"valid_until": _("The range ends before it starts.")})
    ordered = _validate_tiers(tiers, listing.min_order_quantity)
    stock.listing_lock(listing.pk)  # serialise overlapping creations for this listing
    overlapping = NegotiatedPrice.objects.filter(
        listing=listing,
        organisation=organisation,
        valid_from__lte=valid_until,
        valid_until__gte=valid_from,
    ).values_list("pk", flat=True)
    if overlapping:
        raise Conflict(
            _("This buyer already has a negotiated price for this listing in that period."),
            fields={
                "valid_from": [
                    _("Overlaps negotiated price %(prices)s.")
                    % {"prices": ", ".join(str(pk) for pk in overlapping)}
                ]
            },
        )
    negotiated = model_create(
        NegotiatedPrice,
        listing=listing,
        organisation=organisation,
        valid_from=valid_from,
        valid_until=valid_until,
        note=note,
    )
    NegotiatedPriceTier.objects.bulk_create(
        NegotiatedPriceTier(negotiated_price=negotiated, **tier) for tier in ordered
    )
    return negotiated


def negotiated_price_delete(*, negotiated: NegotiatedPrice) -> None:
    """Withdraw a negotiated price. Orders already placed keep the prices on their lines."""
    negotiated.delete()
