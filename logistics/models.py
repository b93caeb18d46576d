"""Delivery runs from Shitun to Nanming and the shipment of each fulfilment.

A schedule says when trucks go (weekdays, departure time, cut-off); a beat job opens its runs
for the coming days and assigns confirmed fulfilments to them; each fulfilment's shipment says
who carries it, how many packages, how heavy, and when it should arrive."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from backend.fields import PhoneField
from orders.models import Fulfilment

WEIGHT = {"max_digits": 10, "decimal_places": 2}  # kg, to 10 g
ALL_WEEKDAYS = 0b1111111


class DeliverySchedule(models.Model):
    """A recurring trip, e.g. every Tuesday and Friday at 06:00 from Shitun to Nanming, taking
    fulfilments confirmed up to ``cutoff_hours`` before it leaves.

    ``weekdays`` is a bit set (bit 0 = Monday … bit 6 = Sunday, Asia/Shanghai): one row per
    trip pattern, on SQLite and PostgreSQL alike. The cut-off is a number of hours before
    departure rather than a weekday and time: one number covers "the evening before" for any
    weekday, and moving the departure moves the cut-off with it."""

    name = models.CharField(_("name"), max_length=100)
    weekdays = models.PositiveSmallIntegerField(
        _("weekdays"), help_text=_("Bit set: 1 = Monday, 2 = Tuesday, 4 = Wednesday … 64 = Sunday")
    )
    departure_time = models.TimeField(_("departure time (Asia/Shanghai)"))
    cutoff_hours = models.PositiveSmallIntegerField(_("cut-off (hours before departure)"))
    origin = models.CharField(_("origin"), max_length=100, default="石屯镇")
    destination = models.CharField(_("destination"), max_length=100, default="南明区")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("delivery schedule")
        verbose_name_plural = _("delivery schedules")
        constraints = [
            models.CheckConstraint(
                condition=Q(weekdays__gte=1) & Q(weekdays__lte=ALL_WEEKDAYS),
                name="delivery_schedule_weekdays",
            ),
            # Up to two weeks ahead: runs are opened 14 days ahead, a longer cut-off would
            # have passed before its run was opened.
            models.CheckConstraint(
                condition=Q(cutoff_hours__lte=336), name="delivery_schedule_cutoff_hours"
            ),
        ]

    def __str__(self):
        return self.name

    def weekday_list(self) -> list[int]:
        return [day for day in range(7) if self.weekdays & (1 << day)]


class RunStatus(models.TextChoices):
    OPEN = "open", _("open (taking fulfilments until the cut-off)")
    CLOSED = "closed", _("closed (cut-off passed)")
    DEPARTED = "departed", _("departed")


class DeliveryRun(models.Model):
    """One trip of a schedule on one date. Departure and cut-off are fixed when the run is
    opened, so changing the schedule later does not move a trip already planned."""

    schedule = models.ForeignKey(
        DeliverySchedule, on_delete=models.PROTECT, related_name="runs", verbose_name=_("schedule")
    )
    date = models.DateField(_("date"))
    departs_at = models.DateTimeField(_("departs at"))
    cutoff_at = models.DateTimeField(_("cut-off"))
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("delivery run")
        verbose_name_plural = _("delivery runs")
        constraints = [
            models.UniqueConstraint(fields=["schedule", "date"], name="delivery_run_one_per_day"),
            models.CheckConstraint(
                condition=Q(cutoff_at__lte=F("departs_at")), name="delivery_run_cutoff_first"
            ),
        ]
        indexes = [models.Index(fields=["status", "departs_at"])]

    def __str__(self):
        return f"{self.schedule} {self.date}"


class RunAssignment(models.Model):
    """A fulfilment travels on at most one run; ``stop`` is its store's place in the run's
    order of stops (fulfilments for the same store share a stop)."""

    run = models.ForeignKey(
        DeliveryRun,
        on_delete=models.PROTECT,
        related_name="assignments",
        verbose_name=_("delivery run"),
    )
    fulfilment = models.OneToOneField(
        Fulfilment,
        on_delete=models.CASCADE,
        related_name="run_assignment",
        verbose_name=_("fulfilment"),
    )
    stop = models.PositiveSmallIntegerField(_("stop"))
    assigned_at = models.DateTimeField(auto_now_add=True, verbose_name=_("assigned at"))

    class Meta:
        verbose_name = _("run assignment")
        verbose_name_plural = _("run assignments")
        constraints = [
            models.CheckConstraint(condition=Q(stop__gte=1), name="run_assignment_stop_gte_1"),
        ]
        indexes = [models.Index(fields=["run", "stop"])]

    def __str__(self):
        return f"{self.run} stop {self.stop}: {self.fulfilment_id}"


class Shipment(models.Model):
    """How one fulfilment travels: by a carrier or the cooperative's own vehicle, with the
    driver, tracking number, packages, weight and the planned delivery window."""

    class Mode(models.TextChoices):
        CARRIER = "carrier", _("carrier")
        OWN_VEHICLE = "own_vehicle", _("own vehicle")

    fulfilment = models.OneToOneField(
        Fulfilment, on_delete=models.CASCADE, related_name="shipment", verbose_name=_("fulfilment")
    )
    mode = models.CharField(_("mode"), max_length=12, choices=Mode.choices)
    carrier_name = models.CharField(_("carrier"), max_length=100, blank=True)
    vehicle_plate = models.CharField(_("vehicle plate"), max_length=20, blank=True)
    driver_name = models.CharField(_("driver's name"), max_length=50, blank=True)
    driver_phone = PhoneField(_("driver's phone"), blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    package_count = models.PositiveIntegerField(_("packages"))
    weight_kg = models.DecimalField(_("weight (kg)"), **WEIGHT)
    window_start = models.DateTimeField(_("delivery window from"))
    window_end = models.DateTimeField(_("delivery window until"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        constraints = [
            models.CheckConstraint(
                condition=Q(window_end__gt=F("window_start")), name="shipment_window_ordered"
            ),
            models.CheckConstraint(
                condition=Q(package_count__gte=1), name="shipment_package_count_gte_1"
            ),
            models.CheckConstraint(condition=Q(weight_kg__gt=0), name="shipment_weight_gt_0"),
            # A carrier is named; one's own vehicle needs no carrier.
            models.CheckConstraint(
                condition=~Q(mode="carrier") | ~Q(carrier_name=""),
                name="shipment_carrier_named",
            ),
        ]

    def __str__(self):
        return f"{self.fulfilment_id}: {self.package_count} × {self.weight_kg} kg"
