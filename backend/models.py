from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyKey(models.Model):
    """A POST that created something, remembered under the client's Idempotency-Key so a retry
    gets the original answer instead of a second order (backend/idempotency.py)."""

    # Indexed as the first column of idempotency_key_unique (user, key).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, verbose_name=_("user"), db_index=False
    )
    key = models.CharField(max_length=255, verbose_name=_("key"))
    fingerprint = models.CharField(
        max_length=64, verbose_name=_("fingerprint")
    )  # sha256 of method, path and body
    response_status = models.PositiveSmallIntegerField(verbose_name=_("response status"))
    response_body = models.JSONField(encoder=DjangoJSONEncoder, verbose_name=_("response body"))
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self):
        return self.key
