import datetime
from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import npgettext

from backend import formatting
from suppliers.models import Cooperative, Household

QUANTITY = {"max_digits": 12, "decimal_places": 3}  # up to 999,999,999.999 units
MAX_STOCK = Decimal("999999999.999")  # the most a QUANTITY column holds
EARLIEST_HARVEST = datetime.date(2000, 1, 1)  # lots are this century's harvests
MONEY = {"max_digits": 12, "decimal_places": 2}  # CNY, exact to the fen


class Unit(models.TextChoices):
    KG = "kg", _("kilogram")
    JIN = "jin", _("jin (0.5 kg)")
    G = "g", _("gram")
    JAR = "jar", _("jar")
    BOTTLE = "bottle", _("bottle")
    BOX = "box", _("box")
    CASE = "case", _("case")
    BUNDLE = "bundle", _("bundle")
    PIECE = "piece", _("piece")


def unit_name(unit: str, quantity: Decimal = Decimal(2)) -> str:
    """The unit as a message says it after a quantity ("50 公斤", "50 kg", "1 jar", "2 jars");
    the choice labels above are the admin's longer names."""
    n = 1 if quantity == 1 else 2
    names = {
        Unit.KG: npgettext("unit", "kg", "kg", n),
        Unit.JIN: npgettext("unit", "jin", "jin", n),
        Unit.G: npgettext("unit", "g", "g", n),
        Unit.JAR: npgettext("unit", "jar", "jars", n),
        Unit.BOTTLE: npgettext("unit", "bottle", "bottles", n),
        Unit.BOX: npgettext("unit", "box", "boxes", n),
        Unit.CASE: npgettext("unit", "case", "cases", n),
        Unit.BUNDLE: npgettext("unit", "bundle", "bundles", n),
        Unit.PIECE: npgettext("unit", "piece", "pieces", n),
    }
    return names.get(unit, unit)


def quantity_text(quantity: Decimal, unit: str) -> str:
    """A quantity of a unit as messages write it, in the language read: "50 公斤"."""
    return formatting.quantity(quantity, lazy(unit_name, str)(unit, quantity))


class Category(models.Model):
    """A node of the category tree (e.g. 蜂产品 › 蜂蜜)."""

    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=50)
    name_en = models.CharField(_("name (English)"), max_length=80, blank=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.CheckConstraint(condition=~Q(parent=F("id")), name="category_not_own_parent"),
        ]

    def __str__(self):
        return self.name_zh


class Certification(models.Model):
    """Organic, geographical indication (地理标志), green food, …"""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=50)
    name_en = models.CharField(_("name (English)"), max_length=80)

    class Meta:
        verbose_name = _("certification")
        verbose_name_plural = _("certifications")
        ordering = ["code"]

    def __str__(self):
        return self.name_zh


class Product(models.Model):
    """The canonical item buyers search for (蜂蜜 honey, 通草 tongcao, …)."""

    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="products", verbose_name=_("category")
    )
    name_zh = models.CharField(_("name (Chinese)"), max_length=50, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    # Written by products.services from name_zh: "fengmi fm" for 蜂蜜, so buyers can type
    # full pinyin or initials on a phone keyboard.
    pinyin = models.CharField(_("pinyin"), max_length=300, blank=True, editable=False)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self):
        return self.name_zh


class Grade(models.TextChoices):
    SPECIAL = "special", _("special grade (特级)")
    FIRST = "first", _("first grade (一级)")
    SECOND = "second", _("second grade (二级)")
    UNGRADED = "ungraded", _("ungraded")


