"""The public event types partner systems subscribe to.

This copy moves to ``notices.catalog`` when the notices app is merged (notices owns the
catalog and builds the payloads); until then it is the one place partners validates
subscriptions against. Payload shapes are documented with an example per event in
docs/integration.md (tests/partners/test_docs.py keeps the two in step).
"""

from django.utils.translation import gettext_lazy as _

# type -> what it tells, in the order of an order's life.
EVENT_TYPES = {
    "order.placed": _("An order was placed."),
    "order.awaiting_approval": _("An order waits for an approver."),
    "order.approved": _("An approver approved an order."),
    "fulfilment.confirmed": _("A cooperative confirmed its part in full."),
    "fulfilment.short_confirmed": _("A cooperative confirmed less than ordered."),
    "fulfilment.rejected": _("A cooperative rejected its part."),
    "fulfilment.assigned_to_run": _("A part was put on a delivery run."),
    "fulfilment.shipped": _("A part left Shitun."),
    "fulfilment.delayed": _("A part's delivery window moved."),
    "fulfilment.delivered": _("A store took delivery of a part."),
    "fulfilment.completed": _("A part was completed."),
    "fulfilment.cancelled": _("A part was cancelled."),
    "fulfilment.reservation_expired": _("A part's stock reservation expired unconfirmed."),
    "payment.received": _("A payment for an order was received."),
    "payment.refunded": _("Money was refunded to the buyer."),
    "payment.overdue": _("An order is unpaid past its net terms."),
    "statement.paid": _("A cooperative's settlement statement was paid."),
}

# What a buyer organisation's systems may subscribe to: its orders, parts and payments.
# A statement is a cooperative's business, never a buyer's.
BUYER_EVENT_TYPES = tuple(
    name for name in EVENT_TYPES if name.split(".")[0] in {"order", "fulfilment", "payment"}
)

# The type of a test ping (webhook-endpoints/{id}/ping/): sent on request, never subscribed.
PING = "ping"
