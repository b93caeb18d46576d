from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = _("Partner integrations")

    def ready(self):
        # partners sits above notices: it plugs the webhook channel and the partner systems'
        # group into the one outbox; notices never imports partners.
        from notices import catalog, channels, recipients

        from .channel import PartnerSystems, WebhookChannel

        channels.register(WebhookChannel())
        recipients.register_resolver(catalog.PARTNER_SYSTEMS, PartnerSystems())
