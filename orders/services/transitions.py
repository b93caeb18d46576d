"""Moving fulfilments through their lifecycle (orders/lifecycle.py says what is allowed).

Every move locks the order, then its fulfilments, then listing stock or lots, each in
primary-key order; writes an OrderEvent; moves stock with it; and recomputes the totals
and the order's status, all in one transaction. A move costs the same number of queries
whatever the number of lines: each read and each write is one statement for all of them.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from backend import outbox
from backend.errors import Conflict
from backend.money import round_fen
from products import stock
from products.models import Lot, quantity_text
from products.selectors import with_households

from .. import lifecycle
from ..access import actors_for
from ..models import Fulfilment, FulfilmentStatus, Order, OrderEvent, OrderLine, PickAllocation
from ..selectors import attach_picks, attach_prefetched, expired_reservations

S = FulfilmentStatus
logger = logging.getLogger(__name__)


def _lock_parts(order: Order) -> list[Fulfilment]:
    """Lock every part of the (locked) order, in primary-key order, and read their lines in
    the same query; ``order.fulfilments.all()`` and each part's ``lines.all()`` then answer
    from memory. Every part has lines: placement makes a part only for lines. The rows the
    API's answer names (the part's cooperative, each line's listing and product: the unit
    messages name too) come along unlocked, so a move is answered without reading again."""
    lines = (
        OrderLine.objects.filter(order=order)
        .select_related("fulfilment__cooperative", "listing__product")
        .select_for_update(of=("fulfilment",))
        .order_by("fulfilment_id", "pk")
    )
    parts: dict[int, Fulfilment] = {}
    lines_of: dict[int, list[OrderLine]] = defaultdict(list)
    for line in lines:
        fulfilment = parts.setdefault(line.fulfilment_id, line.fulfilment)
        fulfilment.order = order
        line.fulfilment, line.order = fulfilment, order
        lines_of[fulfilment.pk].append(line)
    for fulfilment in parts.values():
        attach_prefetched(fulfilment, "lines", lines_of[fulfilment.pk])
    attach_prefetched(order, "fulfilments", list(parts.values()))
    return list(parts.values())


def _lock(fulfilment_id: int) -> Fulfilment:
    """Lock order → fulfilments, in that order (the lock order of docs/architecture.md); the
    order's store and organisation come along unlocked, for the answer."""
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("store", "organisation")
        .get(fulfilments=fulfilment_id)
    )
    return next(f for f in _lock_parts(order) if f.pk == fulfilment_id)


def _lock_order(order_id: int) -> Order:
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("organisation", "store")
        .get(pk=order_id)
    )
    _lock_parts(order)
    return order


def _lines(fulfilment: Fulfilment) -> list[OrderLine]:
    return list(fulfilment.lines.all())


def _quantity(line: OrderLine, quantity: Decimal) -> str:
    return quantity_text(quantity, line.listing.unit)


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


def _save(
    order: Order,
    events: list[OrderEvent],
    *,
    lines: Iterable[OrderLine] = (),
    line_fields: Iterable[str] = (),
    order_fields: Iterable[str] = (),
) -> None:
    """Write a move, one statement per table: its events; the lines it changed (``lines``,
    ``line_fields``) and every line whose total follows from them; the parts whose status or
    subtotal changed; the order's total and status (which follows from its parts). Parts
    that ended count for nothing."""
    changed_lines = {line.pk: line for line in lines}
    changed_parts = []
    now = timezone.now()
    for fulfilment in order.fulfilments.all():
        subtotal = Decimal(0)
        for line in fulfilment.lines.all():
            line_total = round_fen(line.effective_quantity * line.unit_price)
            if line_total != line.line_total:
                line.line_total = line_total
                changed_lines[line.pk] = line
            subtotal += line_total
        if fulfilment.status in lifecycle.ENDED:
            subtotal = Decimal(0)
        moved = any(event.fulfilment is fulfilment for event in events)
        if moved or subtotal != fulfilment.subtotal:
            fulfilment.subtotal, fulfilment.updated_at = subtotal, now
            changed_parts.append(fulfilment)
    OrderEvent.objects.bulk_create(events)
    outbox.record("order_event", events)  # its notices, in this transaction
    if changed_lines:
        OrderLine.objects.bulk_update(changed_lines.values(), ["line_total", *line_fields])
    Fulfilment.objects.bulk_update(
        changed_parts, ["status", "reason", "released_at", "subtotal", "updated_at"]
    )
    parts = order.fulfilments.all()
    order.total = sum(f.subtotal for f in parts)
    order.status = lifecycle.order_status([f.status for f in parts])
    order.save(update_fields=["total", "status", "updated_at", *order_fields])


