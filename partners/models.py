"""Partner systems' webhook endpoints. Deliveries are the outbox's (notices); an endpoint keeps
what belongs to it: where, what it wants, its secret, and whether it still works."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from buyers.models import BuyerOrganisation


class WebhookEndpoint(models.Model):
    """A URL of a buyer organisation's system that is told of its orders' events, signed with
    the endpoint's secret (partners/signing.py)."""

    organisation = models.ForeignKey(
        BuyerOrganisation,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        verbose_name=_("buyer organisation"),
    )
    url = models.CharField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # Event type names (notices.catalog.BUYER_SUBSCRIBABLE). JSON, not an array column: the
    # embedded default runs on SQLite.
    event_types = models.JSONField(_("subscribed event types"), default=list)
    # Shown once (on creation and rotation); needed in clear to sign every delivery.
    secret = models.CharField(_("signing secret"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        constraints = [
            models.CheckConstraint(
                condition=Q(url__startswith="http://") | Q(url__startswith="https://"),
                name="webhook_endpoint_url_http",
            ),
            models.CheckConstraint(
                condition=Q(consecutive_failures__gte=0),
                name="webhook_endpoint_failures_gte_0",
            ),
            # A disabled endpoint says why (its owner reads it before switching it back on).
            models.CheckConstraint(
                condition=Q(is_active=True) | ~Q(disabled_reason=""),
                name="webhook_endpoint_disabled_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(secret=""), name="webhook_endpoint_secret_not_blank"
            ),
        ]
        indexes = [models.Index(fields=["organisation", "is_active"])]

    def __str__(self):
        return self.url
