"""The words offline.js shows (what waits to be sent, what was refused), from gettext in the
page's language: the script itself holds no text a person reads."""

from django import template
from django.utils.html import json_script
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def outbox_strings():
    return json_script(
        {
            "waiting": _("{count} waiting to be sent"),
            "sending": _("Sending…"),
            "sent": _("{count} sent."),
            "kept": _("No signal: kept on this phone, and sent when the network is back."),
            "refused": _("Refused when sent: {what} · {action}"),
            "dismiss": _("Dismiss"),
            "queued": _("Waiting to be sent"),
        },
        "outbox-strings",
    )
