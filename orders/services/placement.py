"""Placing an order: check every line, price it, split it per cooperative and reserve its
stock, all or nothing, in one transaction."""

import datetime
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from backend import formatting, outbox
from backend.errors import Forbidden
from backend.money import MAX_AMOUNT, round_fen
from buyers.models import Store
from products import pricing, stock
from products.models import Listing

from ..access import check_orders_for_organisation
from ..exceptions import BelowMinimumOrderValue, InsufficientStock
from ..models import Fulfilment, FulfilmentStatus, Order, OrderEvent, OrderLine
from ..selectors import attach_prefetched
from .order_rows import order_rows_insert
from .policies import BuyerRequest, Findings, LineRequest, Part, StandingRun

# Orders are for goods in stock or soon harvested; a date further ahead is a typo.
MAX_LEAD = datetime.timedelta(days=366)

__all__ = [
    "BelowMinimumOrderValue",
    "BuyerRequest",
    "InsufficientStock",
    "LineRequest",
    "Placement",
    "StandingRun",
    "line_price",
    "order_place",
    "order_reorder",
]


@dataclass
class Placement:
    """What order_place did. ``adjusted`` says what a lenient policy cut or left out."""

    order: Order | None
    adjusted: list[str] = field(default_factory=list)
    fulfilments: list[Fulfilment] = field(default_factory=list)
    lines: list[OrderLine] = field(default_factory=list)

    def order_as_read(self) -> Order:
        """The order with its parts and their lines attached as order_list's prefetch would
        read them back (pk order, listings with products): the API answers a placement from
        the objects in hand, without reading them again."""
        for fulfilment in self.fulfilments:
            mine = [line for line in self.lines if line.fulfilment is fulfilment]
            attach_prefetched(fulfilment, "lines", mine)
        attach_prefetched(self.order, "fulfilments", self.fulfilments)
        return self.order


def _check_request(*, user: User, store: Store, lines: list[LineRequest], requested_delivery_date):
    """Who may place it, where to, and the request's own shape; the buyer's membership."""
    membership = check_orders_for_organisation(user=user)
    if not membership.organisation.is_active:
        raise Forbidden(_("This buyer organisation is not active."))
    if store.organisation_id != membership.organisation_id or not store.is_active:
        raise ValidationError({"store": _("Not an active store of your organisation.")})
    if not lines:
        raise ValidationError({"lines": _("An order needs at least one line.")})
    if len({line.listing_id for line in lines}) != len(lines):
        raise ValidationError({"lines": _("A listing appears on two lines; combine them.")})
    if requested_delivery_date is not None and requested_delivery_date < timezone.localdate():
        raise ValidationError({"requested_delivery_date": _("The date is in the past.")})
    if requested_delivery_date is not None and requested_delivery_date > (
        timezone.localdate() + MAX_LEAD
    ):
        raise ValidationError(
            {
                "requested_delivery_date": _("Delivery can be requested up to %(days)s days ahead.")
                % {"days": MAX_LEAD.days}
            }
        )
    return membership


def line_price(listing: Listing, quantity: Decimal) -> tuple[Decimal, str] | None:
    """(unit price, price source) of a quantity of a listing read with its price tables
    (stock.listings_lock(prices_for=...) or products.pricing.with_tables): the negotiated
    table if one is valid today and reaches the quantity, else the public tiers. None when
    no tier reaches it (below the minimum)."""
    negotiated, public = pricing.tables_of(listing)
    table, source = negotiated, OrderLine.PriceSource.NEGOTIATED
    if table is None or pricing.unit_price_in(table, quantity) is None:
        table, source = public, OrderLine.PriceSource.PUBLIC
    unit_price = pricing.unit_price_in(table, quantity)
    return None if unit_price is None else (unit_price, source)


def _price(*, listings: dict[int, Listing], wanted: dict[int, Decimal]) -> dict:
    """listing id → (unit price, price source, line total), by line_price."""
    priced: dict[int, tuple[Decimal, str, Decimal]] = {}
    for listing_id, quantity in wanted.items():
        price = line_price(listings[listing_id], quantity)
        if price is None:  # tiers start at or below the minimum: cannot happen
            raise ValidationError(
                {"lines": _("Listing %(listing)s has no price.") % {"listing": listing_id}}
            )
        unit_price, source = price
        priced[listing_id] = (unit_price, source, round_fen(quantity * unit_price))
    return priced


def _transaction():
    """A transaction, or the caller's when there is one (the Idempotency-Key's), without a
    savepoint: every refusal comes before the first write, so a refusal leaves the caller's
    transaction as it was, and a database error aborts it, as it must."""
    if transaction.get_connection().in_atomic_block:
        return nullcontext()
    return transaction.atomic()


