"""Logistics' files, built by backend.exports: the manifest as CSV and XLSX (the same columns
as the JSON, headers in the page's language), shipments and delivery-note lines (headers in
the request's language)."""

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from backend.exports import as_csv, as_xlsx

COLUMNS = [
    ("stop", _("Stop")),
    ("fulfilment", _("Fulfilment")),
    ("order", _("Order")),
    ("cooperative", _("Cooperative")),
    ("buyer", _("Buyer")),
    ("store", _("Store")),
    ("address", _("Address")),
    ("contact_name", _("Contact")),
    ("contact_phone", _("Contact phone")),
    ("package_count", _("Packages")),
    ("weight_kg", _("Weight (kg)")),
    ("tracking_number", _("Tracking number")),
]


def _table(rows: list[dict]) -> list[list]:
    return [
        [str(label) for _key, label in COLUMNS],
        *([row[k] for k, _l in COLUMNS] for row in rows),
    ]


def manifest_csv(rows: list[dict]) -> bytes:
    return as_csv(_table(rows))


def manifest_xlsx(rows: list[dict], title: str) -> bytes:
    return as_xlsx(_table(rows), title)


def shipment_rows(shipments) -> list[list]:
    """One row per shipment, headers in the request's language."""
    rows = [
        [
            gettext("shipment"),
            gettext("fulfilment"),
            gettext("order"),
            gettext("cooperative"),
            gettext("store"),
            gettext("mode"),
            gettext("carrier"),
            gettext("vehicle plate"),
            gettext("driver's name"),
            gettext("driver's phone"),
            gettext("tracking number"),
            gettext("packages"),
            gettext("weight (kg)"),
            gettext("delivery window from"),
            gettext("delivery window until"),
        ]
    ]
    for shipment in shipments:
        fulfilment = shipment.fulfilment
        rows.append(
            [
                shipment.pk,
                fulfilment.pk,
                fulfilment.order_id,
                fulfilment.cooperative.name_zh,
                fulfilment.order.store.name,
                shipment.get_mode_display(),
                shipment.carrier_name,
                shipment.vehicle_plate,
                shipment.driver_name,
                shipment.driver_phone,
                shipment.tracking_number,
                shipment.package_count,
                shipment.weight_kg,
                _local(shipment.window_start),
                _local(shipment.window_end),
            ]
        )
    return rows


def delivery_note_rows(lines: list[dict]) -> list[list]:
    """One row per line of a delivery note and lot it is drawn from (no lot until packed)."""
    rows = [
        [
            gettext("fulfilment"),
            gettext("order"),
            gettext("store"),
            gettext("cooperative"),
            gettext("listing"),
            gettext("product"),
            gettext("lot"),
            gettext("quantity"),
            gettext("unit"),
        ]
    ]
    rows += [
        [
            line["fulfilment"],
            line["order"],
            line["store"],
            line["cooperative"],
            line["listing"],
            line["product"],
            line["lot"],
            line["quantity"],
            line["unit"],
        ]
        for line in lines
    ]
    return rows


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
