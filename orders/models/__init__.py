from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dates import WEEKDAYS as WEEKDAY_NAMES  # 0 = Monday, translated
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from buyers.models import BuyerOrganisation, Store
from products.models import MONEY, QUANTITY, Listing, Lot
from suppliers.models import Cooperative

from .imports import PurchaseImport, PurchaseImportOrder


class FulfilmentStatus(models.TextChoices):
    """One cooperative's part of an order moves through these; orders/lifecycle.py says which
    moves are allowed and who may make them."""

    PENDING_APPROVAL = "pending_approval", _("waiting for the buyer's approval")
    PLACED = "placed", _("placed")
    CONFIRMED = "confirmed", _("confirmed")
    REJECTED = "rejected", _("rejected")
    PACKED = "packed", _("packed")
    SHIPPED = "shipped", _("shipped")
    DELIVERED = "delivered", _("delivered")
    COMPLETED = "completed", _("completed")
    CANCELLED = "cancelled", _("cancelled")


class Order(models.Model):
    """A buyer's bulk order: one delivery address, lines from one or more cooperatives, split
    into one fulfilment per cooperative. Its status follows from its fulfilments."""

    # Indexed by (organisation, -id) below, which serves its lookups too: one index fewer for
    # every order to write (issue 8).
    organisation = models.ForeignKey(
        BuyerOrganisation,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("buyer organisation"),
        db_index=False,
    )
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="orders", verbose_name=_("store")
    )
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="orders_placed",
        verbose_name=_("placed by"),
    )
    status = models.CharField(_("status"), max_length=20, choices=FulfilmentStatus.choices)
    total = models.DecimalField(_("total (CNY)"), **MONEY)
    requested_delivery_date = models.DateField(_("requested delivery date"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    # Unconfirmed (or unapproved) reservations give their stock back after this.
    reservation_expires_at = models.DateTimeField(_("reservation expires at"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders_approved",
        verbose_name=_("approved by"),
        db_index=False,  # a partial index below: most orders have none
    )
    approved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("approved at"))
    reorder_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reorders",
        verbose_name=_("reorder of"),
        db_index=False,  # a partial index below: most orders have none
    )
    standing_order = models.ForeignKey(
        "StandingOrder",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("standing order"),
        db_index=False,  # a partial index below: most orders have none
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_gte_0"),
        ]
        indexes = [
            models.Index(fields=["organisation", "-id"]),
            # Reservation expiry looks orders up by this alone (the order's status follows
            # from its parts, so it cannot narrow the search).
            models.Index(fields=["reservation_expires_at"], name="order_reservation_expiry_idx"),
            # Only the orders that have one: a placement writes no entry for a NULL.
            *(
                models.Index(
                    fields=[name],
                    condition=Q(**{f"{name}__isnull": False}),
                    name=f"order_{name}_idx",
                )
                for name in ("approved_by", "reorder_of", "standing_order")
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.organisation}"


class Fulfilment(models.Model):
    """One cooperative's part of an order: it confirms, packs and ships it on its own."""

    # Both indexed as the first column of a composite index below (order, cooperative) and
    # (cooperative, status), which serve their lookups too (issue 8: fewer indexes to write).
    order = models.ForeignKey(
        Order,
        on_delete=models.CASCADE,
        related_name="fulfilments",
        verbose_name=_("order"),
        db_index=False,
    )
    cooperative = models.ForeignKey(
        Cooperative,
        on_delete=models.PROTECT,
        related_name="fulfilments",
        verbose_name=_("cooperative"),
        db_index=False,
    )
    status = models.CharField(_("status"), max_length=20, choices=FulfilmentStatus.choices)
    subtotal = models.DecimalField(_("subtotal (CNY)"), **MONEY)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    # When the cooperative got the part: at placing, or when the buyer's approver released it.
    # A part cancelled while it waited for approval was never the cooperative's to see.
    released_at = models.DateTimeField(_("released to the cooperative at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("fulfilment")
        verbose_name_plural = _("fulfilments")
        constraints = [
            models.UniqueConstraint(
                fields=["order", "cooperative"], name="fulfilment_one_per_cooperative"
            ),
            models.CheckConstraint(condition=Q(subtotal__gte=0), name="fulfilment_subtotal_gte_0"),
        ]
        indexes = [
            models.Index(fields=["cooperative", "status"]),
            # Reservation expiry: the few parts still waiting, by order, without reading the
            # many that moved on.
            models.Index(
                fields=["order"],
                condition=Q(status__in=["pending_approval", "placed"]),
                name="fulfilment_awaiting_idx",
            ),
        ]

    def __str__(self):
        return f"#{self.order_id}/{self.cooperative_id} {self.get_status_display()}"


class OrderLine(models.Model):
    """What was ordered of one listing, at the price that applied when the order was placed.
    The quantity that counts moves from ordered to confirmed to accepted at delivery."""

    class PriceSource(models.TextChoices):
        PUBLIC = "public", _("public tiers")
        NEGOTIATED = "negotiated", _("negotiated price")

    class DeliveryIssue(models.TextChoices):
        NONE = "", _("none")
        SHORTFALL = "shortfall", _("shortfall (less arrived)")
        QUALITY = "quality", _("quality rejection")

    # Indexed as the first column of order_line_one_per_listing (order, listing).
    order = models.ForeignKey(
        Order,
        on_delete=models.CASCADE,
        related_name="lines",
        verbose_name=_("order"),
        db_index=False,
    )
    fulfilment = models.ForeignKey(
        Fulfilment, on_delete=models.CASCADE, related_name="lines", verbose_name=_("fulfilment")
    )
    listing = models.ForeignKey(
        Listing, on_delete=models.PROTECT, related_name="order_lines", verbose_name=_("listing")
    )
    quantity = models.DecimalField(_("quantity ordered"), **QUANTITY)
    unit_price = models.DecimalField(_("unit price (CNY)"), **MONEY)
    price_source = models.CharField(
        max_length=10, choices=PriceSource.choices, verbose_name=_("price source")
    )
    confirmed_quantity = models.DecimalField(
        _("quantity confirmed"), null=True, blank=True, **QUANTITY
    )
    accepted_quantity = models.DecimalField(
        _("quantity accepted"), null=True, blank=True, **QUANTITY
    )
    delivery_issue = models.CharField(
        _("delivery issue"), max_length=10, choices=DeliveryIssue.choices, blank=True
    )
    delivery_note = models.CharField(_("shortfall or quality note"), max_length=500, blank=True)
    line_total = models.DecimalField(_("line total (CNY)"), **MONEY)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.UniqueConstraint(fields=["order", "listing"], name="order_line_one_per_listing"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_gt_0"),
            models.CheckConstraint(
                condition=Q(unit_price__gt=0), name="order_line_unit_price_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(confirmed_quantity__isnull=True)
                | (Q(confirmed_quantity__gte=0) & Q(confirmed_quantity__lte=F("quantity"))),
                name="order_line_confirmed_within_ordered",
            ),
            models.CheckConstraint(
                condition=Q(accepted_quantity__isnull=True)
                | (Q(accepted_quantity__gte=0) & Q(accepted_quantity__lte=F("confirmed_quantity"))),
                name="order_line_accepted_within_confirmed",
            ),
            models.CheckConstraint(condition=Q(line_total__gte=0), name="order_line_total_gte_0"),
        ]

    def __str__(self):
        return f"{self.listing} × {self.quantity}"

    @property
    def effective_quantity(self):
        """The quantity the buyer pays for at this point of the lifecycle."""
        if self.accepted_quantity is not None:
            return self.accepted_quantity
        if self.confirmed_quantity is not None:
            return self.confirmed_quantity
        return self.quantity


class PickAllocation(models.Model):
    """Which lot supplies how much of a line (the pick list): drawn when the part is packed,
    first in first out unless the manager picks lots."""

    line = models.ForeignKey(
        OrderLine, on_delete=models.CASCADE, related_name="picks", verbose_name=_("order line")
    )
    lot = models.ForeignKey(
        Lot, on_delete=models.PROTECT, related_name="picks", verbose_name=_("lot")
    )
    quantity = models.DecimalField(_("quantity"), **QUANTITY)

    class Meta:
        verbose_name = _("pick")
        verbose_name_plural = _("picks")
        constraints = [
            models.UniqueConstraint(fields=["line", "lot"], name="pick_one_per_line_lot"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="pick_quantity_gt_0"),
        ]

    def __str__(self):
        return f"{self.lot} → {self.quantity}"


class EventKind(models.TextChoices):
    """What an order event records. Most are lifecycle moves; the others leave the status as
    it is (from_status == to_status) and say what happened beside it: to a part (logistics)
    or to the order as a whole (payments). Other apps write their kinds through
    orders.services.events, so orders never imports them."""

    STATUS = "status", _("status changed")
    ASSIGNED_TO_RUN = "assigned_to_run", _("assigned to a delivery run")
    SHIPMENT_RECORDED = "shipment_recorded", _("shipment details recorded")
    DELAYED = "delayed", _("delivery delayed")
    PAYMENT_OVERDUE = "payment_overdue", _("payment overdue")


class OrderEvent(models.Model):
    """Every change of an order: who, when, from, to, and a note. The backbone that notices,
    webhooks and reports will read. Most events are a status change of a part; the other
    kinds (EventKind) keep the status it had then as both from and to."""

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="events", verbose_name=_("order")
    )
    kind = models.CharField(
        _("kind"), max_length=20, choices=EventKind.choices, default=EventKind.STATUS
    )
    fulfilment = models.ForeignKey(
        Fulfilment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("fulfilment"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("actor"),
    )  # null: the system (expiry, standing orders)
    from_status = models.CharField(max_length=20, blank=True, verbose_name=_("from status"))
    to_status = models.CharField(max_length=20, verbose_name=_("to status"))
    note = models.CharField(max_length=500, blank=True, verbose_name=_("note"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        constraints = [
            # The overdue job runs daily: an order is flagged once, however often it runs.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(kind="payment_overdue"),
                name="order_event_overdue_once",
            ),
        ]

    def __str__(self):
        labels = dict(FulfilmentStatus.choices)
        before = labels.get(self.from_status, self.from_status or "∅")
        return f"#{self.order_id}: {before} → {labels.get(self.to_status, self.to_status)}"


class StandingOrder(models.Model):
    """A recurring order (e.g. every Monday, 200 kg of grade-A honey to the Xinhua Road store),
    placed by a beat job once per week as a normal order. Deactivated, never deleted: its
    runs are the record of what was ordered."""

    organisation = models.ForeignKey(
        BuyerOrganisation,
        on_delete=models.CASCADE,
        related_name="standing_orders",
        verbose_name=_("buyer organisation"),
    )
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="standing_orders", verbose_name=_("store")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name=_("created by")
    )
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), help_text=_("0 = Monday … 6 = Sunday (Asia/Shanghai)")
    )
    lead_days = models.PositiveSmallIntegerField(
        _("days from placing to requested delivery"), default=0
    )
    is_active = models.BooleanField(_("active"), default=True)
    # The first period it may run for: the day it was made or last switched back on, so the
    # weeks it was paused are not caught up as missed.
    runs_from = models.DateField(_("runs from"), default=timezone.localdate)
    # Runs above the organisation's approval threshold wait for an approver, unless an
    # approver set this cap in advance and the run's total stays within it.
    approved_cap = models.DecimalField(
        _("pre-approved up to (CNY)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    approved_cap_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("pre-approved by"),
    )
    stopped_reason = models.CharField(_("why it stopped"), max_length=500, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("standing order")
        verbose_name_plural = _("standing orders")
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="standing_order_weekday"),
            models.CheckConstraint(condition=Q(lead_days__lte=60), name="standing_order_lead"),
            models.CheckConstraint(
                condition=Q(approved_cap__isnull=True)
                | (Q(approved_cap__gte=0) & Q(approved_cap_by__isnull=False)),
                name="standing_order_cap_set_by_someone",
            ),
        ]

    def __str__(self):
        return gettext("%(organisation)s every %(weekday)s") % {
            "organisation": self.organisation,
            "weekday": WEEKDAY_NAMES[self.weekday],
        }


class StandingOrderLine(models.Model):
    standing_order = models.ForeignKey(
        StandingOrder,
        on_delete=models.CASCADE,
        related_name="lines",
        verbose_name=_("standing order"),
    )
    listing = models.ForeignKey(
        Listing, on_delete=models.PROTECT, related_name="+", verbose_name=_("listing")
    )
    quantity = models.DecimalField(_("quantity"), **QUANTITY)

    class Meta:
        verbose_name = _("standing order line")
        verbose_name_plural = _("standing order lines")
        constraints = [
            models.UniqueConstraint(
                fields=["standing_order", "listing"], name="standing_line_one_per_listing"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="standing_line_qty_gt_0"),
        ]

    def __str__(self):
        return f"{self.listing_id} × {self.quantity}"


class StandingOrderRun(models.Model):
    """One occurrence of a standing order. Unique per period, so the job placing it can run
    twice and still place one order."""

    class Outcome(models.TextChoices):
        PLACED = "placed", _("placed in full")
        PARTIAL = "partial", _("placed in part")
        FAILED = "failed", _("could not be placed")
        MISSED = "missed", _("missed (the job did not run in time)")

    # PROTECT: the run history outlives anything that tries to delete its standing order.
    standing_order = models.ForeignKey(
        StandingOrder,
        on_delete=models.PROTECT,
        related_name="runs",
        verbose_name=_("standing order"),
    )
    period = models.DateField(_("period (the day it was due)"))
    order = models.OneToOneField(
        Order,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="standing_run",
        verbose_name=_("order"),
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices, verbose_name=_("outcome"))
    message = models.TextField(blank=True, verbose_name=_("message"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("standing order run")
        verbose_name_plural = _("standing order runs")
        constraints = [
            models.UniqueConstraint(
                fields=["standing_order", "period"], name="standing_run_once_per_period"
            ),
        ]

    def __str__(self):
        return f"{self.standing_order_id} @ {self.period}: {self.get_outcome_display()}"


__all__ = [
    "EventKind",
    "Fulfilment",
    "FulfilmentStatus",
    "Order",
    "OrderEvent",
    "OrderLine",
    "PickAllocation",
    "PurchaseImport",
    "PurchaseImportOrder",
    "StandingOrder",
    "StandingOrderLine",
    "StandingOrderRun",
]