def order_place(
    *,
    user: User,
    store: Store,
    lines: list[LineRequest],
    requested_delivery_date: datetime.date | None = None,
    note: str = "",
    reorder_of: Order | None = None,
    standing_order=None,
    policy: BuyerRequest | None = None,
) -> Placement:
    """Place an order for the user's buyer organisation.

    Each line must be a listing on sale, at least its minimum quantity, in whole increments,
    and available; its unit price is the tier the quantity reaches in the organisation's
    negotiated table (if one is valid today) or the public tiers. Lines split into one
    fulfilment per cooperative, and a part below the cooperative's minimum order value is
    refused. Stock for every line is reserved atomically: listings are locked in primary-key
    order, and any shortfall refuses the whole order (409, with what is available). Above
    the organisation's approval threshold the order waits for an approver.

    ``policy`` decides what a line or part that cannot be placed as asked does, and who has
    approved it already: BuyerRequest (the default) refuses; StandingRun cuts and says so.
    """
    policy = policy or BuyerRequest()
    membership = _check_request(
        user=user, store=store, lines=lines, requested_delivery_date=requested_delivery_date
    )
    organisation = membership.organisation
    today = timezone.localdate()

    with _transaction():
        listings = stock.listings_lock(
            (line.listing_id for line in lines), prices_for=(organisation.pk, today)
        )
        found = Findings()
        wanted: dict[int, Decimal] = {}
        for index, line in enumerate(lines):
            listing = listings.get(line.listing_id)
            if listing is not None and (
                not listing.cooperative.is_active or listing.status not in Listing.LIVE_STATUSES
            ):
                listing = None  # not on sale: the buyer is told the same as for a missing one
            too_soon = (
                listing is not None
                and requested_delivery_date is not None
                and requested_delivery_date
                < today + datetime.timedelta(days=listing.lead_time_days)
            )
            quantity = policy.line(
                at=f"lines.{index}", listing=listing, line=line, too_soon=too_soon, found=found
            )
            if quantity:
                wanted[listing.pk] = quantity
        if found.errors:
            raise ValidationError(found.errors)
        if found.shortages:
            raise InsufficientStock(
                _("Not enough stock for some lines; nothing was reserved."),
                fields=found.shortages,
                available=found.available,
            )

        priced = _price(listings=listings, wanted=wanted)
        if sum(entry[2] for entry in priced.values()) > MAX_AMOUNT:
            raise ValidationError(
                {
                    "lines": _("This order comes to more than %(maximum)s; split it into several.")
                    % {"maximum": formatting.money(MAX_AMOUNT)}
                }
            )
        by_cooperative: dict[int, list[int]] = defaultdict(list)
        for listing_id in wanted:
            by_cooperative[listings[listing_id].cooperative_id].append(listing_id)
        parts = [
            Part(
                cooperative=listings[ids[0]].cooperative,
                listing_ids=ids,
                subtotal=sum(priced[i][2] for i in ids),
            )
            for ids in by_cooperative.values()
        ]
        too_small = [p for p in parts if p.subtotal < p.cooperative.min_order_value]
        dropped = policy.parts_below_minimum(parts=too_small, found=found)
        parts = [p for p in parts if p not in dropped]
        if not parts:
            return Placement(order=None, adjusted=found.adjusted)

        reserved = sorted(i for part in parts for i in part.listing_ids)
        order, fulfilments, order_lines = _write_order(
            stock_update=stock.stocks_reserve_statement(
                moves=[(listings[i], wanted[i]) for i in reserved]
            ),
            organisation=organisation,
            store=store,
            user=user,
            parts=parts,
            priced=priced,
            listings=listings,
            wanted=wanted,
            policy=policy,
            membership=membership,
            requested_delivery_date=requested_delivery_date,
            note=note,
            reorder_of=reorder_of,
            standing_order=standing_order,
        )
        return Placement(
            order=order, adjusted=found.adjusted, fulfilments=fulfilments, lines=order_lines
        )


def _write_order(
    *,
    stock_update,
    organisation,
    store,
    user,
    parts,
    priced,
    listings,
    wanted,
    policy,
    membership,
    requested_delivery_date,
    note,
    reorder_of,
    standing_order,
) -> tuple[Order, list[Fulfilment], list[OrderLine]]:
    """The order, one fulfilment per part, its lines and events, and the stock they reserve
    (``stock_update``, in the same statement on PostgreSQL); waiting for an approver when
    above the threshold and nobody has approved it yet."""
    total = sum(part.subtotal for part in parts)
    threshold = organisation.approval_threshold
    approved_by = None
    if threshold is not None and total > threshold:
        approved_by = policy.approved_by(total=total, membership=membership, user=user)
    needs_approval = threshold is not None and total > threshold and approved_by is None
    status = FulfilmentStatus.PENDING_APPROVAL if needs_approval else FulfilmentStatus.PLACED
    now = timezone.now()
    order = Order(
        organisation=organisation,
        store=store,
        placed_by=user,
        status=status,
        total=total,
        requested_delivery_date=requested_delivery_date,
        note=note,
        reservation_expires_at=now + settings.ORDER_RESERVATION_TTL,
        approved_by=approved_by,
        approved_at=now if approved_by else None,
        reorder_of=reorder_of,
        standing_order=standing_order,
    )
    fulfilments = [
        Fulfilment(
            order=order,
            cooperative=part.cooperative,
            status=status,
            subtotal=part.subtotal,
            released_at=None if needs_approval else now,
        )
        for part in parts
    ]
    order_lines, events = [], []
    for part, fulfilment in zip(parts, fulfilments, strict=True):
        events.append(OrderEvent(order=order, fulfilment=fulfilment, actor=user, to_status=status))
        for listing_id in part.listing_ids:
            unit_price, source, line_total = priced[listing_id]
            order_lines.append(
                OrderLine(
                    order=order,
                    fulfilment=fulfilment,
                    listing=listings[listing_id],
                    quantity=wanted[listing_id],
                    unit_price=unit_price,
                    price_source=source,
                    line_total=line_total,
                )
            )
    order_rows_insert(
        order=order,
        fulfilments=fulfilments,
        lines=order_lines,
        events=events,
        stock_update=stock_update,
    )
    outbox.record("order_event", events)  # its notices, in this transaction
    return order, fulfilments, order_lines


def order_reorder(*, order: Order, user: User) -> Placement:
    """Place the same lines again, to the same store, at today's prices and rules."""
    lines = [LineRequest(line.listing_id, line.quantity) for line in order.lines.all()]
    return order_place(user=user, store=order.store, lines=lines, reorder_of=order)
