"""Logistics' files, built by backend.exports: the manifest as CSV and XLSX (the same columns
as the JSON, headers in the page's language), shipments and delivery-note lines (headers in
the request's language)."""

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
