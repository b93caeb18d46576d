from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notice(models.Model):
    """One message to one recipient over one channel, caused by one event: the outbox row.
    Written in the transaction of the change that causes it, sent after commit by a Celery
    task, swept again if it was never sent. The row is also the delivery log (attempts, the
    last answer's status code and latency) and, for the inbox channel, the message itself."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    event_key = models.CharField(
        _("event key"), max_length=100, help_text=_("The cause, e.g. order_event:42.")
    )
    event_type = models.CharField(_("event type"), max_length=50)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notices",
        verbose_name=_("user"),
    )  # null: a partner system's endpoint (recipient_key webhook:<id>)
    recipient_key = models.CharField(_("recipient"), max_length=100)
    channel = models.CharField(_("channel"), max_length=20)
    language = models.CharField(_("language"), max_length=10, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"), blank=True)
    params = models.JSONField(
        _("template parameters"),
        default=dict,
        blank=True,
        help_text=_("The text's variables, as an SMS template takes them."),
    )
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(
        _("last status code"), null=True, blank=True
    )
    last_latency_ms = models.PositiveIntegerField(_("last latency (ms)"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        constraints = [
            # Each (event, recipient, channel) at most once, however often the cause is seen.
            models.UniqueConstraint(
                fields=["event_key", "recipient_key", "channel"], name="notice_once_per_recipient"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "sent", "failed"]), name="notice_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["email", "sms", "inbox", "webhook"]),
                name="notice_channel_valid",
            ),
            # Sent means it has a time; only a sent notice can have been read.
            models.CheckConstraint(
                condition=Q(status="sent", sent_at__isnull=False) | ~Q(status="sent"),
                name="notice_sent_has_time",
            ),
            models.CheckConstraint(
                condition=Q(read_at__isnull=True) | Q(channel="inbox"),
                name="notice_read_only_inbox",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(channel="webhook"),
                name="notice_person_unless_webhook",
            ),
        ]
        indexes = [
            # The sweep: pending rows by when they are due.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="notice_pending_due",
            ),
            # The inbox: a user's own, newest first, and the unread count.
            models.Index(fields=["user", "-id"], condition=Q(channel="inbox"), name="notice_inbox"),
            models.Index(fields=["status", "-id"], name="notice_by_status"),
        ]

    def __str__(self):
        return f"{self.event_type} → {self.recipient_key} ({self.channel})"
