"""Every public event type's webhook body, built by the code that builds it for real
(notices.events), from rows in memory: what docs/integration.md documents, type by type."""

import datetime
from decimal import Decimal

from django.utils import timezone

from buyers.models import BuyerOrganisation, Store
from logistics.models import DeliveryRun, RunAssignment
from notices import catalog, events
from orders.models import EventKind, Fulfilment, Order, OrderEvent, OrderLine
from payments.models import Payment, Refund
from suppliers.models import Cooperative

AT = timezone.make_aware(datetime.datetime(2026, 3, 2, 9, 15, 4))


def _order_event(kind, from_status, to_status, *, note="", lines=(), run=False, pk=1):
    organisation = BuyerOrganisation(pk=7, name_zh="惠民生鲜", name_en="Huimin Fresh")
    store = Store(pk=12, name="油榨街店", organisation=organisation)
    order = Order(pk=1042, organisation=organisation, store=store, total=Decimal("12800.00"))
    cooperative = Cooperative(pk=3, name_zh="石屯蜂业合作社", name_en="Shitun Bee Co-op")
    part = Fulfilment(pk=2081, order=order, cooperative=cooperative, subtotal=Decimal("12800.00"))
    part._prefetched_objects_cache = {"lines": list(lines)}
    if run:
        departs = AT + datetime.timedelta(days=4)
        part.run_assignment = RunAssignment(
            fulfilment=part, run=DeliveryRun(pk=88, departs_at=departs), stop=2
        )
    return OrderEvent(
        pk=pk,
        order=order,
        fulfilment=part,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        note=note,
        created_at=AT,
    )


def _webhook_body(row) -> dict:
    """The body a subscribed endpoint gets: of the buyer's side where an event is split."""
    built = events.by_order([events.CONVERTERS["order_event"](row)], [row])
    (event,) = [e for e in built if catalog.PARTNER_SYSTEMS in e.groups()]
    return event.webhook_body()


def bodies() -> dict[str, dict]:
    short = OrderLine(pk=5502, quantity=Decimal("50"), confirmed_quantity=Decimal("30"))
    S, K = "status", EventKind
    rows = {
        catalog.ORDER_PLACED: _order_event(S, "", "placed"),
        catalog.ORDER_AWAITING_APPROVAL: _order_event(S, "", "pending_approval"),
        catalog.ORDER_APPROVED: _order_event(S, "pending_approval", "placed"),
        catalog.FULFILMENT_CONFIRMED: _order_event(S, "placed", "confirmed"),
        catalog.FULFILMENT_SHORT_CONFIRMED: _order_event(S, "placed", "confirmed", lines=[short]),
        catalog.FULFILMENT_REJECTED: _order_event(S, "placed", "rejected", note="本周通草已售完"),
        catalog.FULFILMENT_ASSIGNED_TO_RUN: _order_event(
            K.ASSIGNED_TO_RUN, "confirmed", "confirmed", run=True
        ),
        catalog.FULFILMENT_SHIPPED: _order_event(S, "packed", "shipped"),
        catalog.FULFILMENT_DELAYED: _order_event(
            K.DELAYED, "shipped", "shipped", note="兴仁段道路施工"
        ),
        catalog.FULFILMENT_DELIVERED: _order_event(S, "shipped", "delivered"),
        catalog.FULFILMENT_COMPLETED: _order_event(S, "delivered", "completed"),
        catalog.FULFILMENT_CANCELLED: _order_event(S, "placed", "cancelled", note="门店改订"),
        catalog.FULFILMENT_RESERVATION_EXPIRED: _order_event(
            S, "placed", "cancelled", note=events.EXPIRY_NOTE
        ),
        catalog.PAYMENT_OVERDUE: _order_event(K.PAYMENT_OVERDUE, "delivered", "delivered"),
    }
    out = {name: _webhook_body(row) for name, row in rows.items()}
    order = rows[catalog.ORDER_PLACED].order
    payment = Payment(pk=512, order=order, amount_collected=Decimal("12544.00"))
    out[catalog.PAYMENT_RECEIVED] = events.from_payment(payment).webhook_body()
    refund = Refund(pk=77, payment=payment, amount=Decimal("256.00"), reason="quality")
    out[catalog.PAYMENT_REFUNDED] = events.from_refund(refund).webhook_body()
    return out
