from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MobileConfig(AppConfig):
    """The cooperative manager's phone page (/m/): templates over the same services, access
    rules and selectors as the API, with no rule of its own."""

    name = "mobile"
    verbose_name = _("Manager's phone page")