class Listing(models.Model):
    """One cooperative's offer of one product in one grade: packaging, tiered prices, order
    rules and stock. Stock changes only through products.services.stock."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        ACTIVE = "active", _("active")
        PAUSED = "paused", _("paused")
        SOLD_OUT = "sold_out", _("sold out")

    LIVE_STATUSES = (Status.ACTIVE, Status.SOLD_OUT)  # what buyers can see
    SETTABLE_STATUSES = (Status.DRAFT, Status.ACTIVE, Status.PAUSED)  # sold_out follows stock

    cooperative = models.ForeignKey(
        Cooperative,
        on_delete=models.PROTECT,
        related_name="listings",
        verbose_name=_("cooperative"),
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="listings", verbose_name=_("product")
    )
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices)
    unit = models.CharField(
        _("unit"),
        max_length=10,
        choices=Unit.choices,
        help_text=_("The unit quantities, tiers and stock are counted in."),
    )
    packaging = models.CharField(
        _("packaging"), max_length=100, blank=True, help_text=_("e.g. 24 × 500 g jars per case")
    )
    description = models.TextField(_("description"), blank=True, max_length=2000)
    min_order_quantity = models.DecimalField(_("minimum order quantity"), **QUANTITY)
    order_increment = models.DecimalField(_("order increment"), **QUANTITY)
    stock_on_hand = models.DecimalField(_("stock on hand"), default=0, **QUANTITY)
    stock_reserved = models.DecimalField(_("stock reserved"), default=0, **QUANTITY)
    lead_time_days = models.PositiveSmallIntegerField(_("lead time (days)"), default=0)
    certifications = models.ManyToManyField(
        Certification, blank=True, related_name="listings", verbose_name=_("certifications")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("listing")
        verbose_name_plural = _("listings")
        constraints = [
            models.CheckConstraint(condition=Q(stock_on_hand__gte=0), name="listing_on_hand_gte_0"),
            models.CheckConstraint(
                condition=Q(stock_reserved__gte=0), name="listing_reserved_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(stock_reserved__lte=F("stock_on_hand")),
                name="listing_reserved_lte_on_hand",
            ),
            models.CheckConstraint(condition=Q(min_order_quantity__gt=0), name="listing_moq_gt_0"),
            models.CheckConstraint(
                condition=Q(order_increment__gt=0), name="listing_increment_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(lead_time_days__lte=365), name="listing_lead_time_lte_365"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "active", "paused", "sold_out"]),
                name="listing_status_valid",
            ),
            # One live offer per cooperative, product and grade: buyers never see two prices
            # for the same thing from the same seller.
            models.UniqueConstraint(
                fields=["cooperative", "product", "grade"],
                condition=Q(status__in=["active", "sold_out"]),
                name="listing_one_live_per_cooperative_product_grade",
            ),
        ]
        indexes = [models.Index(fields=["status", "-id"])]

    def __str__(self):
        return f"{self.cooperative} · {self.product} · {self.get_grade_display()}"

    @property
    def available_quantity(self):
        return self.stock_on_hand - self.stock_reserved


class PriceTier(models.Model):
    """阶梯价: the unit price once an order line reaches min_quantity."""

    listing = models.ForeignKey(
        Listing, on_delete=models.CASCADE, related_name="tiers", verbose_name=_("listing")
    )
    min_quantity = models.DecimalField(_("from quantity"), **QUANTITY)
    unit_price = models.DecimalField(_("unit price (CNY)"), **MONEY)

    class Meta:
        verbose_name = _("price tier")
        verbose_name_plural = _("price tiers")
        ordering = ["min_quantity"]
        constraints = [
            # Unique thresholds make the tiers a strictly increasing sequence.
            models.UniqueConstraint(
                fields=["listing", "min_quantity"], name="price_tier_unique_threshold"
            ),
            models.CheckConstraint(condition=Q(min_quantity__gt=0), name="price_tier_qty_gt_0"),
            models.CheckConstraint(condition=Q(unit_price__gt=0), name="price_tier_price_gt_0"),
        ]

    def __str__(self):
        return f"≥{self.min_quantity}: ¥{self.unit_price}"


class Lot(models.Model):
    """批次: a harvest batch behind a listing, traceable to the households that supplied it.
    Receiving a lot adds its quantity to the listing's stock."""

    listing = models.ForeignKey(
        Listing, on_delete=models.PROTECT, related_name="lots", verbose_name=_("listing")
    )
    code = models.CharField(_("lot code"), max_length=40)
    harvest_date = models.DateField(_("harvest date"))
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    # How much of the lot pick lists have drawn (first in, first out, or the manager's pick).
    quantity_picked = models.DecimalField(_("quantity picked"), default=0, **QUANTITY)
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    households = models.ManyToManyField(
        Household, through="LotContribution", related_name="lots", verbose_name=_("households")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="lot_quantity_gt_0"),
            models.CheckConstraint(
                condition=Q(harvest_date__gte=EARLIEST_HARVEST), name="lot_harvest_date_from_2000"
            ),
            models.CheckConstraint(
                condition=Q(quantity_picked__gte=0) & Q(quantity_picked__lte=F("quantity")),
                name="lot_picked_within_quantity",
            ),
            # The code is the retry key of lot_receive: the same lot cannot add stock twice.
            models.UniqueConstraint(fields=["listing", "code"], name="lot_code_unique_per_listing"),
        ]

    def __str__(self):
        return self.code


