"""Moving fulfilments through their lifecycle (orders/lifecycle.py says what is allowed).

Every move locks the order, then the fulfilment, then listing stock and lots, each in
primary-key order; writes an OrderEvent; moves stock with it; and recomputes the totals
and the order's status, all in one transaction.
"""

import logging
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from backend.errors import Conflict
from backend.money import round_fen
from products import stock
from products.models import Lot, quantity_text

from .. import lifecycle
from ..access import actors_for
from ..models import Fulfilment, FulfilmentStatus, Order, OrderEvent, OrderLine, PickAllocation
from ..selectors import expired_reservations

S = FulfilmentStatus
logger = logging.getLogger(__name__)


def _lock(fulfilment_id: int) -> Fulfilment:
    """Lock order → fulfilment, in that order (the lock order of docs/architecture.md)."""
    order_id = Fulfilment.objects.values_list("order_id", flat=True).get(pk=fulfilment_id)
    order = Order.objects.select_for_update().get(pk=order_id)
    fulfilment = Fulfilment.objects.select_for_update().get(pk=fulfilment_id)
    fulfilment.order = order
    return fulfilment


def _quantity(line: OrderLine, quantity: Decimal) -> str:
    return quantity_text(quantity, line.listing.unit)


def _lines(fulfilment: Fulfilment) -> list[OrderLine]:
    # The listing for its unit, which messages name ("confirm between 0 and 50 公斤").
    return list(fulfilment.lines.select_related("listing").order_by("pk"))


def _check_named_lines(named: Iterable[int], lines: list[OrderLine], field: str) -> None:
    """Lines a request names must be lines of this fulfilment."""
    unknown = set(named) - {line.pk for line in lines}
    if unknown:
        raise ValidationError(
            {
                field: _("Lines %(lines)s are not part of this fulfilment.")
                % {"lines": ", ".join(str(pk) for pk in sorted(unknown))}
            }
        )


def _recompute(order: Order) -> None:
    """Line totals follow the quantity that counts now; parts that ended count for nothing;
    the order's status follows from its parts."""
    fulfilments = list(order.fulfilments.prefetch_related("lines"))
    changed = []
    for fulfilment in fulfilments:
        subtotal = Decimal(0)
        for line in fulfilment.lines.all():
            line_total = round_fen(line.effective_quantity * line.unit_price)
            if line_total != line.line_total:
                line.line_total = line_total
                changed.append(line)
            subtotal += line_total
        if fulfilment.status in lifecycle.ENDED:
            subtotal = Decimal(0)
        if subtotal != fulfilment.subtotal:
            Fulfilment.objects.filter(pk=fulfilment.pk).update(subtotal=subtotal)
            fulfilment.subtotal = subtotal
    OrderLine.objects.bulk_update(changed, ["line_total"])
    order.total = sum(f.subtotal for f in fulfilments)
    order.status = lifecycle.order_status([f.status for f in fulfilments])
    order.save(update_fields=["total", "status", "updated_at"])


def _move(fulfilment: Fulfilment, to: str, user: User | None, note: str = "") -> None:
    actors = actors_for(user=user, fulfilment=fulfilment)
    lifecycle.check(fulfilment.status, to, actors)
    OrderEvent.objects.create(
        order=fulfilment.order,
        fulfilment=fulfilment,
        actor=user,
        from_status=fulfilment.status,
        to_status=to,
        note=note,
    )
    fulfilment.status = to
    if to == S.PLACED:
        fulfilment.released_at = timezone.now()
    fulfilment.save(update_fields=["status", "reason", "released_at", "updated_at"])


def _reserved_quantity(line: OrderLine, status: str) -> Decimal:
    """What the line still holds reserved while its part is in ``status``."""
    if status not in lifecycle.HOLDS_RESERVATION:
        return Decimal(0)
    return line.confirmed_quantity if line.confirmed_quantity is not None else line.quantity


def _release_all(fulfilment: Fulfilment, lines: list[OrderLine]) -> None:
    listings = stock.listings_lock(line.listing_id for line in lines)
    for line in lines:
        stock.stock_release(
            listing=listings[line.listing_id],
            quantity=_reserved_quantity(line, fulfilment.status),
        )
    _unpick(lines)


