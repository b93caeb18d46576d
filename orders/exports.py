"""Orders as a spreadsheet, one row per line (as purchasing teams reconcile them), built by
backend.exports. Headers and statuses in the request's language; names as stored."""

from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Order


def order_rows(orders: list[Order]) -> list[list]:
    header = [
        _("order"),
        _("placed at"),
        _("order status"),
        _("store"),
        _("fulfilment"),
        _("cooperative"),
        _("fulfilment status"),
        _("listing"),
        _("product"),
        _("quantity ordered"),
        _("quantity confirmed"),
        _("quantity accepted"),
        _("unit"),
        _("unit price (CNY)"),
        _("line total (CNY)"),
        _("order total (CNY)"),
    ]
    rows = [header]
    for order in orders:
        placed_at = timezone.localtime(order.created_at).strftime("%Y-%m-%d %H:%M")
        for fulfilment in order.fulfilments.all():
            for line in fulfilment.lines.all():
                rows.append(
                    [
                        order.pk,
                        placed_at,
                        order.get_status_display(),
                        order.store.name,
                        fulfilment.pk,
                        fulfilment.cooperative.name_zh,
                        fulfilment.get_status_display(),
                        line.listing_id,
                        line.listing.product.name_zh,
                        line.quantity,
                        line.confirmed_quantity,
                        line.accepted_quantity,
                        line.listing.get_unit_display(),
                        line.unit_price,
                        line.line_total,
                        order.total,
                    ]
                )
    return rows
