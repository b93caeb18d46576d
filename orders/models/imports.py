"""Purchase lists uploaded as spreadsheets: the validated preview, and the orders placing it
made (one per store; the pair is the preview's idempotency key)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from buyers.models import BuyerOrganisation, Store


class PurchaseImport(models.Model):
    """A purchase list as the API read it: each row resolved (listing, cooperative, price,
    line total) or refused with its errors, grouped into the orders placing it would make.
    Placed at most once, before it expires."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("previewed")
        PLACED = "placed", _("placed")

    organisation = models.ForeignKey(
        BuyerOrganisation,
        on_delete=models.PROTECT,
        related_name="purchase_imports",
        verbose_name=_("buyer organisation"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    file_name = models.CharField(_("file name"), max_length=200)
    # Rows and groups as the preview answered them: what the buyer saw is what gets placed.
    rows = models.JSONField(_("rows"))
    groups = models.JSONField(_("orders to place"))
    error_count = models.PositiveIntegerField(_("rows with errors"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PREVIEWED
    )
    expires_at = models.DateTimeField(_("expires at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    placed_at = models.DateTimeField(_("placed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("purchase list")
        verbose_name_plural = _("purchase lists")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="previewed", placed_at__isnull=True)
                | Q(status="placed", placed_at__isnull=False, error_count=0),
                name="purchase_import_placed_once_clean",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "-id"])]

    def __str__(self):
        return f"#{self.pk} {self.file_name}"


class PurchaseImportOrder(models.Model):
    """One order placing a purchase list made: one per store, never two (the backstop if two
    requests place the same preview at once)."""

    purchase_import = models.ForeignKey(
        PurchaseImport,
        on_delete=models.CASCADE,
        related_name="placed_orders",
        verbose_name=_("purchase list"),
    )
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("store")
    )
    order = models.OneToOneField(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="purchase_import_order",
        verbose_name=_("order"),
    )

    class Meta:
        verbose_name = _("order from a purchase list")
        verbose_name_plural = _("orders from purchase lists")
        constraints = [
            models.UniqueConstraint(
                fields=["purchase_import", "store"], name="purchase_import_one_order_per_store"
            ),
        ]

    def __str__(self):
        return f"{self.purchase_import_id}/{self.store_id}: {self.order_id}"