def _unpick(lines: Iterable[OrderLine]) -> None:
    picks = list(PickAllocation.objects.filter(line__in=lines).order_by("lot_id"))
    for pick in picks:
        Lot.objects.filter(pk=pick.lot_id).update(
            quantity_picked=F("quantity_picked") - pick.quantity
        )
    PickAllocation.objects.filter(pk__in=[pick.pk for pick in picks]).delete()


@transaction.atomic
def fulfilment_confirm(
    *, fulfilment: Fulfilment, user: User, quantities: dict[int, Decimal] | None = None
) -> Fulfilment:
    """The cooperative confirms its part, in full or short: ``quantities`` maps line ids to
    the quantity it can supply (missing lines: in full). Stock it cannot supply is released
    and the buyer sees the adjusted total (unit prices stay as placed)."""
    fulfilment = _lock(fulfilment.pk)
    lifecycle.check(fulfilment.status, S.CONFIRMED, actors_for(user=user, fulfilment=fulfilment))
    lines = _lines(fulfilment)
    quantities = quantities or {}
    _check_named_lines(quantities, lines, "lines")
    for line in lines:
        confirmed = quantities.get(line.pk, line.quantity)
        if confirmed < 0 or confirmed > line.quantity:
            raise ValidationError(
                {
                    "lines": _("Line %(line)s: confirm between 0 and %(quantity)s.")
                    % {"line": line.pk, "quantity": _quantity(line, line.quantity)}
                }
            )
        line.confirmed_quantity = confirmed
    if all(line.confirmed_quantity == 0 for line in lines):
        raise ValidationError({"lines": _("Nothing confirmed: reject the order instead.")})
    listings = stock.listings_lock(line.listing_id for line in lines)
    OrderLine.objects.bulk_update(lines, ["confirmed_quantity"])
    short = []
    for line in lines:
        if line.confirmed_quantity < line.quantity:
            short.append(f"line {line.pk}: {line.confirmed_quantity} of {line.quantity}")
            stock.stock_release(
                listing=listings[line.listing_id], quantity=line.quantity - line.confirmed_quantity
            )
    _move(fulfilment, S.CONFIRMED, user, note=("short: " + "; ".join(short)) if short else "")
    _recompute(fulfilment.order)
    return fulfilment


@transaction.atomic
def fulfilment_reject(*, fulfilment: Fulfilment, user: User, reason: str) -> Fulfilment:
    fulfilment = _lock(fulfilment.pk)
    lifecycle.check(fulfilment.status, S.REJECTED, actors_for(user=user, fulfilment=fulfilment))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the order is rejected.")})
    _release_all(fulfilment, _lines(fulfilment))
    fulfilment.reason = reason
    _move(fulfilment, S.REJECTED, user, note=reason)
    _recompute(fulfilment.order)
    return fulfilment


def _fifo_lots(listing_id: int) -> list[Lot]:
    """The listing's lots with something left, oldest harvest first. Locked by primary key;
    the caller already holds the listing's lock, which guards its lots."""
    lots = Lot.objects.select_for_update().filter(
        listing_id=listing_id, quantity_picked__lt=F("quantity")
    )
    return sorted(lots.order_by("pk"), key=lambda lot: (lot.harvest_date, lot.pk))


