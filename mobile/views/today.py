"""Today: the fulfilments that wait on the manager, in groups, oldest first."""

from django.utils.translation import gettext as _

from .. import selectors
from ..pages import manager_page, render_page

GROUP_TITLES = {
    "confirm": lambda: _("To confirm"),
    "pack": lambda: _("To pack"),
    "ship": lambda: _("To ship"),
    "delayed": lambda: _("Delayed"),
}


@manager_page
def today(request):
    groups = [
        {"name": name, "title": GROUP_TITLES[name](), "parts": parts}
        for name, parts in selectors.today(user=request.user).items()
    ]
    return render_page(request, "mobile/today.html", {"groups": groups})
