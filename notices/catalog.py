"""The event catalog and the one table of who is told what, and how (like orders/lifecycle.py
for moves): public event type → recipient groups → channels, and each type's text.

Event types are public: partner systems subscribe to them and receive them in webhook payloads
(``type``), so a name, once published, is never changed. The texts are short, with named
placeholders, because SMS providers in China send only registered templates with variables:
the subject is the SMS text (template code + parameters), the body the e-mail and inbox text.
Reminders and standing-order reports are ours alone (no partner is subscribed to them).
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

# Recipient groups.
BUYER_MEMBERS = "buyer_members"
BUYER_APPROVERS = "buyer_approvers"
COOPERATIVE_MANAGERS = "cooperative_managers"
STAFF = "staff"
PARTNER_SYSTEMS = "partner_systems"
GROUPS = (BUYER_MEMBERS, BUYER_APPROVERS, COOPERATIVE_MANAGERS, STAFF, PARTNER_SYSTEMS)

# Channels.
EMAIL, SMS, INBOX, WEBHOOK = "email", "sms", "inbox", "webhook"
CHANNELS = (EMAIL, SMS, INBOX, WEBHOOK)


@dataclass(frozen=True)
class Text:
    subject: str  # also the SMS text: short, one line
    body: str


ORDER_PLACED = "order.placed"
ORDER_AWAITING_APPROVAL = "order.awaiting_approval"
ORDER_APPROVED = "order.approved"
FULFILMENT_CONFIRMED = "fulfilment.confirmed"
FULFILMENT_SHORT_CONFIRMED = "fulfilment.short_confirmed"
FULFILMENT_REJECTED = "fulfilment.rejected"
FULFILMENT_ASSIGNED_TO_RUN = "fulfilment.assigned_to_run"
FULFILMENT_SHIPPED = "fulfilment.shipped"
FULFILMENT_DELAYED = "fulfilment.delayed"
FULFILMENT_DELIVERED = "fulfilment.delivered"
FULFILMENT_COMPLETED = "fulfilment.completed"
FULFILMENT_CANCELLED = "fulfilment.cancelled"
FULFILMENT_RESERVATION_EXPIRED = "fulfilment.reservation_expired"
PAYMENT_RECEIVED = "payment.received"
PAYMENT_REFUNDED = "payment.refunded"
PAYMENT_OVERDUE = "payment.overdue"
STATEMENT_PAID = "statement.paid"
# Ours alone: reminders and the standing-order report.
REMINDER_CONFIRM = "reminder.confirm_due"
REMINDER_DELIVERY_TOMORROW = "reminder.delivery_tomorrow"
REMINDER_RUN_CUTOFF = "reminder.run_cutoff"
STANDING_ORDER_REPORT = "standing_order.report"
# A partner system's endpoint was switched off after failing: its owners (the organisation's
# approvers) are told by e-mail. Never sent to a webhook (the endpoint is the thing broken).
WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint.disabled"

B, A, C, S, P = BUYER_MEMBERS, BUYER_APPROVERS, COOPERATIVE_MANAGERS, STAFF, PARTNER_SYSTEMS
TO_PARTNERS = {P: {WEBHOOK}}

# event type → recipient group → channels. The one table: change who hears what here only.
TABLE: dict[str, dict[str, set[str]]] = {
    ORDER_PLACED: {B: {INBOX, EMAIL}, C: {INBOX, SMS, EMAIL}, **TO_PARTNERS},
    ORDER_AWAITING_APPROVAL: {A: {INBOX, SMS, EMAIL}, **TO_PARTNERS},
    ORDER_APPROVED: {B: {INBOX}, C: {INBOX, SMS, EMAIL}, **TO_PARTNERS},
    FULFILMENT_CONFIRMED: {B: {INBOX, EMAIL}, **TO_PARTNERS},
    FULFILMENT_SHORT_CONFIRMED: {B: {INBOX, SMS, EMAIL}, **TO_PARTNERS},
    FULFILMENT_REJECTED: {B: {INBOX, SMS, EMAIL}, S: {INBOX}, **TO_PARTNERS},
    FULFILMENT_ASSIGNED_TO_RUN: {B: {INBOX}, C: {INBOX}, **TO_PARTNERS},
    FULFILMENT_SHIPPED: {B: {INBOX, SMS}, **TO_PARTNERS},
    FULFILMENT_DELAYED: {B: {INBOX, SMS, EMAIL}, **TO_PARTNERS},
    FULFILMENT_DELIVERED: {C: {INBOX, EMAIL}, **TO_PARTNERS},
    FULFILMENT_COMPLETED: {C: {INBOX}, **TO_PARTNERS},
    FULFILMENT_CANCELLED: {B: {INBOX, EMAIL}, C: {INBOX, SMS}, **TO_PARTNERS},
    FULFILMENT_RESERVATION_EXPIRED: {B: {INBOX, EMAIL}, C: {INBOX}, **TO_PARTNERS},
    PAYMENT_RECEIVED: {B: {INBOX}, **TO_PARTNERS},
    PAYMENT_REFUNDED: {B: {INBOX, EMAIL}, **TO_PARTNERS},
    PAYMENT_OVERDUE: {B: {INBOX, EMAIL}, A: {SMS}, S: {INBOX}, **TO_PARTNERS},
    STATEMENT_PAID: {C: {INBOX, SMS, EMAIL}},
    REMINDER_CONFIRM: {C: {INBOX, SMS}},
    REMINDER_DELIVERY_TOMORROW: {B: {INBOX}, C: {INBOX}},
    REMINDER_RUN_CUTOFF: {C: {INBOX, SMS}},
    STANDING_ORDER_REPORT: {B: {INBOX, EMAIL}},
    WEBHOOK_ENDPOINT_DISABLED: {A: {INBOX, EMAIL}},
}

# The types partner systems may subscribe to (the public catalog).
PUBLIC_EVENT_TYPES = tuple(t for t, groups in TABLE.items() if P in groups)
# What a buyer organisation's systems may subscribe to: its orders, parts and payments. A
# statement is a cooperative's business, never a buyer's.
BUYER_SUBSCRIBABLE = tuple(
    t for t in PUBLIC_EVENT_TYPES if t.split(".")[0] in {"order", "fulfilment", "payment"}
)
# The type of a test ping (webhook-endpoints/{id}/ping/): sent on request, never subscribed.
PING = "ping"

# Placeholders every text may use: order, cooperative, organisation, store, total, amount,
# date, note, run, url. Values are filled in by notices/events.py, formatted for the reader.
TEXTS: dict[str, Text] = {
    ORDER_PLACED: Text(
        _("Order %(order)s placed: %(cooperative)s, %(total)s"),
        _(
            "Order %(order)s was placed by %(organisation)s for %(store)s. %(cooperative)s's "
            "part comes to %(total)s; the cooperative confirms it in full or short."
        ),
    ),
    ORDER_AWAITING_APPROVAL: Text(
        _("Order %(order)s (%(total)s) waits for your approval"),
        _(
            "Order %(order)s for %(store)s comes to %(total)s, above the approval threshold. "
            "Approve or cancel it; cooperatives see it once it is approved."
        ),
    ),
    ORDER_APPROVED: Text(
        _("Order %(order)s approved: %(cooperative)s, %(total)s"),
        _(
            "Order %(order)s of %(organisation)s for %(store)s was approved. %(cooperative)s's "
            "part comes to %(total)s; the cooperative confirms it in full or short."
        ),
    ),
    FULFILMENT_CONFIRMED: Text(
        _("Order %(order)s confirmed by %(cooperative)s"),
        _("%(cooperative)s confirmed its part of order %(order)s in full: %(total)s."),
    ),
    FULFILMENT_SHORT_CONFIRMED: Text(
        _("Order %(order)s confirmed short by %(cooperative)s"),
        _(
            "%(cooperative)s can supply only part of order %(order)s; its part now comes to "
            "%(total)s. The order's lines show the confirmed quantities."
        ),
    ),
    FULFILMENT_REJECTED: Text(
        _("Order %(order)s rejected by %(cooperative)s"),
        _("%(cooperative)s rejected its part of order %(order)s. Reason: %(note)s"),
    ),
    FULFILMENT_ASSIGNED_TO_RUN: Text(
        _("Order %(order)s goes on the run of %(date)s"),
        _(
            "%(cooperative)s's part of order %(order)s for %(store)s travels on the delivery "
            "run leaving %(date)s (%(run)s)."
        ),
    ),
    FULFILMENT_SHIPPED: Text(
        _("Order %(order)s shipped by %(cooperative)s"),
        _("%(cooperative)s's part of order %(order)s left Shitun for %(store)s."),
    ),
    FULFILMENT_DELAYED: Text(
        _("Order %(order)s delayed"),
        _("The delivery of %(cooperative)s's part of order %(order)s is delayed: %(note)s"),
    ),
    FULFILMENT_DELIVERED: Text(
        _("Order %(order)s delivered to %(store)s"),
        _("Your part of order %(order)s was delivered to %(store)s. %(note)s"),
    ),
    FULFILMENT_COMPLETED: Text(
        _("Order %(order)s completed"),
        _("%(organisation)s completed order %(order)s: your part came to %(total)s."),
    ),
    FULFILMENT_CANCELLED: Text(
        _("Order %(order)s cancelled"),
        _("%(cooperative)s's part of order %(order)s was cancelled. %(note)s"),
    ),
    FULFILMENT_RESERVATION_EXPIRED: Text(
        _("Order %(order)s expired unconfirmed"),
        _(
            "Nobody confirmed %(cooperative)s's part of order %(order)s in time; its "
            "reservation expired and the stock went back on sale."
        ),
    ),
    PAYMENT_RECEIVED: Text(
        _("Payment of %(amount)s received for order %(order)s"),
        _("We received %(amount)s for order %(order)s. Still due: %(total)s."),
    ),
    PAYMENT_REFUNDED: Text(
        _("%(amount)s refunded for order %(order)s"),
        _("%(amount)s was refunded for order %(order)s. %(note)s"),
    ),
    PAYMENT_OVERDUE: Text(
        _("Payment for order %(order)s is overdue"),
        _("Order %(order)s of %(organisation)s is unpaid after its terms. %(note)s"),
    ),
    STATEMENT_PAID: Text(
        _("Statement paid: %(amount)s"),
        _(
            "%(cooperative)s's settlement statement up to %(date)s was paid out: %(amount)s. "
            "The statement shows each household's share."
        ),
    ),
    REMINDER_CONFIRM: Text(
        _("Order %(order)s waits for your confirmation"),
        _(
            "%(cooperative)s has not yet confirmed its part of order %(order)s (%(total)s). "
            "Confirm it, in full or short, or reject it before the reservation expires."
        ),
    ),
    REMINDER_DELIVERY_TOMORROW: Text(
        _("Order %(order)s is due tomorrow"),
        _("%(cooperative)s's part of order %(order)s is due at %(store)s on %(date)s."),
    ),
    REMINDER_RUN_CUTOFF: Text(
        _("Delivery run cut-off at %(date)s"),
        _(
            "Orders confirmed before %(date)s travel on the run %(run)s; parts confirmed "
            "later wait for the next run."
        ),
    ),
    # The standing-order report brings its own subject and body (orders writes them).
    STANDING_ORDER_REPORT: Text("%(subject)s", "%(body)s"),
    WEBHOOK_ENDPOINT_DISABLED: Text(
        _("Webhook endpoint disabled: %(url)s"),
        _(
            "Your organisation's webhook endpoint %(url)s no longer receives events. "
            "%(note)s Fix the receiver, try it with the ping action, then switch the endpoint "
            "back on (PATCH is_active true)."
        ),
    ),
}

assert set(TEXTS) == set(TABLE), "every event type has a text and a row"