class LotContribution(models.Model):
    """How much of a lot one household supplied: the basis of traceability and, later, of the
    household's share of the payout."""

    lot = models.ForeignKey(
        Lot, on_delete=models.CASCADE, related_name="contributions", verbose_name=_("lot")
    )
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="contributions",
        verbose_name=_("household"),
    )
    quantity = models.DecimalField(_("quantity"), **QUANTITY)

    class Meta:
        verbose_name = _("lot contribution")
        verbose_name_plural = _("lot contributions")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="contribution_quantity_gt_0"),
            models.UniqueConstraint(
                fields=["lot", "household"], name="contribution_one_per_household"
            ),
        ]

    def __str__(self):
        return f"{self.lot} ← {self.household}: {self.quantity}"


class NegotiatedPrice(models.Model):
    """One buyer organisation's own price table for a listing, valid for a date range. It takes
    precedence over the public tiers, and no other buyer sees it."""

    listing = models.ForeignKey(
        Listing,
        on_delete=models.CASCADE,
        related_name="negotiated_prices",
        verbose_name=_("listing"),
    )
    organisation = models.ForeignKey(
        "buyers.BuyerOrganisation",
        on_delete=models.CASCADE,
        related_name="negotiated_prices",
        verbose_name=_("buyer organisation"),
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("negotiated price")
        verbose_name_plural = _("negotiated prices")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gte=F("valid_from")), name="negotiated_price_valid_range"
            ),
        ]
        indexes = [models.Index(fields=["organisation", "listing", "valid_from"])]

    def __str__(self):
        return f"{self.listing} → {self.organisation} ({self.valid_from}–{self.valid_until})"


class NegotiatedPriceTier(models.Model):
    negotiated_price = models.ForeignKey(
        NegotiatedPrice,
        on_delete=models.CASCADE,
        related_name="tiers",
        verbose_name=_("negotiated price"),
    )
    min_quantity = models.DecimalField(_("from quantity"), **QUANTITY)
    unit_price = models.DecimalField(_("unit price (CNY)"), **MONEY)

    class Meta:
        verbose_name = _("negotiated price tier")
        verbose_name_plural = _("negotiated price tiers")
        ordering = ["min_quantity"]
        constraints = [
            models.UniqueConstraint(
                fields=["negotiated_price", "min_quantity"], name="negotiated_tier_unique_threshold"
            ),
            models.CheckConstraint(
                condition=Q(min_quantity__gt=0), name="negotiated_tier_qty_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gt=0), name="negotiated_tier_price_gt_0"
            ),
        ]

    def __str__(self):
        return f"≥{self.min_quantity}: ¥{self.unit_price}"