def _move(fulfilment: Fulfilment, to: str, user: User | None, note: str = "") -> OrderEvent:
    """Move the part (in memory; _save writes it) and answer its event."""
    actors = actors_for(user=user, fulfilment=fulfilment)
    lifecycle.check(fulfilment.status, to, actors)
    event = OrderEvent(
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
    return event


def _reserved_quantity(line: OrderLine, status: str) -> Decimal:
    """What the line still holds reserved while its part is in ``status``."""
    if status not in lifecycle.HOLDS_RESERVATION:
        return Decimal(0)
    return line.confirmed_quantity if line.confirmed_quantity is not None else line.quantity


def _release_all(parts: list[Fulfilment]) -> None:
    """Give back what the parts hold, all their listings locked at once by primary key (two
    orders naming the same listings in another order of parts must not deadlock), and undo
    their picks."""
    lines = [line for part in parts for line in part.lines.all()]
    listings = stock.listings_lock(line.listing_id for line in lines)
    stock.stocks_release(
        moves=[
            (listings[line.listing_id], _reserved_quantity(line, part.status))
            for part in parts
            for line in part.lines.all()
        ]
    )
    _unpick(lines)


def _unpick(lines: Iterable[OrderLine]) -> None:
    picks = list(PickAllocation.objects.filter(line__in=list(lines)).order_by("lot_id"))
    if not picks:
        return
    given_back: dict[int, Decimal] = defaultdict(Decimal)
    for pick in picks:
        given_back[pick.lot_id] += pick.quantity
    Lot.objects.filter(pk__in=given_back).update(
        quantity_picked=F("quantity_picked")
        - Case(*(When(pk=lot_id, then=Value(q)) for lot_id, q in given_back.items()))
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
    short_lines = [line for line in lines if line.confirmed_quantity < line.quantity]
    if short_lines:
        listings = stock.listings_lock(line.listing_id for line in short_lines)
        stock.stocks_release(
            moves=[
                (listings[line.listing_id], line.quantity - line.confirmed_quantity)
                for line in short_lines
            ]
        )
    short = [
        f"line {line.pk}: {line.confirmed_quantity} of {line.quantity}" for line in short_lines
    ]
    event = _move(
        fulfilment, S.CONFIRMED, user, note=("short: " + "; ".join(short)) if short else ""
    )
    _save(fulfilment.order, [event], lines=lines, line_fields=["confirmed_quantity"])
    return fulfilment


@transaction.atomic
def fulfilment_reject(*, fulfilment: Fulfilment, user: User, reason: str) -> Fulfilment:
    fulfilment = _lock(fulfilment.pk)
    lifecycle.check(fulfilment.status, S.REJECTED, actors_for(user=user, fulfilment=fulfilment))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the order is rejected.")})
    _release_all([fulfilment])
    fulfilment.reason = reason
    _save(fulfilment.order, [_move(fulfilment, S.REJECTED, user, note=reason)])
    return fulfilment


def _fifo_lots(listing_ids: set[int]) -> dict[int, list[Lot]]:
    """Each listing's lots with something left, oldest harvest first, in one query. The lots
    themselves are locked, by primary key: packing changes lots, not the listing's stock.
    Their households come in the same query (unlocked), for the pick list of the answer."""
    lots = with_households(
        Lot.objects.select_for_update(of=("self",)).filter(
            listing_id__in=listing_ids, quantity_picked__lt=F("quantity")
        )
    )
    by_listing: dict[int, list[Lot]] = defaultdict(list)
    for lot in sorted(lots.order_by("pk"), key=lambda lot: (lot.harvest_date, lot.pk)):
        by_listing[lot.listing_id].append(lot)
    return by_listing


def _pick_refused(message: str, **params) -> ValidationError:
    """A refusal of ``picks``, keeping the line it is about in ``params`` (the phone page
    shows it beside that line; the API reads the formatted message)."""
    return ValidationError({"picks": ValidationError(message, code="picks", params=params)})


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
    open_lots = _fifo_lots({line.listing_id for line in lines if line.confirmed_quantity})
    allocations = []
    for line in lines:
        needed = line.confirmed_quantity
        if not needed:
            continue
        lots = {lot.pk: lot for lot in open_lots[line.listing_id]}
        if line.pk in picks:
            chosen = picks[line.pk]
            if len({lot_id for lot_id, _ in chosen}) != len(chosen):
                raise _pick_refused(_("Line %(line)s: name each lot once."), line=line.pk)
            if sum(quantity for _lot, quantity in chosen) != needed:
                raise _pick_refused(
                    _("Line %(line)s: picks must add up to %(quantity)s."),
                    line=line.pk,
                    quantity=_quantity(line, needed),
                )
            for lot_id, quantity in chosen:
                lot = lots.get(lot_id)
                if lot is None or quantity <= 0 or quantity > lot.quantity - lot.quantity_picked:
                    raise _pick_refused(
                        _("Line %(line)s: lot %(lot)s cannot supply %(quantity)s."),
                        line=line.pk,
                        lot=lot_id,
                        quantity=_quantity(line, quantity),
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
    picked = {}
    for _line, lot, quantity in allocations:
        lot.quantity_picked += quantity
        picked[lot.pk] = lot
    Lot.objects.bulk_update(picked.values(), ["quantity_picked"])
    PickAllocation.objects.bulk_create(
        PickAllocation(line=line, lot=lot, quantity=quantity) for line, lot, quantity in allocations
    )
    attach_picks(fulfilment, [(line.pk, lot, quantity) for line, lot, quantity in allocations])
    _save(fulfilment.order, [_move(fulfilment, S.PACKED, user)])
    return fulfilment


@transaction.atomic
def fulfilment_ship(*, fulfilment: Fulfilment, user: User) -> Fulfilment:
    """The goods leave: reserved stock is consumed."""
    fulfilment = _lock(fulfilment.pk)
    lifecycle.check(fulfilment.status, S.SHIPPED, actors_for(user=user, fulfilment=fulfilment))
    stock.stocks_consume(
        moves=[(line.listing_id, line.confirmed_quantity) for line in _lines(fulfilment)]
    )
    _save(fulfilment.order, [_move(fulfilment, S.SHIPPED, user)])
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
    _save(
        fulfilment.order,
        [_move(fulfilment, S.DELIVERED, user)],
        lines=lines,
        line_fields=["accepted_quantity", "delivery_issue", "delivery_note"],
    )
    return fulfilment


@transaction.atomic
def fulfilment_complete(*, fulfilment: Fulfilment, user: User) -> Fulfilment:
    fulfilment = _lock(fulfilment.pk)
    _save(fulfilment.order, [_move(fulfilment, S.COMPLETED, user)])
    return fulfilment


def _cancel(fulfilment: Fulfilment, user: User | None, reason: str) -> list[OrderEvent]:
    return _cancel_parts([fulfilment], user, reason)


def _cancel_parts(parts: list[Fulfilment], user: User | None, reason: str) -> list[OrderEvent]:
    for fulfilment in parts:
        lifecycle.check(
            fulfilment.status, S.CANCELLED, actors_for(user=user, fulfilment=fulfilment)
        )
    _release_all(parts)
    events = []
    for fulfilment in parts:
        fulfilment.reason = reason
        events.append(_move(fulfilment, S.CANCELLED, user, note=reason))
    return events


@transaction.atomic
def fulfilment_cancel(*, fulfilment: Fulfilment, user: User | None, reason: str) -> Fulfilment:
    fulfilment = _lock(fulfilment.pk)
    _save(fulfilment.order, _cancel(fulfilment, user, reason))
    return fulfilment


@transaction.atomic
def order_cancel(*, order: Order, user: User, reason: str = "") -> Order:
    """Cancel every part still open, all or nothing: buyers before confirmation, staff any
    time before shipping."""
    order = _lock_order(order.pk)
    open_parts = [f for f in order.fulfilments.all() if f.status in lifecycle.HOLDS_RESERVATION]
    if not open_parts:
        raise lifecycle.IllegalTransition(
            _("Nothing left to cancel."),
            fields={"status": [_("Already ended.")]},
            current_status=order.status,
            allowed_transitions=[],
        )
    _save(order, _cancel_parts(open_parts, user, reason or "cancelled"))
    return order


@transaction.atomic
def order_approve(*, order: Order, user: User) -> Order:
    """An approver releases an order above the threshold to the cooperatives; they get the
    full confirmation window from now."""
    order = _lock_order(order.pk)
    fulfilments = list(order.fulfilments.all())
    pending = [f for f in fulfilments if f.status == S.PENDING_APPROVAL]
    if not pending:
        possible = set()
        for fulfilment in fulfilments:
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
    events = [_move(fulfilment, S.PLACED, user, note="approved") for fulfilment in pending]
    order.approved_by, order.approved_at = user, timezone.now()
    order.reservation_expires_at = order.approved_at + settings.ORDER_RESERVATION_TTL
    _save(order, events, order_fields=["approved_by", "approved_at", "reservation_expires_at"])
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
                _save(fulfilment.order, _cancel(fulfilment, None, "reservation expired"))
                expired += 1
        except Exception:
            logger.exception("expiring fulfilment %s failed; tried again next run", fulfilment_id)
    return expired