@transaction.atomic
def fulfilment_pack(
    *, fulfilment: Fulfilment, user: User, picks: dict[int, list[tuple[int, Decimal]]] | None = None
) -> Fulfilment:
    """Pack the part: every confirmed line is drawn from lots, first in first out, unless
    ``picks`` names lots and quantities for a line. The pick list traces each line to its
    lots, and through them to households."""
    fulfilment = _lock(fulfilment.pk)
    lifecycle.check(fulfilment.status, S.PACKED, actors_for(user=user, fulfilment=fulfilment))
    picks = picks or {}
    lines = _lines(fulfilment)
    _check_named_lines(picks, lines, "picks")
    stock.listings_lock(line.listing_id for line in lines)  # before their lots: lock order
    allocations = []
    for line in lines:
        needed = line.confirmed_quantity
        if not needed:
            continue
        lots = {lot.pk: lot for lot in _fifo_lots(line.listing_id)}
        if line.pk in picks:
            chosen = picks[line.pk]
            if len({lot_id for lot_id, _amount in chosen}) != len(chosen):
                raise ValidationError(
                    {"picks": _("Line %(line)s: name each lot once.") % {"line": line.pk}}
                )
            if sum(quantity for _lot, quantity in chosen) != needed:
                raise ValidationError(
                    {
                        "picks": _("Line %(line)s: picks must add up to %(quantity)s.")
                        % {"line": line.pk, "quantity": _quantity(line, needed)}
                    }
                )
            for lot_id, quantity in chosen:
                lot = lots.get(lot_id)
                if lot is None or quantity <= 0 or quantity > lot.quantity - lot.quantity_picked:
                    raise ValidationError(
                        {
                            "picks": _("Line %(line)s: lot %(lot)s cannot supply %(quantity)s.")
                            % {
                                "line": line.pk,
                                "lot": lot_id,
                                "quantity": _quantity(line, quantity),
                            }
                        }
                    )
                allocations.append((line, lot, quantity))
        else:
            for lot in lots.values():
                if needed <= 0:
                    break
                take = min(needed, lot.quantity - lot.quantity_picked)
                allocations.append((line, lot, take))
                needed -= take
            if needed > 0:
                raise Conflict(
                    _(
                        "Line %(line)s: the listing's lots are %(quantity)s short of the "
                        "confirmed quantity; record the missing lot first."
                    )
                    % {"line": line.pk, "quantity": _quantity(line, needed)},
                    fields={
                        "picks": [_("Line %(line)s cannot be drawn from lots.") % {"line": line.pk}]
                    },
                )
    for _line, lot, quantity in allocations:
        Lot.objects.filter(pk=lot.pk).update(quantity_picked=F("quantity_picked") + quantity)
    PickAllocation.objects.bulk_create(
        PickAllocation(line=line, lot=lot, quantity=quantity) for line, lot, quantity in allocations
    )
    _move(fulfilment, S.PACKED, user)
    _recompute(fulfilment.order)
    return fulfilment


@transaction.atomic
def fulfilment_ship(*, fulfilment: Fulfilment, user: User) -> Fulfilment:
    """The goods leave: reserved stock is consumed."""
    fulfilment = _lock(fulfilment.pk)
    lifecycle.check(fulfilment.status, S.SHIPPED, actors_for(user=user, fulfilment=fulfilment))
    lines = _lines(fulfilment)
    listings = stock.listings_lock(line.listing_id for line in lines)
    for line in lines:
        stock.stock_consume(listing=listings[line.listing_id], quantity=line.confirmed_quantity)
    _move(fulfilment, S.SHIPPED, user)
    _recompute(fulfilment.order)
    return fulfilment


@transaction.atomic
def fulfilment_deliver(
    *,
    fulfilment: Fulfilment,
    user: User,
    accepted: dict[int, tuple[Decimal, str, str]] | None = None,
) -> Fulfilment:
    """The store receives the goods: ``accepted`` maps line ids to (accepted quantity, issue,
    note); missing lines are accepted in full. Accepting less is a shortfall (less arrived)
    or a quality rejection, and needs a note saying what happened."""
    fulfilment = _lock(fulfilment.pk)
    lifecycle.check(fulfilment.status, S.DELIVERED, actors_for(user=user, fulfilment=fulfilment))
    accepted = accepted or {}
    lines = _lines(fulfilment)
    _check_named_lines(accepted, lines, "lines")
    for line in lines:
        quantity, issue, note = accepted.get(line.pk, (line.confirmed_quantity, "", ""))
        if quantity < 0 or quantity > line.confirmed_quantity:
            raise ValidationError(
                {
                    "lines": _("Line %(line)s: accept between 0 and %(quantity)s.")
                    % {"line": line.pk, "quantity": _quantity(line, line.confirmed_quantity)}
                }
            )
        if quantity < line.confirmed_quantity and not note.strip():
            raise ValidationError(
                {
                    "lines": _("Line %(line)s: say why less was accepted (shortfall or quality).")
                    % {"line": line.pk}
                }
            )
        if quantity < line.confirmed_quantity:
            issue = issue or OrderLine.DeliveryIssue.SHORTFALL
        elif issue:
            raise ValidationError(
                {
                    "lines": _("Line %(line)s: everything was accepted, so there is no issue.")
                    % {"line": line.pk}
                }
            )
        line.accepted_quantity, line.delivery_issue, line.delivery_note = quantity, issue, note
    OrderLine.objects.bulk_update(lines, ["accepted_quantity", "delivery_issue", "delivery_note"])
    _move(fulfilment, S.DELIVERED, user)
    _recompute(fulfilment.order)
    return fulfilment


