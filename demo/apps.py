from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Demo data from Shitun and Nanming. It knows every app, so it sits above them all and
    the shared core (backend/) imports none of them."""

    name = "demo"
    verbose_name = _("Demo data")
