"""What the outbox hears (backend.outbox sources) turned into catalog events: a key naming
the cause, a public type, whom it concerns (organisation, cooperative), the text's variables
and the webhook payload. One event per cause; notices/services.py fans it out to people."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import EventKind, FulfilmentStatus, OrderEvent

from . import catalog
from .catalog import Text

S = FulfilmentStatus
EXPIRY_NOTE = "reservation expired"  # what orders' expiry job writes on its cancellations


@dataclass
class Event:
    key: str  # the cause, unique: order_event:42, statement:7:paid, reminder:confirm:12
    type: str  # catalog event type
    organisation_id: int | None = None
    cooperative_id: int | None = None
    params: dict = field(default_factory=dict)  # raw values; formatted per reader
    payload: dict = field(default_factory=dict)  # the webhook body's data
    text: Text | None = None  # instead of the catalog's (a standing-order report)
    occurred_at: datetime.datetime = field(default_factory=timezone.now)
    # Only these of the type's recipient groups (None: all of catalog.TABLE's row).
    audience: frozenset | None = None

    def groups(self) -> dict[str, set[str]]:
        """Recipient group → channels, from catalog.TABLE."""
        row = catalog.TABLE[self.type]
        if self.audience is None:
            return row
        return {group: wanted for group, wanted in row.items() if group in self.audience}

    def webhook_body(self) -> dict:
        """The body a partner system receives: the event id lets it drop duplicates."""
        return {
            "id": self.key,
            "type": self.type,
            "created_at": timezone.localtime(self.occurred_at).isoformat(),
            "data": self.payload,
        }


def names(row) -> dict:
    """A name in both languages; the text takes the reader's (notices.services._formatted)."""
    return {"zh": row.name_zh, "en": row.name_en or row.name_zh}


def order_event_type(row: OrderEvent) -> str | None:
    """The catalog type of an order event, or None when nobody is told (packing, a shipment's
    details recorded)."""
    if row.kind == EventKind.ASSIGNED_TO_RUN:
        return catalog.FULFILMENT_ASSIGNED_TO_RUN
    if row.kind == EventKind.DELAYED:
        return catalog.FULFILMENT_DELAYED
    if row.kind == EventKind.PAYMENT_OVERDUE:
        return catalog.PAYMENT_OVERDUE
    if row.kind != EventKind.STATUS:
        return None
    to = row.to_status
    if to == S.PENDING_APPROVAL:
        return catalog.ORDER_AWAITING_APPROVAL
    if to == S.PLACED:
        return catalog.ORDER_APPROVED if row.from_status else catalog.ORDER_PLACED
    if to == S.CONFIRMED:
        lines = row.fulfilment.lines.all()
        short = any(
            line.confirmed_quantity is not None and line.confirmed_quantity < line.quantity
            for line in lines
        )
        return catalog.FULFILMENT_SHORT_CONFIRMED if short else catalog.FULFILMENT_CONFIRMED
    if to == S.CANCELLED:
        expired = row.actor_id is None and row.note == EXPIRY_NOTE
        return catalog.FULFILMENT_RESERVATION_EXPIRED if expired else catalog.FULFILMENT_CANCELLED
    return {
        S.REJECTED: catalog.FULFILMENT_REJECTED,
        S.SHIPPED: catalog.FULFILMENT_SHIPPED,
        S.DELIVERED: catalog.FULFILMENT_DELIVERED,
        S.COMPLETED: catalog.FULFILMENT_COMPLETED,
    }.get(to)


def from_order_event(row: OrderEvent) -> Event | None:
    type_ = order_event_type(row)
    if type_ is None:
        return None
    order, part = row.order, row.fulfilment
    params = {
        "order": order.pk,
        "organisation": names(order.organisation),
        "store": order.store.name,
        "cooperative": names(part.cooperative) if part else "",
        "total": part.subtotal if part else order.total,
        "note": row.note,
    }
    payload = {
        "order": order.pk,
        "organisation": order.organisation_id,
        "store": order.store_id,
        "fulfilment": part.pk if part else None,
        "cooperative": part.cooperative_id if part else None,
        "status": row.to_status,
        "total": str(params["total"]),
        "note": row.note,
    }
    if type_ == catalog.FULFILMENT_ASSIGNED_TO_RUN:
        assignment = part.run_assignment if hasattr(part, "run_assignment") else None
        if assignment is not None:
            params.update(date=assignment.run.departs_at, run=assignment.run_id)
            payload.update(run=assignment.run_id, stop=assignment.stop)
    if type_ == catalog.FULFILMENT_DELIVERED:
        lines = part.lines.all()
        payload["short"] = any(
            line.accepted_quantity is not None
            and line.accepted_quantity < (line.confirmed_quantity or line.quantity)
            for line in lines
        )
        payload["rejected"] = any(line.accepted_quantity == 0 for line in lines)
    return Event(
        key=f"order_event:{row.pk}",
        type=type_,
        organisation_id=order.organisation_id,
        cooperative_id=part.cooperative_id if part else None,
        params=params,
        payload=payload,
        occurred_at=row.created_at or timezone.now(),
    )


