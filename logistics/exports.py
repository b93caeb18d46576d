"""The manifest as CSV and XLSX (openpyxl): the same columns as the JSON, headers in the
request's language."""

import csv
import io

from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

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


def _cells(row: dict) -> list:
    return ["" if row[key] is None else row[key] for key, _label in COLUMNS]


def manifest_csv(rows: list[dict]) -> bytes:
    """UTF-8 with a byte-order mark: Excel on Chinese Windows reads it as UTF-8, not GBK."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(label) for _key, label in COLUMNS])
    for row in rows:
        writer.writerow(_cells(row))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def manifest_xlsx(rows: list[dict], title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]  # Excel's limit for a sheet name
    sheet.append([str(label) for _key, label in COLUMNS])
    for row in rows:
        # Text that looks like a formula stays text: a store's name is not a spreadsheet's
        # instruction.
        sheet.append(
            [f"'{c}" if isinstance(c, str) and c[:1] in "=+-@" else c for c in _cells(row)]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