@transaction.atomic
def fulfilment_complete(*, fulfilment: Fulfilment, user: User) -> Fulfilment:
    fulfilment = _lock(fulfilment.pk)
    _move(fulfilment, S.COMPLETED, user)
    _recompute(fulfilment.order)
    return fulfilment


def _cancel(fulfilment: Fulfilment, user: User | None, reason: str) -> None:
    lifecycle.check(fulfilment.status, S.CANCELLED, actors_for(user=user, fulfilment=fulfilment))
    _release_all(fulfilment, _lines(fulfilment))
    fulfilment.reason = reason
    _move(fulfilment, S.CANCELLED, user, note=reason)


@transaction.atomic
def fulfilment_cancel(*, fulfilment: Fulfilment, user: User | None, reason: str) -> Fulfilment:
    fulfilment = _lock(fulfilment.pk)
    _cancel(fulfilment, user, reason)
    _recompute(fulfilment.order)
    return fulfilment


@transaction.atomic
def order_cancel(*, order: Order, user: User, reason: str = "") -> Order:
    """Cancel every part still open, all or nothing: buyers before confirmation, staff any
    time before shipping."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    fulfilments = list(Fulfilment.objects.select_for_update().filter(order=order).order_by("pk"))
    open_parts = [f for f in fulfilments if f.status in lifecycle.HOLDS_RESERVATION]
    if not open_parts:
        raise lifecycle.IllegalTransition(
            _("Nothing left to cancel."),
            fields={"status": [_("Already ended.")]},
            current_status=order.status,
            allowed_transitions=[],
        )
    # All the parts' listings at once, by primary key, not part by part: two orders naming
    # the same listings in another order of parts must not deadlock.
    stock.listings_lock(
        OrderLine.objects.filter(fulfilment__in=open_parts).values_list("listing_id", flat=True)
    )
    for fulfilment in open_parts:
        fulfilment.order = order
        _cancel(fulfilment, user, reason or "cancelled")
    _recompute(order)
    return order


@transaction.atomic
def order_approve(*, order: Order, user: User) -> Order:
    """An approver releases an order above the threshold to the cooperatives; they get the
    full confirmation window from now."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    fulfilments = list(Fulfilment.objects.select_for_update().filter(order=order).order_by("pk"))
    pending = [f for f in fulfilments if f.status == S.PENDING_APPROVAL]
    if not pending:
        possible = set()
        for fulfilment in fulfilments:
            fulfilment.order = order
            possible.update(
                lifecycle.allowed(fulfilment.status, actors_for(user=user, fulfilment=fulfilment))
            )
        raise lifecycle.IllegalTransition(
            _("This order is %(status)s, not waiting for approval.")
            % {"status": S(order.status).label},
            fields={"status": [_("Not waiting for approval.")]},
            current_status=order.status,
            allowed_transitions=sorted(possible),
        )
    for fulfilment in pending:
        fulfilment.order = order
        _move(fulfilment, S.PLACED, user, note="approved")
    order.approved_by, order.approved_at = user, timezone.now()
    order.reservation_expires_at = order.approved_at + settings.ORDER_RESERVATION_TTL
    order.save(update_fields=["approved_by", "approved_at", "reservation_expires_at"])
    _recompute(order)
    return order


def expire_reservations(*, now=None) -> int:
    """Cancel parts nobody confirmed (or approved) before the order's reservation expired,
    giving their stock back. One transaction per part; safe to run twice (the status is
    checked again under lock). A part that fails is logged and left for the next run: one
    bad row never keeps the others' stock locked up."""
    now = now or timezone.now()
    expired = 0
    for fulfilment_id in list(expired_reservations(now=now)):
        try:
            with transaction.atomic():
                fulfilment = _lock(fulfilment_id)
                if fulfilment.status not in (S.PENDING_APPROVAL, S.PLACED):
                    continue  # confirmed or cancelled meanwhile
                if fulfilment.order.reservation_expires_at >= now:
                    continue  # approved meanwhile: a new window
                _cancel(fulfilment, None, "reservation expired")
                _recompute(fulfilment.order)
                expired += 1
        except Exception:
            logger.exception("expiring fulfilment %s failed; tried again next run", fulfilment_id)
    return expired