def from_payment(payment) -> Event:
    """Money arrived for an order (its collected amount is in the key: each rise once)."""
    order = payment.order
    return Event(
        key=f"payment:{payment.pk}:collected:{payment.amount_collected}",
        type=catalog.PAYMENT_RECEIVED,
        organisation_id=order.organisation_id,
        params={
            "order": order.pk,
            "amount": payment.amount_collected,
            "total": max(order.total - payment.amount_collected, Decimal(0)),
        },
        payload={
            "order": order.pk,
            "payment": payment.pk,
            "amount_collected": str(payment.amount_collected),
        },
    )


def from_refund(refund) -> Event:
    order = refund.payment.order
    return Event(
        key=f"refund:{refund.pk}:paid",
        type=catalog.PAYMENT_REFUNDED,
        organisation_id=order.organisation_id,
        params={"order": order.pk, "amount": refund.amount, "note": refund.get_reason_display()},
        payload={
            "order": order.pk,
            "refund": refund.pk,
            "amount": str(refund.amount),
            "reason": refund.reason,
        },
    )


def from_statement(statement) -> Event:
    return Event(
        key=f"statement:{statement.pk}:paid",
        type=catalog.STATEMENT_PAID,
        cooperative_id=statement.cooperative_id,
        params={
            "cooperative": names(statement.cooperative),
            "amount": statement.net_payable,
            "date": statement.period_end,
        },
        payload={
            "statement": statement.pk,
            "cooperative": statement.cooperative_id,
            "net_payable": str(statement.net_payable),
        },
    )


def from_standing_report(report) -> Event:
    """orders' standing-order report: its own subject and body, read per reader."""
    standing = report.standing
    return Event(
        key=report.key,
        type=catalog.STANDING_ORDER_REPORT,
        organisation_id=standing.organisation_id,
        params={"subject": report.subject, "body": report.body},
        payload={"standing_order": standing.pk},
    )


CONVERTERS = {
    "order_event": from_order_event,
    "payment_received": from_payment,
    "refund_paid": from_refund,
    "statement_paid": from_statement,
    "standing_order_report": from_standing_report,
}


# Order-wide types: recorded once per part (each cooperative hears of its own part), but the
# buyer's side (its people and its systems) hears of the order once.
ORDER_WIDE = {catalog.ORDER_PLACED, catalog.ORDER_AWAITING_APPROVAL, catalog.ORDER_APPROVED}
COOPERATIVE_SIDE = frozenset({catalog.COOPERATIVE_MANAGERS, catalog.STAFF})
BUYER_SIDE = frozenset(catalog.GROUPS) - COOPERATIVE_SIDE
ORDER_WIDE_SUFFIX = {
    catalog.ORDER_PLACED: "placed",
    catalog.ORDER_AWAITING_APPROVAL: "awaiting_approval",
    catalog.ORDER_APPROVED: "approved",
}
ORDER_TEXT = Text(
    _("Order %(order)s placed: %(total)s"),
    _(
        "Order %(order)s was placed by %(organisation)s for %(store)s and comes to %(total)s. "
        "Each cooperative confirms its part in full or short."
    ),
)
APPROVED_TEXT = Text(
    _("Order %(order)s approved: %(total)s"),
    _(
        "Order %(order)s of %(organisation)s for %(store)s was approved and comes to "
        "%(total)s. Each cooperative confirms its part in full or short."
    ),
)


def by_order(events: list[Event], rows: list) -> list[Event]:
    """Split order-wide events: one per part for the cooperative's side, and one per order
    (keyed by the order, so seen again it writes nothing) for the buyer's side."""
    out, orders = [], {}
    for event, row in zip(events, rows, strict=True):
        if event is None:
            continue
        if event.type not in ORDER_WIDE or not isinstance(row, OrderEvent):
            out.append(event)
            continue
        event.audience = COOPERATIVE_SIDE
        out.append(event)
        order = row.order
        key = f"order:{order.pk}:{ORDER_WIDE_SUFFIX[event.type]}"
        whole = orders.get(key)
        if whole is None:
            params = dict(event.params, cooperative="", total=order.total)
            if event.type == catalog.ORDER_PLACED:
                text = ORDER_TEXT
            elif event.type == catalog.ORDER_APPROVED:
                text = APPROVED_TEXT
            else:
                text = None  # the approver's text is already about the whole order
            whole = orders[key] = Event(
                key=key,
                type=event.type,
                organisation_id=event.organisation_id,
                params=params,
                payload={
                    "order": order.pk,
                    "organisation": order.organisation_id,
                    "store": order.store_id,
                    "status": row.to_status,
                    "total": str(order.total),
                    "fulfilments": [],
                },
                text=text,
                occurred_at=event.occurred_at,
                audience=BUYER_SIDE,
            )
            out.append(whole)
        whole.payload["fulfilments"].append(
            {
                "fulfilment": event.payload["fulfilment"],
                "cooperative": event.payload["cooperative"],
                "status": row.to_status,
            }
        )
    return out


def on_recorded(source: str, rows: list) -> None:
    """backend.outbox's listener: write the notices of what was just recorded, in the same
    transaction."""
    from .services import notify

    convert = CONVERTERS.get(source)
    if convert is None:
        raise ValueError(f"the outbox does not know the source {source!r}")
    events = by_order([convert(row) for row in rows], rows)
    if events:
        notify(events=events)
