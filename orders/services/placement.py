"""Placing an order: check every line, price it, split it per cooperative and reserve its
stock, all or nothing, in one transaction."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from backend.errors import Conflict, DomainError, Forbidden
from backend.money import MAX_AMOUNT, round_fen
from buyers.models import Membership, Store
from buyers.selectors import membership_of
from products import pricing, stock
from products.models import Listing

from ..models import Fulfilment, FulfilmentStatus, Order, OrderEvent, OrderLine

# Orders are for goods in stock or soon harvested; a date further ahead is a typo.
MAX_LEAD = datetime.timedelta(days=366)


class InsufficientStock(Conflict):
    """Some lines ask for more than is available; nothing was reserved."""

    code = "insufficient_stock"


class BelowMinimumOrderValue(DomainError):
    code = "below_minimum_order_value"


@dataclass
class LineRequest:
    listing_id: int
    quantity: Decimal


@dataclass
class Placement:
    """What order_place did. ``adjusted`` lists lines it had to cut (only with partial=True,
    for standing orders)."""

    order: Order | None
    adjusted: list[str] = field(default_factory=list)


def _fmt(quantity: Decimal) -> str:
    return f"{quantity.normalize():f}"


def _largest_allowed(listing: Listing, wanted: Decimal) -> Decimal:
    """The largest quantity ≤ wanted and ≤ available that the listing's rules allow (0 if
    none): minimum order plus whole increments."""
    cap = min(wanted, listing.available_quantity)
    if cap < listing.min_order_quantity:
        return Decimal(0)
    steps = (cap - listing.min_order_quantity) // listing.order_increment
    return listing.min_order_quantity + steps * listing.order_increment


def order_place(
    *,
    user: User,
    store: Store,
    lines: list[LineRequest],
    requested_delivery_date: datetime.date | None = None,
    note: str = "",
    reorder_of: Order | None = None,
    standing_order=None,
    partial: bool = False,
) -> Placement:
    """Place an order for the user's buyer organisation.

    Each line must be a listing on sale, at least its minimum quantity, in whole increments,
    and available; its unit price is the tier the quantity reaches in the organisation's
    negotiated table (if one is valid today) or the public tiers. Lines split into one
    fulfilment per cooperative, and a part below the cooperative's minimum order value is
    refused. Stock for every line is reserved atomically: listings are locked in primary-key
    order, and any shortfall refuses the whole order (409, with what is available).

    With ``partial`` (standing orders), lines that cannot be placed in full are cut to what
    is allowed or dropped, and listed in ``Placement.adjusted``, instead of refusing.
    """
    membership = membership_of(user=user)
    if membership is None:
        raise Forbidden("Only members of a buyer organisation place orders.")
    organisation = membership.organisation
    if not organisation.is_active:
        raise Forbidden("This buyer organisation is not active.")
    if store.organisation_id != organisation.pk or not store.is_active:
        raise ValidationError({"store": "Not an active store of your organisation."})
    if not lines:
        raise ValidationError({"lines": "An order needs at least one line."})
    if len({line.listing_id for line in lines}) != len(lines):
        raise ValidationError({"lines": "A listing appears on two lines; combine them."})
    today = timezone.localdate()
    if requested_delivery_date is not None and requested_delivery_date < today:
        raise ValidationError({"requested_delivery_date": "The date is in the past."})
    if requested_delivery_date is not None and requested_delivery_date > today + MAX_LEAD:
        raise ValidationError(
            {
                "requested_delivery_date": gettext(
                    "Delivery can be requested up to %(days)s days ahead."
                )
                % {"days": MAX_LEAD.days}
            }
        )

    with transaction.atomic():
        listings = stock.listings_lock(line.listing_id for line in lines)
        errors: dict[str, list[str]] = {}
        shortages: dict[str, list[str]] = {}
        available: dict[str, str] = {}
        adjusted: list[str] = []
        wanted: dict[int, Decimal] = {}
        for index, line in enumerate(lines):
            listing = listings.get(line.listing_id)
            at = f"lines.{index}"
            if (
                listing is None
                or not listing.cooperative.is_active
                or listing.status not in (Listing.LIVE_STATUSES)
            ):
                if partial:
                    adjusted.append(f"listing {line.listing_id}: not on sale, left out")
                    continue
                errors[f"{at}.listing"] = ["This listing is not on sale."]
                continue
            quantity = line.quantity
            too_soon = requested_delivery_date is not None and requested_delivery_date < (
                today + datetime.timedelta(days=listing.lead_time_days)
            )
            if partial:
                allowed = 0 if too_soon else _largest_allowed(listing, quantity)
                if too_soon:
                    adjusted.append(
                        f"{listing.product.name_zh} ({listing.pk}): needs "
                        f"{listing.lead_time_days} days to prepare, left out"
                    )
                elif allowed != quantity:
                    adjusted.append(
                        f"{listing.product.name_zh} ({listing.pk}): {_fmt(allowed)} of "
                        f"{_fmt(quantity)} {listing.unit}"
                    )
                if allowed:
                    wanted[listing.pk] = allowed
                continue
            if quantity < listing.min_order_quantity:
                errors[f"{at}.quantity"] = [
                    f"The minimum order is {_fmt(listing.min_order_quantity)} {listing.unit}."
                ]
            elif (quantity - listing.min_order_quantity) % listing.order_increment:
                errors[f"{at}.quantity"] = [
                    f"Order {_fmt(listing.min_order_quantity)} {listing.unit} plus steps of "
                    f"{_fmt(listing.order_increment)}."
                ]
            elif quantity > listing.available_quantity:
                shortages[f"{at}.quantity"] = [
                    f"Only {_fmt(listing.available_quantity)} {listing.unit} available."
                ]
                available[str(listing.pk)] = _fmt(listing.available_quantity)
            if too_soon:
                errors.setdefault("requested_delivery_date", []).append(
                    f"Listing {listing.pk} needs {listing.lead_time_days} days to prepare."
                )
            wanted[listing.pk] = quantity
        if errors:
            raise ValidationError(errors)
        if shortages:
            raise InsufficientStock(
                "Not enough stock for some lines; nothing was reserved.",
                fields=shortages,
                available=available,
            )
        if not wanted:
            return Placement(order=None, adjusted=adjusted)

        negotiated = pricing.negotiated_tables(
            organisation_id=organisation.pk, listing_ids=wanted, on=today
        )
        public = pricing.public_tables(wanted)
        priced: dict[int, tuple[Decimal, str, Decimal]] = {}
        for listing_id, quantity in wanted.items():
            table, source = negotiated.get(listing_id), OrderLine.PriceSource.NEGOTIATED
            if table is None or pricing.unit_price_in(table, quantity) is None:
                table, source = public.get(listing_id, []), OrderLine.PriceSource.PUBLIC
            unit_price = pricing.unit_price_in(table, quantity)
            if unit_price is None:  # tiers start at or below the minimum: cannot happen
                raise ValidationError({"lines": f"Listing {listing_id} has no price."})
            priced[listing_id] = (unit_price, source, round_fen(quantity * unit_price))

        if sum(entry[2] for entry in priced.values()) > MAX_AMOUNT:
            raise ValidationError(
                {"lines": f"This order comes to more than ¥{MAX_AMOUNT}; split it into several."}
            )

        by_cooperative: dict[int, list[int]] = defaultdict(list)
        for listing_id in wanted:
            by_cooperative[listings[listing_id].cooperative_id].append(listing_id)
        too_small = {}
        for cooperative_id, listing_ids in by_cooperative.items():
            cooperative = listings[listing_ids[0]].cooperative
            subtotal = sum(priced[i][2] for i in listing_ids)
            if subtotal < cooperative.min_order_value:
                too_small[str(cooperative_id)] = str(cooperative.min_order_value)
                errors.setdefault("lines", []).append(
                    f"{cooperative.name_zh} delivers orders from ¥{cooperative.min_order_value}; "
                    f"your part comes to ¥{subtotal}."
                )
        if too_small:
            raise BelowMinimumOrderValue(
                "Part of this order is below a cooperative's minimum order value.",
                fields=errors,
                minimum_order_values=too_small,
            )

        total = sum(entry[2] for entry in priced.values())
        threshold = organisation.approval_threshold
        over_threshold = threshold is not None and total > threshold
        # An approver placing an order approves it by placing it.
        self_approved = over_threshold and membership.role == Membership.Role.APPROVER
        needs_approval = over_threshold and not self_approved
        status = FulfilmentStatus.PENDING_APPROVAL if needs_approval else FulfilmentStatus.PLACED
        now = timezone.now()
        order = Order.objects.create(
            organisation=organisation,
            store=store,
            placed_by=user,
            status=status,
            total=total,
            requested_delivery_date=requested_delivery_date,
            note=note,
            reservation_expires_at=now + settings.ORDER_RESERVATION_TTL,
            approved_by=user if self_approved else None,
            approved_at=now if self_approved else None,
            reorder_of=reorder_of,
            standing_order=standing_order,
        )
        order_lines = []
        events = []
        for cooperative_id, listing_ids in by_cooperative.items():
            fulfilment = Fulfilment.objects.create(
                order=order,
                cooperative_id=cooperative_id,
                status=status,
                subtotal=sum(priced[i][2] for i in listing_ids),
                released_at=None if needs_approval else now,
            )
            events.append(
                OrderEvent(order=order, fulfilment=fulfilment, actor=user, to_status=status)
            )
            for listing_id in listing_ids:
                unit_price, source, line_total = priced[listing_id]
                order_lines.append(
                    OrderLine(
                        order=order,
                        fulfilment=fulfilment,
                        listing_id=listing_id,
                        quantity=wanted[listing_id],
                        unit_price=unit_price,
                        price_source=source,
                        line_total=line_total,
                    )
                )
        OrderLine.objects.bulk_create(order_lines)
        OrderEvent.objects.bulk_create(events)
        for listing_id in sorted(wanted):
            stock.stock_reserve(listing=listings[listing_id], quantity=wanted[listing_id])
        return Placement(order=order, adjusted=adjusted)


def order_reorder(*, order: Order, user: User) -> Order:
    """Place the same lines again, to the same store, at today's prices and rules."""
    lines = [LineRequest(line.listing_id, line.quantity) for line in order.lines.all()]
    return order_place(user=user, store=order.store, lines=lines, reorder_of=order).order
