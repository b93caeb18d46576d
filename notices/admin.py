from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from backend.admin import ViewOnlyAdmin

from . import services
from .models import Notice


@admin.register(Notice)
class NoticeAdmin(ViewOnlyAdmin):
    """The outbox and delivery log. Failed notices can be replayed from here or the API."""

    list_display = [
        "id",
        "event_type",
        "recipient_key",
        "channel",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
        "sent_at",
    ]
    list_filter = ["status", "channel", "event_type"]
    search_fields = ["event_key", "recipient_key"]
    actions = ["replay"]

    @admin.action(description=_("Replay the selected failed notices"))
    def replay(self, request, queryset):
        failed = list(queryset.filter(status=Notice.Status.FAILED))
        for notice in failed:
            services.notice_replay(notice=notice)
        self.message_user(
            request,
            ngettext(
                "%(count)d notice queued again.", "%(count)d notices queued again.", len(failed)
            )
            % {"count": len(failed)},
            messages.SUCCESS,
        )
