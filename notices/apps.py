from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = _("Notices")

    def ready(self):
        from backend import outbox

        from . import channels, events
        from .channels.email import EmailChannel
        from .channels.inbox import InboxChannel
        from .channels.sms import SmsChannel

        for channel in (EmailChannel(), SmsChannel(), InboxChannel()):
            channels.register(channel)
        # Orders, logistics and payments record their changes through backend.outbox; the
        # outbox writes the notices in the same transaction.
        outbox.listen(events.on_recorded)
